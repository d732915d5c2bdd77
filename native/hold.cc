// Pinning goes through the pin shim of the running Node's ABI (native/pin/pin.cc), the only code
// built against V8's own headers: Node-API has no way to keep an ArrayBuffer's memory alive once
// the buffer is detached (transferred to another thread, or by ArrayBuffer.prototype.transfer),
// and V8's backing store is reference counted for that purpose. Calling V8's C++ API is safe only
// in the V8 the shim was compiled against, so the shim is loaded only into Node itself, of the
// ABI and major it reports; anything else (an unknown Node major, Electron, Bun, Deno) copies.
#include "hold.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#if defined(__linux__) || defined(__APPLE__)
#define LRN_CAN_PIN 1
#include <dlfcn.h>
#endif

namespace hold {

namespace {

struct Instance {
  napi_ref resizable_getter = nullptr;  // ArrayBuffer.prototype's `resizable`, if the runtime has it
};

// process.versions[name] as a string, or "" when absent.
std::string version_of(napi_env env, const char* name) {
  napi_value global, process, versions, value;
  char text[64] = "";
  size_t length = 0;
  bool has = false;
  if (napi_get_global(env, &global) != napi_ok || napi_get_named_property(env, global, "process", &process) != napi_ok ||
      napi_get_named_property(env, process, "versions", &versions) != napi_ok ||
      napi_has_named_property(env, versions, name, &has) != napi_ok || !has ||
      napi_get_named_property(env, versions, name, &value) != napi_ok ||
      napi_get_value_string_utf8(env, value, text, sizeof text, &length) != napi_ok) {
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return "";
  }
  return std::string(text, length);
}

// LRN_ASYNC_COPY=1, read at each job so a benchmark can compare both ways in one process.
bool copy_forced() {
  const char* forced = std::getenv("LRN_ASYNC_COPY");
  return forced != nullptr && std::strcmp(forced, "1") == 0;
}

// The loaded shim's functions; set once per process (the library then stays loaded), read by
// every environment (workers load the addon again into the same process).
struct Shim {
  void* (*hold)(napi_value arraybuffer);
  void (*release)(void* owner);
};
std::atomic<const Shim*> loaded_shim{nullptr};

// The runtimes that load Node addons and report a Node version, but whose engine is not the V8
// of that Node (Bun, Deno), or whose V8 is their own build (Electron, NW.js, other Chromium
// embedders). A runtime that hides these still meets the shim's positive check of its V8.
const char* other_runtime(napi_env env) {
  if (!version_of(env, "bun").empty()) return "Bun";
  if (!version_of(env, "deno").empty()) return "Deno";
  if (!version_of(env, "electron").empty()) return "Electron";
  if (!version_of(env, "nw").empty()) return "NW.js";
  if (!version_of(env, "chromium").empty()) return "A Chromium embedder";
  return nullptr;
}

std::shared_ptr<void> pin(napi_value arraybuffer) {
  const Shim* shim = loaded_shim.load(std::memory_order_acquire);
  void* owner = shim == nullptr ? nullptr : shim->hold(arraybuffer);
  if (owner == nullptr) return nullptr;
  return std::shared_ptr<void>(owner, shim->release);
}

void finalize(napi_env, void* data, void*) { delete static_cast<Instance*>(data); }

}  // namespace

const char* mode_name(Mode m) { return m == Mode::Pin ? "pin" : "copy"; }

Mode mode(napi_env) {
  return copy_forced() || loaded_shim.load(std::memory_order_acquire) == nullptr ? Mode::Copy : Mode::Pin;
}

std::string use_pin(napi_env env, const std::string& path) {
#ifdef LRN_CAN_PIN
  if (const char* runtime = other_runtime(env)) {
    return std::string(runtime) + " is not Node: its engine is not the V8 of any Node ABI";
  }
  const std::string modules = version_of(env, "modules");
  const napi_node_version* running = nullptr;
  if (napi_get_node_version(env, &running) != napi_ok || modules.empty() ||
      modules.find_first_not_of("0123456789") != std::string::npos) {
    return "the running Node's ABI is unknown";
  }
  // Only a shim of this ABI by its file name, at an absolute path, is even opened (opening runs
  // a library's initializers).
  const std::string name = "pin-abi" + modules + ".so";
  const size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == std::string::npos || path.compare(slash + 1, std::string::npos, name) != 0) {
    return "the pin shim " + path + " is not " + name + " at an absolute path (this Node's ABI is " + modules + ")";
  }
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* error = dlerror();
    return std::string("the pin shim did not load (") + (error != nullptr ? error : path) + ")";
  }
  const auto symbol = [library](const char* name) { return dlsym(library, name); };
  const auto interface = reinterpret_cast<int (*)()>(symbol("lrn_pin_interface"));
  const auto abi = reinterpret_cast<int (*)()>(symbol("lrn_pin_abi"));
  const auto major = reinterpret_cast<int (*)()>(symbol("lrn_pin_node_major"));
  const auto same_v8 = reinterpret_cast<int (*)()>(symbol("lrn_pin_matches_running_v8"));
  auto* shim = new (std::nothrow) Shim{reinterpret_cast<void* (*)(napi_value)>(symbol("lrn_pin_hold")),
                                       reinterpret_cast<void (*)(void*)>(symbol("lrn_pin_release"))};
  std::string problem;
  if (interface == nullptr || abi == nullptr || major == nullptr || same_v8 == nullptr || shim == nullptr ||
      shim->hold == nullptr || shim->release == nullptr || interface() != 1) {
    problem = "the pin shim " + path + " is not one this addon can use (its functions or their version differ)";
  } else if (std::to_string(abi()) != modules || major() != static_cast<int>(running->major)) {
    problem = "the pin shim " + path + " is for Node " + std::to_string(major()) + " (ABI " + std::to_string(abi()) +
              "), not Node " + std::to_string(running->major) + " (ABI " + modules + ")";
  } else if (same_v8() != 1) {
    problem = "the running engine is not the V8 of Node " + std::to_string(running->major);
  }
  if (!problem.empty()) {
    delete shim;
    dlclose(library);
    return problem;
  }
  // The first shim loaded stays (another environment's, or this one's from before): the library
  // is the same file for the same ABI, and dlopen counts its references.
  const Shim* expected = nullptr;
  if (!loaded_shim.compare_exchange_strong(expected, shim, std::memory_order_acq_rel)) {
    delete shim;
    dlclose(library);
  }
  return "";
