// The N-API binding: checks and converts arguments, then calls the kernel core. No LRN logic.
//
//   kernels() -> string[]                     supported kernels, best first
//   forward(kernel, x, y, geometry)           y = LRN(x); y may be x itself
//   backward(kernel, x, dy, dx, geometry)     dx = gradient; dx may be x or dy itself
//   forwardAsync / backwardAsync(same)        the same on the libuv thread pool -> Promise<void>
//   hugePages(array) -> boolean               huge-page hint for a new large output (allocate.h)
//   usePin(path) -> reason                    loads the pin shim for this Node's ABI (hold.h); '' when it pins
//   asyncMemory() -> 'pin' | 'copy'           how async jobs keep their arrays (hold.h)
//   testGate(closed) -> jobs waiting           with LRN_TEST_HOOKS=1 at load only (test_gate.h)
//   testCopies() -> blocks made for copies     with LRN_TEST_HOOKS=1 at load only (copies.h)
// geometry: a Float64Array, see geometry.h. Every check here holds whatever JavaScript passes:
// the TypeScript layer checks first and names the user's arguments; these messages name the
// binding's own.
#include <node_api.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "allocate.h"
#include "copies.h"
#include "core/lrn.h"
#include "geometry.h"
#include "hold.h"
#include "test_gate.h"

namespace {

// Scratch memory per thread, grown on demand and kept for the next call unless it is large.
struct Workspace {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  static constexpr size_t kKeptBytes = size_t{64} << 20;
  std::unique_ptr<void, Free> data;
  size_t bytes = 0;

  void* get(size_t need) {
    if (need > bytes) {
      const size_t rounded = (need + 63) / 64 * 64;
      data.reset(rounded >= need ? std::aligned_alloc(64, rounded) : nullptr);
      bytes = data ? rounded : 0;
    }
    return data.get();
  }
  void trim() {
    if (bytes > kKeptBytes) data.reset(), bytes = 0;
  }
};
thread_local Workspace workspace;

const char* const kArrayNames[2][3] = {{"x", "y"}, {"x", "dy", "dx"}};

struct Array {
  napi_typedarray_type type;
  void* data;
  size_t length;
  napi_value buffer;
  size_t bytes() const { return length * (type == napi_float32_array ? 4 : 8); }
};

napi_value undefined(napi_env env) {
  napi_value u = nullptr;
  napi_get_undefined(env, &u);
  return u;
}

napi_value throw_error(napi_env env, bool range, const std::string& message) {
  if (range) napi_throw_range_error(env, nullptr, message.c_str());
  else napi_throw_type_error(env, nullptr, message.c_str());
  return nullptr;
}

bool float_array(napi_env env, napi_value v, Array* out) {
  bool is = false;
  size_t offset = 0;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  if (napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &out->buffer, &offset) != napi_ok) return false;
  return out->type == napi_float32_array || out->type == napi_float64_array;
}

// True when two arrays share memory without being exactly the same memory.
bool partly_overlap(const Array& a, const Array& b) {
  if (a.data == b.data || a.length == 0 || b.length == 0) return false;
  const auto a0 = reinterpret_cast<uintptr_t>(a.data), b0 = reinterpret_cast<uintptr_t>(b.data);
  return a0 < b0 + b.bytes() && b0 < a0 + a.bytes();
}

// The kernel argument: a string naming a kernel this CPU supports, matched exactly.
const lrn::Kernel* kernel_arg(napi_env env, const char* fn, napi_value v) {
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_string) {
    return throw_error(env, false, std::string(fn) + ": expected the kernel name as a string"), nullptr;
  }
  char name[32];
  size_t length = 0;
  if (napi_get_value_string_utf8(env, v, name, sizeof name, &length) != napi_ok) return nullptr;
  const lrn::Kernel* kernel = length + 1 < sizeof name && std::strlen(name) == length ? lrn::find_kernel(name) : nullptr;
  if (kernel == nullptr) throw_error(env, true, std::string(fn) + ": expected a kernel name from kernels()");
  return kernel;
}

// One checked call: everything the kernel needs, with no reference to JavaScript values.
struct Job {
  const lrn::Kernel* kernel = nullptr;
  bool backward = false;
  size_t arrays = 2;
  Array a[3];
  lrn::Params p;
  lrn::Dims dims;
  size_t work_bytes = 0;

