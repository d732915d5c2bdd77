// The N-API binding: checks and converts arguments, then calls the kernel core. No LRN logic.
//
//   kernels() -> string[]                     supported kernels, best first
//   forward(kernel, x, y, geometry)           y = LRN(x); y may be x itself
//   backward(kernel, x, dy, dx, geometry)     dx = gradient; dx may be x or dy itself
//   forwardAsync / backwardAsync(same)        the same on the libuv thread pool -> Promise<void>
//   allocate(float64, length) -> Float32Array | Float64Array | undefined
//                                             a large output backed by huge pages where the OS
//                                             grants them (undefined: use an ordinary array)
// geometry: [layout, region, batch, channels, before, after, k, a, beta, ...spatial dims], a
// Float64Array so one argument carries every number.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "core/lrn.h"

namespace {

constexpr size_t kGeometryFixed = 9;

// Scratch memory per thread, grown on demand and kept for the next call.
struct Workspace {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> data;
  size_t bytes = 0;

  void* get(size_t need) {
    if (need > bytes) {
      const size_t rounded = (need + 63) / 64 * 64;
      data.reset(std::aligned_alloc(64, rounded));
      bytes = data ? rounded : 0;
    }
    return data.get();
  }
};
thread_local Workspace workspace;

struct Array {
  napi_typedarray_type type;
  void* data;
  size_t length;
  size_t bytes() const { return length * (type == napi_float32_array ? 4 : 8); }
};

// One napi_get_typedarray_info per array (its data pointer includes the view's byteOffset): the
// wrapper classes ask again for each property, and a small call is mostly this overhead.
bool typed_array(const Napi::Value& v, Array* out) {
  bool is = false;
  if (napi_is_typedarray(v.Env(), v, &is) != napi_ok || !is) return false;
  return napi_get_typedarray_info(v.Env(), v, &out->type, &out->length, &out->data, nullptr, nullptr) == napi_ok;
}

bool float_array(const Napi::Value& v, Array* out) {
  return typed_array(v, out) && (out->type == napi_float32_array || out->type == napi_float64_array);
}

// The spatial dimensions, without a heap allocation up to eight of them.
class Dims {
 public:
  void clear() {
    n_ = 0;
    large_.clear();
  }
  void push_back(int64_t d) {
    if (n_ < kSmall) small_[n_] = d;
    else if (n_ == kSmall) large_.assign(small_, small_ + kSmall), large_.push_back(d);
    else large_.push_back(d);
    ++n_;
  }
  const int64_t* data() const { return n_ <= kSmall ? small_ : large_.data(); }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + n_; }

 private:
  static constexpr size_t kSmall = 8;
  int64_t small_[kSmall] = {};
  std::vector<int64_t> large_;
  size_t n_ = 0;
};

bool partly_overlap(const Array& a, const Array& b) {
  if (a.data == b.data || a.length == 0 || b.length == 0) return false;
  const auto a0 = reinterpret_cast<uintptr_t>(a.data), b0 = reinterpret_cast<uintptr_t>(b.data);
  return a0 < b0 + b.bytes() && b0 < a0 + a.bytes();
}

bool whole(double v) { return std::isfinite(v) && v >= 0 && v == std::floor(v) && v <= 9007199254740991.0; }

