// New large outputs in memory the addon maps itself (huge pages where the OS grants them).
#pragma once
#include <node_api.h>

namespace allocate {

// A new Float32Array (or Float64Array) of `length` elements over an addon mapping, or undefined
// where the caller should make an ordinary array: too large for an external buffer, no mapping
// to be had, or too much mapped memory not yet released (see docs/memory.md).
napi_value output(napi_env env, bool float64, double length);

}  // namespace allocate