  // Runs the kernel over `data` (each array's memory, in the order x, y or x, dy, dx).
  bool run(void* const data[3]) {
    if (p.length() == 0) return true;
    void* work = workspace.get(work_bytes);
    if (work == nullptr) return false;
    if (a[0].type == napi_float32_array) {
      const auto* x = static_cast<const float*>(data[0]);
      if (backward) kernel->backward_f32(p, x, static_cast<const float*>(data[1]), static_cast<float*>(data[2]), work);
      else kernel->forward_f32(p, x, static_cast<float*>(data[1]), work);
    } else {
      const auto* x = static_cast<const double*>(data[0]);
      if (backward) kernel->backward_f64(p, x, static_cast<const double*>(data[1]), static_cast<double*>(data[2]), work);
      else kernel->forward_f64(p, x, static_cast<double*>(data[1]), work);
    }
    workspace.trim();
    return true;
  }
};

// Checks (kernel, arrays..., geometry) into `job`; on a bad argument throws and returns false.
bool prepare(napi_env env, napi_callback_info info, const char* fn, bool backward, Job* job) {
  napi_value args[6];
  size_t argc = 6;
  if (napi_get_cb_info(env, info, &argc, args, nullptr, nullptr) != napi_ok) return false;
  job->backward = backward;
  job->arrays = backward ? 3 : 2;
  const size_t arrays = job->arrays;
  if (argc != arrays + 2) return throw_error(env, false, std::string(fn) + ": expected " + std::to_string(arrays + 2) + " arguments"), false;
  job->kernel = kernel_arg(env, fn, args[0]);
  if (job->kernel == nullptr) return false;
  Array* a = job->a;
  const char* const* names = kArrayNames[backward];
  for (size_t i = 0; i < arrays; ++i) {
    const std::string what = std::string(fn) + ": expected " + names[i];
    if (!float_array(env, args[1 + i], &a[i])) return throw_error(env, false, what + " to be a Float32Array or Float64Array"), false;
    if (a[i].type != a[0].type) return throw_error(env, false, what + " to have the element type of x"), false;
    if (a[i].length != a[0].length) return throw_error(env, true, what + " to have the length of x"), false;
  }
  const Array& out = a[arrays - 1];
  for (size_t i = 0; i + 1 < arrays; ++i) {
    if (partly_overlap(out, a[i])) {
      return throw_error(env, true, std::string(fn) + ": expected " + names[arrays - 1] + " to be " + names[i] + " itself or memory apart from it, but it partly overlaps it"), false;
    }
  }
  Array g;
  if (!float_array(env, args[1 + arrays], &g) || g.type != napi_float64_array) {
    return throw_error(env, false, std::string(fn) + ": expected geometry to be a Float64Array"), false;
  }
  if (const char* error = lrn::read_geometry(static_cast<const double*>(g.data), g.length, a[0].length, &job->p, &job->dims)) {
    return throw_error(env, true, std::string(fn) + ": " + error), false;
  }
  job->work_bytes = job->p.length() > 0 ? job->kernel->workspace_bytes(job->p) : 0;
  return true;
}

constexpr char kNoWorkspace[] = "out of memory for the kernel's work space";

napi_value Run(napi_env env, napi_callback_info info, const char* fn, bool backward) {
  Job job;
  if (!prepare(env, info, fn, backward, &job)) return nullptr;
  void* const data[3] = {job.a[0].data, job.a[1].data, job.a[2].data};
  if (!job.run(data)) return throw_error(env, true, std::string(fn) + ": " + kNoWorkspace);
  return undefined(env);
}

napi_value Forward(napi_env env, napi_callback_info info) { return Run(env, info, "forward", false); }
napi_value Backward(napi_env env, napi_callback_info info) { return Run(env, info, "backward", true); }

// The same job on a libuv pool thread. Each array's memory is held (hold.h) until the job ends:
// the pool thread never touches memory that JavaScript can free. Outputs held as copies are
// written back at completion, if the array is still attached; nothing settles or throws into an
// environment that is shutting down (a terminated worker).
class AsyncJob {
 public:
  static napi_value Start(napi_env env, napi_callback_info info, const char* fn, bool backward);

 private:
  struct Slot {
    napi_ref array = nullptr;
    hold::Kind kind = hold::Kind::Reference;
    std::shared_ptr<void> owner;  // the pinned backing store, or the copy
    void* user = nullptr;         // the array's memory when the job started
    void* data = nullptr;         // where the kernel reads or writes
    size_t bytes = 0;
  };

  bool hold_arrays(napi_env env);
  void settle(napi_env env, napi_status status);
  void release(napi_env env);
  static void Execute(napi_env, void* data) {
    auto* self = static_cast<AsyncJob*>(data);
    test_gate::pass();
    self->ok_ = self->job_.run(self->data_);
  }
  static void Complete(napi_env env, napi_status status, void* data);

