// The huge-page hint for large new outputs. A large new output pays for its first touch page by
// page (on some VMs ~12 us per 4 KiB page, more than computing into it). The output itself is an
// ordinary typed array made in JavaScript: the runtime owns, accounts and frees its memory, so it
// can be transferred, moved to another thread and collected like any other (and an allocation that
// fails is the runtime's RangeError). Memory the addon mapped itself could not be: an external
// buffer's finalizer belongs to the environment that made it, while transfer() and postMessage
// move the buffer to threads that outlive that environment.
//
// From 32 MiB up glibc maps such a block on its own and unmaps it when it is freed, so a
// MADV_HUGEPAGE hint on its whole 2 MiB blocks cannot outlive the array; its first touch is then
// faulted 2 MiB at a time where transparent huge pages are granted on madvise (docs/memory.md).
#include "allocate.h"

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace allocate {

namespace {

constexpr size_t kOwnMappingBytes = size_t{32} << 20;  // glibc's largest mmap threshold

// Whole 2 MiB blocks of [data, data + bytes) marked MADV_HUGEPAGE: a hint about faults only, which
// neither touches nor changes the memory. False where nothing was marked.
bool hint_huge_pages(void* data, size_t bytes) {
#if defined(__linux__)
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  if (data == nullptr || bytes < kOwnMappingBytes) return false;
  const auto begin = reinterpret_cast<uintptr_t>(data);
  const uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1), last = (begin + bytes) & ~(kHuge - 1);
  return last > first && madvise(reinterpret_cast<void*>(first), static_cast<size_t>(last - first), MADV_HUGEPAGE) == 0;
#else
  (void)data, (void)bytes;
  return false;
#endif
}

}  // namespace

napi_value huge_pages(napi_env env, napi_callback_info info) {
  napi_value arg, result;
  size_t argc = 1, length = 0, offset = 0;
  bool is = false;
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value buffer;
  if (napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc != 1 || napi_is_typedarray(env, arg, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, arg, &type, &length, &data, &buffer, &offset) != napi_ok ||
      (type != napi_float32_array && type != napi_float64_array)) {
    napi_throw_type_error(env, nullptr, "hugePages: expected a Float32Array or Float64Array");
    return nullptr;
  }
  const bool hinted = hint_huge_pages(data, length * (type == napi_float32_array ? 4 : 8));
  return napi_get_boolean(env, hinted, &result) == napi_ok ? result : nullptr;
}

}  // namespace allocate
