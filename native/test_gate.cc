#include "test_gate.h"

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace test_gate {

namespace {
std::mutex mutex;
std::condition_variable opened;
bool closed = false;
int waiting = 0;
}  // namespace

bool enabled() {
  static const bool on = [] {
    const char* v = std::getenv("LRN_TEST_HOOKS");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return on;
}

void pass() {
  if (!enabled()) return;
  std::unique_lock<std::mutex> lock(mutex);
  ++waiting;
  opened.wait(lock, [] { return !closed; });
  --waiting;
}

napi_value js(napi_env env, napi_callback_info info) {
  napi_value arg, result;
  size_t argc = 1;
  bool close = false;
  if (napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr) != napi_ok || argc != 1 ||
      napi_get_value_bool(env, arg, &close) != napi_ok) {
    napi_throw_type_error(env, nullptr, "testGate: expected (closed: boolean)");
    return nullptr;
  }
  int now;
  {
    std::lock_guard<std::mutex> lock(mutex);
    closed = close;
    now = waiting;
  }
  if (!close) opened.notify_all();
  return napi_create_int32(env, now, &result) == napi_ok ? result : nullptr;
}

}  // namespace test_gate
