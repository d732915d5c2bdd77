// Keeps an array's memory usable by a pool thread until an async job ends, whatever JavaScript
// does to the array meanwhile. See docs/async-memory.md for the design and its cost.
#pragma once
#include <node_api.h>

#include <cstddef>
#include <memory>

namespace hold {

// How this process holds an ordinary ArrayBuffer's memory for a job: `pin` its V8 backing store
// (zero copy; only where the running V8 is the one the addon was compiled against), or `copy`
// it into memory the addon owns. Decided once per process; LRN_ASYNC_COPY=1 in the environment
// when a job starts forces `copy` for it.
enum class Mode { Pin, Copy };
Mode mode(napi_env env);
const char* mode_name(Mode m);

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