  Job job_;
  Slot slots_[3];
  void* data_[3] = {};
  bool ok_ = false;
  napi_deferred deferred_ = nullptr;
  napi_async_work work_ = nullptr;
};

bool AsyncJob::hold_arrays(napi_env env) {
  const size_t n = job_.arrays;
  for (size_t i = 0; i < n; ++i) {
    Slot& s = slots_[i];
    s.user = job_.a[i].data;
    s.bytes = job_.a[i].bytes();
    if (!hold::classify(env, job_.a[i].buffer, &s.kind, &s.owner)) return false;
    s.data = s.user;
  }
  for (size_t i = 0; i < n; ++i) {
    Slot& s = slots_[i];
    if (s.kind != hold::Kind::Copied || s.bytes == 0) continue;
    const bool output = i + 1 == n;
    const Slot* same = nullptr;  // in place: the output shares the input's copy
    for (size_t j = 0; output && j < i; ++j) {
      if (slots_[j].user == s.user) same = &slots_[j];
    }
    if (same != nullptr && same->kind == hold::Kind::Copied) {
      s.owner = same->owner;
    } else {
      // Not counted as the runtime's external memory: it returns to the cache when the job
      // ends, whatever the garbage collector does, and counting it made every large copied call
      // start a full collection (docs/async-memory.md, "Cost").
      s.owner = copies::acquire(s.bytes);
      if (s.owner == nullptr) return false;
      if (!output) std::memcpy(s.owner.get(), s.user, s.bytes);
    }
    s.data = s.owner.get();
  }
  for (size_t i = 0; i < n; ++i) data_[i] = slots_[i].data;
  return true;
}

napi_value AsyncJob::Start(napi_env env, napi_callback_info info, const char* fn, bool backward) {
  auto* self = new (std::nothrow) AsyncJob();
  if (self == nullptr) return throw_error(env, true, std::string(fn) + ": out of memory");
  struct Release {
    napi_env env;
    void operator()(AsyncJob* job) const { job->release(env), delete job; }
  };
  std::unique_ptr<AsyncJob, Release> owned(self, Release{env});
  if (!prepare(env, info, fn, backward, &self->job_)) return nullptr;
  napi_value args[6];
  size_t argc = 6;
  if (napi_get_cb_info(env, info, &argc, args, nullptr, nullptr) != napi_ok) return nullptr;
  for (size_t i = 0; i < self->job_.arrays; ++i) {
    if (napi_create_reference(env, args[1 + i], 1, &self->slots_[i].array) != napi_ok) return nullptr;
  }
  if (!self->hold_arrays(env)) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    return pending ? nullptr : throw_error(env, true, std::string(fn) + ": out of memory for copies of the arrays");
  }
  napi_value promise, name;
  if (napi_create_promise(env, &self->deferred_, &promise) != napi_ok ||
      napi_create_string_utf8(env, "local-response-norm", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, nullptr, name, Execute, Complete, self, &self->work_) != napi_ok ||
      napi_queue_async_work(env, self->work_) != napi_ok) {
    return nullptr;  // the deferred, if made, is dropped with its promise
  }
  owned.release();
  return promise;
}

// On the main thread after Execute, or with napi_cancelled when the environment is going away.
void AsyncJob::Complete(napi_env env, napi_status status, void* data) {
  auto* self = static_cast<AsyncJob*>(data);
  self->settle(env, status);
  self->release(env);
  delete self;
}

// Drops the references and the work item.
void AsyncJob::release(napi_env env) {
  for (Slot& s : slots_) {
    if (s.array != nullptr) napi_delete_reference(env, s.array);
  }
  if (work_ != nullptr) napi_delete_async_work(env, work_);
}

// Writes copied outputs back and settles the promise. Every failure of a call into the runtime
// (an environment shutting down) just leaves the promise unsettled; nothing is thrown.
void AsyncJob::settle(napi_env env, napi_status status) {
  if (status != napi_ok) return;
  const char* error = ok_ ? nullptr : kNoWorkspace;
  const char* code = ok_ ? nullptr : "ERR_LRN_OUT_OF_MEMORY";
  Slot& out = slots_[job_.arrays - 1];
  Array now{};
  napi_value array;
  size_t offset = 0;
  if (error == nullptr && out.bytes > 0) {
    if (napi_get_reference_value(env, out.array, &array) != napi_ok ||
        napi_get_typedarray_info(env, array, &now.type, &now.length, &now.data, &now.buffer, &offset) != napi_ok) {
      return;
    }
    now.type = job_.a[0].type;
    if (now.data != out.user || now.bytes() != out.bytes) {
      error = "the output array was detached or resized while the job ran";
      code = "ERR_LRN_OUTPUT_DETACHED";
    } else if (out.kind == hold::Kind::Copied) {
      std::memcpy(out.user, out.data, out.bytes);
    }
  }
  napi_value result;
  if (error == nullptr) {
    if (napi_get_undefined(env, &result) == napi_ok) napi_resolve_deferred(env, deferred_, result);
    return;
  }
  napi_value message, code_value;
  if (napi_create_string_utf8(env, error, NAPI_AUTO_LENGTH, &message) == napi_ok &&
      napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) == napi_ok &&
      napi_create_error(env, code_value, message, &result) == napi_ok) {
    napi_reject_deferred(env, deferred_, result);
  }
}

