#include "cpu.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <cstdint>

namespace lrn::cpu {
namespace {

struct X86 {
  bool avx2_fma = false;
  bool avx512 = false;
};

// The CPU must have the instructions and the OS must save the wider registers on a context
// switch (XCR0), or using them corrupts state.
X86 detect() {
  X86 f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12);
  if (!osxsave || !avx) return f;
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  const uint64_t xcr0 = (static_cast<uint64_t>(hi) << 32) | lo;
  const bool ymm_state = (xcr0 & 0x6) == 0x6;
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5), avx512f = b & (1u << 16);
  f.avx2_fma = ymm_state && avx2 && fma;
  f.avx512 = f.avx2_fma && zmm_state && avx512f;
  return f;
}

const X86& features() {
  static const X86 f = detect();
  return f;
}

}  // namespace

bool has_avx2_fma() { return features().avx2_fma; }
bool has_avx512() { return features().avx512; }
bool has_neon() { return false; }

}  // namespace lrn::cpu

#else

namespace lrn::cpu {
bool has_avx2_fma() { return false; }
bool has_avx512() { return false; }
#if defined(__aarch64__) || defined(_M_ARM64)
bool has_neon() { return true; }
#else
bool has_neon() { return false; }
#endif
}  // namespace lrn::cpu

#endif
