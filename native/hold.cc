// The only file that uses V8's own API: Node-API has no way to keep an ArrayBuffer's memory
// alive once the buffer is detached (transferred to another thread, or by
// ArrayBuffer.prototype.transfer), and V8's backing store is reference counted for that purpose.
// Calling it is safe only in the V8 the addon was compiled against, so anything else (another
// Node major with a prebuilt binary, Electron, Bun) takes the copy path instead.
#include "hold.h"

#include <cstdlib>
#include <cstring>
#include <string>

// Builds from Node-API headers alone (cmake-js's node-api-headers) have no V8 headers: they copy.
#if (defined(__linux__) || defined(__APPLE__)) && __has_include(<v8.h>) && __has_include(<node_version.h>)
#define LRN_CAN_PIN 1
#include <dlfcn.h>
// node_version.h defines its own NAPI_VERSION; the build's (the Node-API level used) stands.
#pragma push_macro("NAPI_VERSION")
#undef NAPI_VERSION
#include <node_version.h>
#undef NAPI_VERSION
#pragma pop_macro("NAPI_VERSION")
#include <v8.h>
#if defined(__ELF__)
// A weak reference: where the running program lacks the function (a runtime that is not Node,
// an old Node), the addon still loads, even with every symbol bound at load (RTLD_NOW,
// LD_BIND_NOW=1); decide() then finds no symbol and copies.
__asm__(".weak _ZN2v811ArrayBuffer15GetBackingStoreEv");
#endif
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

Mode decide(napi_env env) {
#ifdef LRN_CAN_PIN
  const napi_node_version* running = nullptr;
  if (napi_get_node_version(env, &running) != napi_ok || running->major != NODE_MAJOR_VERSION) return Mode::Copy;
  if (version_of(env, "modules") != std::to_string(NODE_MODULE_VERSION)) return Mode::Copy;
  if (!version_of(env, "electron").empty() || !version_of(env, "bun").empty()) return Mode::Copy;
  if (dlsym(RTLD_DEFAULT, "_ZN2v811ArrayBuffer15GetBackingStoreEv") == nullptr) return Mode::Copy;
  return Mode::Pin;
#else
  (void)env;
  (void)version_of;
  return Mode::Copy;
#endif
}

std::shared_ptr<void> pin(napi_value arraybuffer) {
#ifdef LRN_CAN_PIN
  // A napi_value is a v8::Local in the V8 that decide() checked for.
  static_assert(sizeof(v8::Local<v8::ArrayBuffer>) == sizeof(napi_value), "napi_value is a v8::Local");
  v8::Local<v8::ArrayBuffer> buffer;
  std::memcpy(static_cast<void*>(&buffer), &arraybuffer, sizeof arraybuffer);
  return buffer->GetBackingStore();
#else
  (void)arraybuffer;
  return nullptr;
#endif
}

void finalize(napi_env, void* data, void*) { delete static_cast<Instance*>(data); }

}  // namespace

const char* mode_name(Mode m) { return m == Mode::Pin ? "pin" : "copy"; }

Mode mode(napi_env env) {
  static const Mode decided = decide(env);
  return copy_forced() ? Mode::Copy : decided;
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
