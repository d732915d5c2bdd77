// A gate for tests: with LRN_TEST_HOOKS=1 in the environment when the addon loads, the binding
// exports testGate(closed), and async jobs wait at the gate while it is closed. A test can then
// act (detach arrays, terminate a worker, check that timers fire) while jobs are certainly in
// flight, instead of hoping a job is slow enough. Without the variable the gate is always open.
#pragma once
#include <node_api.h>

namespace test_gate {

bool enabled();
// Called by each async job on its pool thread before it computes.
void pass();
// testGate(closed: boolean) -> number of jobs waiting at the gate now.
napi_value js(napi_env env, napi_callback_info info);

}  // namespace test_gate
