// Keeps an array's memory usable by a pool thread until an async job ends, whatever JavaScript
// does to the array meanwhile. See docs/async-memory.md for the design and its cost.
#pragma once
#include <node_api.h>

#include <cstddef>
#include <memory>
#include <string>

namespace hold {

// How this process holds an ordinary ArrayBuffer's memory for a job: `pin` its V8 backing store
// (zero copy; once use_pin loaded the pin shim of the running Node's ABI), or `copy` it into
// memory the addon owns. LRN_ASYNC_COPY=1 in the environment when a job starts forces `copy`.
enum class Mode { Pin, Copy };
Mode mode(napi_env env);
const char* mode_name(Mode m);

// Loads the pin shim at `path` (native/pin/pin.cc, built for one Node ABI) for the process: ""
// when it pins from now on, else why not (another runtime than Node, a shim for another ABI or
// major, one that does not load).
std::string use_pin(napi_env env, const std::string& path);

// Called once per environment at module load: remembers ArrayBuffer.prototype's own `resizable`
// getter, so that no property a caller defines on a buffer can hide that it is resizable.
napi_status init(napi_env env);

// How one array's memory is kept for a job.
enum class Kind {
  Reference,  // a SharedArrayBuffer: the reference to it keeps the memory, which only grows
  Pinned,     // an ordinary ArrayBuffer's backing store, held across detach and transfer
  Copied,     // a resizable buffer, or any buffer where pinning is not available
};

// Decides how `arraybuffer` (the buffer of a typed array about to be used by a job) is kept and,
// for Pinned, returns the owner of its memory in `*owner`. Returns false with a pending
// JavaScript exception only when a runtime call failed.
bool classify(napi_env env, napi_value arraybuffer, Kind* kind, std::shared_ptr<void>* owner);

}  // namespace hold
