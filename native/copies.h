// Memory for lrnAsync's copies of arrays it cannot pin (hold.h's Copied), reused from job to job:
// on these machines a first touch of fresh memory costs more than the copy itself
// (docs/async-memory.md, "Cost"). Process-wide and thread-safe; never visible to JavaScript.
#pragma once
#include <cstddef>
#include <memory>

namespace copies {

// At least `bytes` of 64-byte-aligned memory, from the idle blocks when one fits, else new (after
// freeing the idle blocks where memory ran out); null when out of memory. Dropping the last
// owner returns it to the idle blocks, which keep at most kIdleBytes in all: the oldest are freed
// to make room for it.
constexpr size_t kIdleBytes = size_t{256} << 20;
std::shared_ptr<void> acquire(size_t bytes);

// How many blocks acquire() has allocated new so far (tests: reuse shows as a count that stays).
size_t fresh_blocks();

}  // namespace copies