// Reads the geometry into `p` (and `dims`), checking every number and that the shape's element
// count, computed without overflow, equals `length`. Returns an error message or nullptr.
const char* read_geometry(const Napi::Value& v, size_t length, lrn::Params* p, Dims* dims) {
  Array g;
  if (!typed_array(v, &g) || g.type != napi_float64_array) return "geometry must be a Float64Array";
  const size_t n = g.length;
  if (n < kGeometryFixed) return "geometry is too short";
  const double* d = static_cast<const double*>(g.data);
  if ((d[0] != 0 && d[0] != 1) || (d[1] != 0 && d[1] != 1)) return "layout and region must be 0 or 1";
  for (size_t i : {2, 3, 4, 5}) {
    if (!whole(d[i])) return "batch, channels and window offsets must be non-negative integers";
  }
  for (size_t i : {6, 7, 8}) {
    if (!std::isfinite(d[i]) || d[i] < 0) return "k, a and beta must be finite and >= 0";
  }
  dims->clear();
  for (size_t i = kGeometryFixed; i < n; ++i) {
    if (!whole(d[i])) return "spatial dimensions must be non-negative integers";
    dims->push_back(static_cast<int64_t>(d[i]));
  }
  p->layout = d[0] == 0 ? lrn::Layout::NCHW : lrn::Layout::NHWC;
  p->region = d[1] == 0 ? lrn::Region::AcrossChannels : lrn::Region::WithinChannel;
  p->batch = static_cast<int64_t>(d[2]);
  p->channels = static_cast<int64_t>(d[3]);
  p->before = static_cast<int64_t>(d[4]);
  p->after = static_cast<int64_t>(d[5]);
  p->k = d[6];
  p->a = d[7];
  p->beta = d[8];
  p->spatial = dims->data();
  p->spatial_rank = static_cast<int>(dims->size());
  if (p->region == lrn::Region::WithinChannel && dims->empty()) return "within-channel LRN needs a spatial axis";
  // Element count without overflow: once every factor is >= 1 the product only grows, so stop
  // as soon as it passes `length`.
  uint64_t spatial = 1, total = 1;
  bool zero = p->batch == 0 || p->channels == 0;
  for (int64_t dim : *dims) zero = zero || dim == 0;
  if (zero) {
    total = 0;
    spatial = 0;
  } else {
    for (int64_t dim : *dims) {
      if (spatial > length) break;
      spatial *= static_cast<uint64_t>(dim);
    }
    total = spatial;
    for (int64_t dim : {p->batch, p->channels}) {
      if (total > length) break;
      total *= static_cast<uint64_t>(dim);
    }
  }
  if (total != length) return "the shape does not match the array length";
  p->spatial_size = static_cast<int64_t>(spatial);
  if (zero) p->batch = 0;  // nothing to compute; keeps length() free of overflow
  return nullptr;
}