#else
  (void)env;
  (void)path;
  (void)other_runtime;
  return "pinning needs Linux or macOS";
#endif
}

napi_status init(napi_env env) {
  auto* instance = new Instance();
  napi_status status = napi_set_instance_data(env, instance, finalize, nullptr);
  if (status != napi_ok) {
    delete instance;
    return status;
  }
  napi_value global, constructor, prototype, object, get_descriptor, descriptor, getter, name;
  napi_valuetype type = napi_undefined;
  status = napi_get_global(env, &global);
  if (status == napi_ok) status = napi_get_named_property(env, global, "ArrayBuffer", &constructor);
  if (status == napi_ok) status = napi_get_named_property(env, constructor, "prototype", &prototype);
  if (status == napi_ok) status = napi_get_named_property(env, global, "Object", &object);
  if (status == napi_ok) status = napi_get_named_property(env, object, "getOwnPropertyDescriptor", &get_descriptor);
  if (status == napi_ok) status = napi_create_string_utf8(env, "resizable", NAPI_AUTO_LENGTH, &name);
  napi_value args[2] = {prototype, name};
  if (status == napi_ok) status = napi_call_function(env, object, get_descriptor, 2, args, &descriptor);
  if (status == napi_ok) status = napi_typeof(env, descriptor, &type);
  if (status != napi_ok || type != napi_object) return status;  // no resizable ArrayBuffers here
  status = napi_get_named_property(env, descriptor, "get", &getter);
  if (status == napi_ok) status = napi_typeof(env, getter, &type);
  if (status != napi_ok || type != napi_function) return status;
  return napi_create_reference(env, getter, 1, &instance->resizable_getter);
}

bool classify(napi_env env, napi_value arraybuffer, Kind* kind, std::shared_ptr<void>* owner) {
  bool ordinary = false;
  if (napi_is_arraybuffer(env, arraybuffer, &ordinary) != napi_ok) return false;
  if (!ordinary) {  // napi_is_arraybuffer is false for a SharedArrayBuffer
    *kind = Kind::Reference;
    return true;
  }
  Instance* instance = nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&instance)) != napi_ok || instance == nullptr) return false;
  bool resizable = false;
  if (instance->resizable_getter != nullptr) {
    napi_value getter, result;
    if (napi_get_reference_value(env, instance->resizable_getter, &getter) != napi_ok ||
        napi_call_function(env, arraybuffer, getter, 0, nullptr, &result) != napi_ok ||
        napi_get_value_bool(env, result, &resizable) != napi_ok) {
      return false;
    }
  }
  if (!resizable && mode(env) == Mode::Pin) {
    *owner = pin(arraybuffer);
    if (*owner != nullptr) {
      *kind = Kind::Pinned;
      return true;
    }
  }
  *kind = Kind::Copied;
  return true;
}

}  // namespace hold
