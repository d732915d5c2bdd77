// The one part of the addon built against a Node major's own V8 headers, once per Node ABI
// (process.versions.modules): it holds an ordinary ArrayBuffer's backing store, which Node-API
// cannot, so that lrnAsync needs no copies (docs/async-memory.md). A plain shared library with
// a C interface, built by scripts/build-pin.js; native/hold.cc loads the one for the running
// Node's ABI, and only on Node itself. Its V8 symbols resolve against the running node.
#include <js_native_api_types.h>
#include <node_version.h>
#include <v8.h>
#include <v8-version.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>

// std::shared_ptr's layout is the C++ library's: Node's V8 on Linux is built with libstdc++.
#if defined(__linux__) && defined(_LIBCPP_VERSION)
#error "the pin shim must be built with libstdc++ on Linux, as Node's V8 is"
#endif

#define LRN_PIN_EXPORT extern "C" __attribute__((visibility("default")))

// The C interface's version: the loader refuses a shim of another.
LRN_PIN_EXPORT int lrn_pin_interface() { return 1; }

// The Node ABI and major this was compiled for: the loader refuses any other.
LRN_PIN_EXPORT int lrn_pin_abi() { return NODE_MODULE_VERSION; }
LRN_PIN_EXPORT int lrn_pin_node_major() { return NODE_MAJOR_VERSION; }

// 1 where the running engine says it is the V8 these headers describe (major.minor.build), the
// positive check that what the loader took for Node runs that V8; 0 otherwise.
LRN_PIN_EXPORT int lrn_pin_matches_running_v8() {
  char expected[64];
  std::snprintf(expected, sizeof expected, "%d.%d.%d.", V8_MAJOR_VERSION, V8_MINOR_VERSION, V8_BUILD_NUMBER);
  const char* running = v8::V8::GetVersion();
  return running != nullptr && std::strncmp(running, expected, std::strlen(expected)) == 0;
}

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