Napi::Value Throw(Napi::Env env, bool range, const char* what) {
  const std::string message = std::string("local-response-norm addon: ") + what;
  if (range) Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  else Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

const lrn::Kernel* kernel_arg(const Napi::CallbackInfo& info) {
  char name[32];
  size_t length = 0;
  if (napi_get_value_string_utf8(info.Env(), info[0], name, sizeof name, &length) != napi_ok) return nullptr;
  return length + 1 < sizeof name ? lrn::find_kernel(name) : nullptr;
}

Napi::Value Kernels(const Napi::CallbackInfo& info) {
  size_t count = 0;
  const lrn::Kernel* const* all = lrn::all_kernels(&count);
  Napi::Array names = Napi::Array::New(info.Env());
  uint32_t at = 0;
  for (size_t i = 0; i < count; ++i) {
    if (all[i]->supported()) names.Set(at++, Napi::String::New(info.Env(), all[i]->name));
  }
  return names;
}

// One checked call: everything the kernel needs, with no reference to JavaScript values.
struct Job {
  const lrn::Kernel* kernel = nullptr;
  bool backward = false;
  Array a[3];
  lrn::Params p;
  Dims dims;
  size_t work_bytes = 0;

  void run() {
    if (p.length() == 0) return;
    void* work = workspace.get(work_bytes);
    if (work == nullptr) std::abort();  // checked by reserve() before the job starts
    if (a[0].type == napi_float32_array) {
      const auto* x = static_cast<const float*>(a[0].data);
      if (backward) kernel->backward_f32(p, x, static_cast<const float*>(a[1].data), static_cast<float*>(a[2].data), work);
      else kernel->forward_f32(p, x, static_cast<float*>(a[1].data), work);
    } else {
      const auto* x = static_cast<const double*>(a[0].data);
      if (backward) kernel->backward_f64(p, x, static_cast<const double*>(a[1].data), static_cast<double*>(a[2].data), work);
      else kernel->forward_f64(p, x, static_cast<double*>(a[1].data), work);
    }
  }
};

// Checks the arguments of forward(kernel, x, y, geometry) / backward(kernel, x, dy, dx, geometry)
// into `job`; on a bad argument throws the JavaScript error and returns false.
bool prepare(const Napi::CallbackInfo& info, bool backward, Job* job) {
  const Napi::Env env = info.Env();
  const size_t arrays = backward ? 3 : 2;
  job->backward = backward;
  if (info.Length() != arrays + 2) return Throw(env, false, "wrong number of arguments"), false;
  job->kernel = kernel_arg(info);
  if (job->kernel == nullptr) return Throw(env, true, "unknown or unsupported kernel"), false;
  Array* a = job->a;
  for (size_t i = 0; i < arrays; ++i) {
    if (!float_array(info[1 + i], &a[i])) return Throw(env, false, "arrays must be Float32Array or Float64Array"), false;
    if (a[i].type != a[0].type) return Throw(env, false, "arrays must have the same element type"), false;
    if (a[i].length != a[0].length) return Throw(env, true, "arrays must have the same length"), false;
  }
  const Array& out = a[arrays - 1];
  for (size_t i = 0; i + 1 < arrays; ++i) {
    if (partly_overlap(out, a[i])) return Throw(env, true, "the output partly overlaps an input"), false;
  }
  if (const char* error = read_geometry(info[1 + arrays], a[0].length, &job->p, &job->dims)) {
    return Throw(env, true, error), false;
  }
  job->p.spatial = job->dims.data();
  job->work_bytes = job->p.length() > 0 ? job->kernel->workspace_bytes(job->p) : 0;
  return true;
}

Napi::Value Run(const Napi::CallbackInfo& info, bool backward) {
  Job job;
  if (!prepare(info, backward, &job)) return info.Env().Undefined();
  if (job.p.length() > 0 && workspace.get(job.work_bytes) == nullptr) {
    return Throw(info.Env(), true, "out of memory for the kernel's work space");
  }
  job.run();
  return info.Env().Undefined();
}

Napi::Value Forward(const Napi::CallbackInfo& info) { return Run(info, false); }
Napi::Value Backward(const Napi::CallbackInfo& info) { return Run(info, true); }

// The same job on a libuv pool thread. References to the arrays keep their memory alive until
// the promise settles; Execute never touches JavaScript.
class Worker : public Napi::AsyncWorker {
 public:
  Worker(Napi::Env env, Job job, const Napi::CallbackInfo& info, size_t arrays)
      : Napi::AsyncWorker(env, "local-response-norm"), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {
    job_.p.spatial = job_.dims.data();
    for (size_t i = 0; i < arrays; ++i) keep_[i] = Napi::Persistent(info[1 + i].As<Napi::Object>());
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    if (job_.p.length() > 0 && workspace.get(job_.work_bytes) == nullptr) {
      SetError("local-response-norm addon: out of memory for the kernel's work space");
      return;
    }
    job_.run();
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(Napi::RangeError::New(Env(), e.Message()).Value()); }

 private:
  Job job_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference keep_[3];
};

Napi::Value RunAsync(const Napi::CallbackInfo& info, bool backward) {
  Job job;
  if (!prepare(info, backward, &job)) return info.Env().Undefined();
  auto* worker = new Worker(info.Env(), std::move(job), info, backward ? 3 : 2);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value ForwardAsync(const Napi::CallbackInfo& info) { return RunAsync(info, false); }
Napi::Value BackwardAsync(const Napi::CallbackInfo& info) { return RunAsync(info, true); }

#if defined(__linux__)
// A large new output pays for its first touch page by page (on some VMs ~12 us per 4 KiB page,
// far more than computing into it). Memory from mmap, aligned to 2 MiB and marked MADV_HUGEPAGE,
// is faulted in 2 MiB at a time where transparent huge pages are granted on madvise. When an
// array is collected its mapping goes to a small pool, already faulted in, for the next output
// of about its size; every element of a reused mapping is overwritten before it is returned.
struct Mapping {
  void* base;
  size_t bytes;
};

constexpr size_t kHuge = size_t{2} << 20;
constexpr size_t kPoolBytes = size_t{256} << 20;  // most memory the pool keeps mapped
std::mutex pool_mutex;
std::vector<Mapping> pool;
size_t pooled_bytes = 0;

void release(Napi::Env env, void*, Mapping* m) {
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(m->bytes));
  {
    std::lock_guard<std::mutex> lock(pool_mutex);
    if (pooled_bytes + m->bytes <= kPoolBytes) {
      pool.push_back(*m);
      pooled_bytes += m->bytes;
      delete m;
      return;
    }
  }
  munmap(m->base, m->bytes);
  delete m;
}

// A mapping of `mapped` bytes or a little more: from the pool when one fits, else new.
Mapping take(size_t mapped) {
  {
    std::lock_guard<std::mutex> lock(pool_mutex);
    for (size_t i = 0; i < pool.size(); ++i) {
      if (pool[i].bytes >= mapped && pool[i].bytes <= mapped + mapped / 2) {
        const Mapping m = pool[i];
        pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(i));
        pooled_bytes -= m.bytes;
        return m;
      }
    }
  }
  void* base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return {nullptr, 0};
  auto* start = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(base) + kHuge - 1) & ~(kHuge - 1));
  madvise(start, mapped - static_cast<size_t>(start - static_cast<unsigned char*>(base)), MADV_HUGEPAGE);
  return {base, mapped};
}

