// The one part of the addon built against a Node major's own V8 headers, once per Node ABI
// (process.versions.modules): it holds an ordinary ArrayBuffer's backing store, which Node-API
// cannot, so that lrnAsync needs no copies (docs/async-memory.md). A plain shared library with
// a C interface, built by scripts/build-pin.js; native/hold.cc loads the one for the running
// Node's ABI, and only on Node itself. Its V8 symbols resolve against the running node.
#include <js_native_api_types.h>
#include <node_version.h>
#include <v8.h>

#include <cstring>
#include <memory>
#include <new>

#define LRN_PIN_EXPORT extern "C" __attribute__((visibility("default")))

// The Node ABI and major this was compiled for: the loader refuses any other.
LRN_PIN_EXPORT int lrn_pin_abi() { return NODE_MODULE_VERSION; }
LRN_PIN_EXPORT int lrn_pin_node_major() { return NODE_MAJOR_VERSION; }

// A new owner of the backing store of `arraybuffer` (a napi_value of an ordinary ArrayBuffer,
// which in Node is a v8::Local), or null where memory for the owner ran out.
LRN_PIN_EXPORT void* lrn_pin_hold(napi_value arraybuffer) {
  static_assert(sizeof(v8::Local<v8::ArrayBuffer>) == sizeof(napi_value), "napi_value is a v8::Local");
  v8::Local<v8::ArrayBuffer> buffer;
  std::memcpy(static_cast<void*>(&buffer), &arraybuffer, sizeof arraybuffer);
  return new (std::nothrow) std::shared_ptr<v8::BackingStore>(buffer->GetBackingStore());
}

// Drops an owner from lrn_pin_hold (from any thread: the reference count is atomic).
LRN_PIN_EXPORT void lrn_pin_release(void* owner) { delete static_cast<std::shared_ptr<v8::BackingStore>*>(owner); }