napi_value ForwardAsync(napi_env env, napi_callback_info info) { return AsyncJob::Start(env, info, "forwardAsync", false); }
napi_value BackwardAsync(napi_env env, napi_callback_info info) { return AsyncJob::Start(env, info, "backwardAsync", true); }

napi_value Kernels(napi_env env, napi_callback_info) {
  size_t count = 0;
  const lrn::Kernel* const* all = lrn::all_kernels(&count);
  napi_value names, name;
  if (napi_create_array(env, &names) != napi_ok) return nullptr;
  uint32_t at = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!all[i]->supported()) continue;
    if (napi_create_string_utf8(env, all[i]->name, NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_set_element(env, names, at++, name) != napi_ok) {
      return nullptr;
    }
  }
  return names;
}

// usePin(path): loads the pin shim at path (hold::use_pin); returns "" when lrnAsync pins from
// now on, else why it copies.
napi_value UsePin(napi_env env, napi_callback_info info) {
  napi_value arg, result;
  size_t argc = 1, length = 0;
  if (napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr) != napi_ok) return nullptr;
  char path[4096];
  if (argc < 1 || napi_get_value_string_utf8(env, arg, path, sizeof path, &length) != napi_ok || length + 1 >= sizeof path) {
    return throw_error(env, false, "usePin: expected the path of a pin shim");
  }
  const std::string reason = hold::use_pin(env, std::string(path, length));
  if (napi_create_string_utf8(env, reason.c_str(), reason.size(), &result) != napi_ok) return nullptr;
  return result;
}

// testCopies() -> blocks allocated new for async copies so far (with LRN_TEST_HOOKS=1 only).
napi_value TestCopies(napi_env env, napi_callback_info) {
  napi_value result;
  return napi_create_double(env, static_cast<double>(copies::fresh_blocks()), &result) == napi_ok ? result : nullptr;
}

// asyncMemory(): how the next async job keeps ordinary ArrayBuffers, 'pin' or 'copy'.
napi_value AsyncMemory(napi_env env, napi_callback_info) {
  napi_value result;
  if (napi_create_string_utf8(env, hold::mode_name(hold::mode(env)), NAPI_AUTO_LENGTH, &result) != napi_ok) return nullptr;
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  if (hold::init(env) != napi_ok) return nullptr;
  const struct {
    const char* name;
    napi_callback fn;
  } functions[] = {{"kernels", Kernels},           {"forward", Forward},   {"backward", Backward},
                   {"forwardAsync", ForwardAsync}, {"backwardAsync", BackwardAsync}, {"hugePages", allocate::huge_pages},
                   {"usePin", UsePin},             {"asyncMemory", AsyncMemory}};
  for (const auto& f : functions) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &fn) != napi_ok ||
        napi_set_named_property(env, exports, f.name, fn) != napi_ok) {
      return nullptr;
    }
  }
  if (test_gate::enabled()) {
    napi_value fn, copies_fn;
    if (napi_create_function(env, "testGate", NAPI_AUTO_LENGTH, test_gate::js, nullptr, &fn) != napi_ok ||
        napi_set_named_property(env, exports, "testGate", fn) != napi_ok ||
        napi_create_function(env, "testCopies", NAPI_AUTO_LENGTH, TestCopies, nullptr, &copies_fn) != napi_ok ||
        napi_set_named_property(env, exports, "testCopies", copies_fn) != napi_ok) {
      return nullptr;
    }
  }
  napi_value best;
  if (napi_create_string_utf8(env, lrn::best_kernel()->name, NAPI_AUTO_LENGTH, &best) != napi_ok ||
      napi_set_named_property(env, exports, "best", best) != napi_ok) {
    return nullptr;
  }
  return exports;
}

}  // namespace

NAPI_MODULE(local_response_norm, Init)