Napi::Value Allocate(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsBoolean() || !info[1].IsNumber()) return Throw(env, false, "allocate(float64, length)");
  const bool f64 = info[0].As<Napi::Boolean>().Value();
  const double length = info[1].As<Napi::Number>().DoubleValue();
  const size_t element = f64 ? 8 : 4;
  if (!whole(length) || length < 1 || length > static_cast<double>(SIZE_MAX / element) - (4 << 20)) {
    return Throw(env, true, "allocate: length out of range");
  }
  const size_t bytes = static_cast<size_t>(length) * element;
  const Mapping m = take((bytes + kHuge - 1) / kHuge * kHuge + kHuge);
  if (m.base == nullptr) return env.Undefined();
  auto* start = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(m.base) + kHuge - 1) & ~(kHuge - 1));
  auto* mapping = new Mapping(m);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, start, bytes, release, mapping);
  if (env.IsExceptionPending()) {  // a runtime that refuses external memory: use an ordinary array
    env.GetAndClearPendingException();
    munmap(m.base, m.bytes);
    delete mapping;
    return env.Undefined();
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(m.bytes));
  if (f64) return Napi::Float64Array::New(env, static_cast<size_t>(length), buffer, 0);
  return Napi::Float32Array::New(env, static_cast<size_t>(length), buffer, 0);
}
#else
Napi::Value Allocate(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }
#endif

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("kernels", Napi::Function::New(env, Kernels, "kernels"));
  exports.Set("forward", Napi::Function::New(env, Forward, "forward"));
  exports.Set("backward", Napi::Function::New(env, Backward, "backward"));
  exports.Set("forwardAsync", Napi::Function::New(env, ForwardAsync, "forwardAsync"));
  exports.Set("backwardAsync", Napi::Function::New(env, BackwardAsync, "backwardAsync"));
  exports.Set("allocate", Napi::Function::New(env, Allocate, "allocate"));
  exports.Set("best", Napi::String::New(env, lrn::best_kernel()->name));
  return exports;
}

}  // namespace

NODE_API_MODULE(local_response_norm, Init)
