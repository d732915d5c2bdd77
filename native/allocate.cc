// A large new output pays for its first touch page by page (on some VMs ~12 us per 4 KiB page,
// more than computing into it). Memory from mmap, aligned to 2 MiB and marked MADV_HUGEPAGE, is
// faulted in 2 MiB at a time where transparent huge pages are granted on madvise. When an array
// is collected its mapping goes to a small pool, already faulted in, for the next output of about
// its size; every element of a reused mapping is overwritten before it is returned.
//
// Node releases external buffers only when its event loop turns, after a collection: a
// synchronous loop of calls would map memory without bound. So mappings handed out and not yet
// released are capped; past the cap the caller makes an ordinary array, which V8 collects alone.
#include "allocate.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace allocate {

#if defined(__linux__)
namespace {

struct Mapping {
  void* base;
  size_t bytes;
};

constexpr size_t kHuge = size_t{2} << 20;
constexpr size_t kPoolBytes = size_t{256} << 20;         // most memory the pool keeps mapped
constexpr size_t kOutstandingBytes = size_t{512} << 20;  // most memory handed out, not yet released
constexpr size_t kOwnMappingBytes = size_t{32} << 20;    // glibc's largest mmap threshold
// Largest output mapped here: every runtime's external buffers take 2 GiB (Node 20: 4 GiB).
constexpr double kLargestBytes = double(size_t{2} << 30);

// p rounded down, or up, to a 2 MiB boundary.
unsigned char* huge_down(uintptr_t p) { return reinterpret_cast<unsigned char*>(p & ~(kHuge - 1)); }
unsigned char* huge_up(void* p) { return huge_down(reinterpret_cast<uintptr_t>(p) + kHuge - 1); }

std::mutex mutex;  // guards everything below; shared by every environment (worker) of the process
std::vector<Mapping> pool;
size_t pooled_bytes = 0;
size_t outstanding_bytes = 0;

void release(napi_env env, void*, void* hint) {
  auto* m = static_cast<Mapping*>(hint);
  int64_t ignored;
  napi_adjust_external_memory(env, -static_cast<int64_t>(m->bytes), &ignored);
  {
    std::lock_guard<std::mutex> lock(mutex);
    outstanding_bytes -= m->bytes;
    if (pooled_bytes + m->bytes <= kPoolBytes) {
      pool.push_back(*m);
      pooled_bytes += m->bytes;
      delete m;
      return;
    }
  }
  munmap(m->base, m->bytes);
  delete m;
}

// A mapping of `mapped` bytes or a little more, from the pool when one fits, else new; counted as
// outstanding. {nullptr, 0} past the cap or when mmap fails.
Mapping take(size_t mapped) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (outstanding_bytes + mapped > kOutstandingBytes) return {nullptr, 0};
    for (size_t i = 0; i < pool.size(); ++i) {
      if (pool[i].bytes >= mapped && pool[i].bytes <= mapped + mapped / 2) {
        const Mapping m = pool[i];
        pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(i));
        pooled_bytes -= m.bytes;
        outstanding_bytes += m.bytes;
        return m;
      }
    }
    outstanding_bytes += mapped;
  }
  void* base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    std::lock_guard<std::mutex> lock(mutex);
    outstanding_bytes -= mapped;
    return {nullptr, 0};
  }
  unsigned char* start = huge_up(base);
  madvise(start, mapped - static_cast<size_t>(start - static_cast<unsigned char*>(base)), MADV_HUGEPAGE);
  return {base, mapped};
}

napi_value undefined(napi_env env) {
  napi_value u = nullptr;
  napi_get_undefined(env, &u);
  return u;
}

// Undefined, clearing the exception a failed buffer creation may leave pending.
napi_value gave_up(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  return undefined(env);
}

// A Float64Array or Float32Array of `count` elements over `buffer`, or undefined.
napi_value typed_array(napi_env env, bool float64, size_t count, napi_value buffer) {
  napi_value array;
  if (napi_create_typedarray(env, float64 ? napi_float64_array : napi_float32_array, count, buffer, 0, &array) != napi_ok) {
    return undefined(env);
  }
  return array;
}

// Past the cap: an ordinary array, which V8 frees at its next collection even in a synchronous
// loop. From 32 MiB up (glibc maps such blocks on their own and unmaps them when freed, so the
// hint cannot outlive the array) its whole 2 MiB blocks are marked MADV_HUGEPAGE, a hint about
// faults only (nothing here touches the memory or keeps its address): a synchronous loop of
// 32x96x55x55 calls then pays for 2 MiB faults, not 4 KiB ones (docs/memory.md). Undefined if
// the array cannot be made here.
napi_value ordinary(napi_env env, bool float64, size_t count, size_t bytes) {
  void* data = nullptr;
  napi_value buffer;
  if (napi_create_arraybuffer(env, bytes, &data, &buffer) != napi_ok) return gave_up(env);
  unsigned char* first = huge_up(data);
  unsigned char* last = huge_down(reinterpret_cast<uintptr_t>(data) + bytes);
  if (bytes >= kOwnMappingBytes && last > first) madvise(first, static_cast<size_t>(last - first), MADV_HUGEPAGE);
  return typed_array(env, float64, count, buffer);
}

}  // namespace

napi_value output(napi_env env, bool float64, double length) {
  const size_t element = float64 ? 8 : 4;
  if (!(length >= 1) || length != std::floor(length) || length * element > kLargestBytes) return undefined(env);
  const size_t count = static_cast<size_t>(length), bytes = count * element;
  const Mapping m = take((bytes + kHuge - 1) / kHuge * kHuge + kHuge);
  if (m.base == nullptr) return ordinary(env, float64, count, bytes);
  auto* mapping = new Mapping(m);
  napi_value buffer;
  // Once the buffer exists (or its creation failed: the runtime then calls `release` itself), the
  // mapping belongs to `release`; it is never freed here.
  if (napi_create_external_arraybuffer(env, huge_up(m.base), bytes, release, mapping, &buffer) != napi_ok) {
    return gave_up(env);
  }
  int64_t ignored;
  napi_adjust_external_memory(env, static_cast<int64_t>(m.bytes), &ignored);
  return typed_array(env, float64, count, buffer);
}
#else
napi_value output(napi_env env, bool, double) {
  napi_value u = nullptr;
  napi_get_undefined(env, &u);
  return u;
}
#endif

}  // namespace allocate
