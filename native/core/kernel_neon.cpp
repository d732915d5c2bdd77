// NEON kernel (aarch64): 4 float32 lanes, float64 window sums in two 2-lane halves.
#include "lrn.h"

#if defined(__aarch64__) || defined(_M_ARM64)
#include <arm_neon.h>

#include <cstring>

#include "cpu.h"
#include "portable.h"
#include "series.h"

namespace lrn::neon_kernel {

struct V {
  static constexpr int kF = 4;
  using F = float32x4_t;
  using D = float64x2_t;
  static F loadf(const float* p) { return vld1q_f32(p); }
  static void storef(float* p, F v) { vst1q_f32(p, v); }
  static D loadd(const double* p) { return vld1q_f64(p); }
  static void stored(double* p, D v) { vst1q_f64(p, v); }
  static D lo(F v) { return vcvt_f64_f32(vget_low_f32(v)); }
  static D hi(F v) { return vcvt_high_f64_f32(v); }
  static F narrow(D l, D h) { return vcvt_high_f32_f64(vcvt_f32_f64(l), h); }
  static F setf(float v) { return vdupq_n_f32(v); }
  static D setd(double v) { return vdupq_n_f64(v); }
  static D addd(D a, D b) { return vaddq_f64(a, b); }
  static D subd(D a, D b) { return vsubq_f64(a, b); }
  static D muld(D a, D b) { return vmulq_f64(a, b); }
  static D divd(D a, D b) { return vdivq_f64(a, b); }
  static D sqrtd(D a) { return vsqrtq_f64(a); }
  static D fmad(D a, D b, D c) { return vfmaq_f64(c, a, b); }
  static F mulf(F a, F b) { return vmulq_f32(a, b); }
  static F divf(F a, F b) { return vdivq_f32(a, b); }
  static F sqrtf(F a) { return vsqrtq_f32(a); }
  static F addf(F a, F b) { return vaddq_f32(a, b); }
  static F fmaf(F a, F b, F c) { return vfmaq_f32(c, a, b); }
  // vmaxq returns NaN when either operand is NaN, which fast_ok relies on as well.
  static F fnmaf(F a, F b, F c) { return vfmsq_f32(c, a, b); }  // c - a*b
  static F subf(F a, F b) { return vsubq_f32(a, b); }
  static F maxf(F a, F b) { return vmaxq_f32(a, b); }
  static F minf(F a, F b) { return vminq_f32(a, b); }
  static F absf(F a) { return vabsq_f32(a); }
  // Every lane: the sum of v's lanes.
  static F total(F v) { return vdupq_n_f32(vaddvq_f32(v)); }
  using I64 = int64x2_t;
  static I64 bits(D v) { return vreinterpretq_s64_f64(v); }
  static D from_bits(I64 v) { return vreinterpretq_f64_s64(v); }
  static I64 seti(int64_t v) { return vdupq_n_s64(v); }
  static I64 addi(I64 a, I64 b) { return vaddq_s64(a, b); }
  static I64 subi(I64 a, I64 b) { return vsubq_s64(a, b); }
  static I64 andi(I64 a, I64 b) { return vandq_s64(a, b); }
  static I64 ori(I64 a, I64 b) { return vorrq_s64(a, b); }
  static I64 srli52(I64 a) { return vreinterpretq_s64_u64(vshrq_n_u64(vreinterpretq_u64_s64(a), 52)); }
  static I64 slli52(I64 a) { return vshlq_n_s64(a, 52); }
  static F load_n(const float* p, int64_t n) {
    float part[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < n; ++i) part[i] = p[i];
    return vld1q_f32(part);
  }
  static void store_n(float* p, F v, int64_t n) {
    float part[4];
    vst1q_f32(part, v);
    for (int64_t i = 0; i < n; ++i) p[i] = part[i];
  }
  static D load_nd(const double* p, int64_t n) {
    double part[2] = {0, 0};
    for (int64_t i = 0; i < n; ++i) part[i] = p[i];
    return vld1q_f64(part);
  }
  static void store_nd(double* p, D v, int64_t n) {
    double part[2];
    vst1q_f64(part, v);
    for (int64_t i = 0; i < n; ++i) p[i] = part[i];
  }
  static F zerof() { return vdupq_n_f32(0.0f); }
  using M = uint32x4_t;
  static M ge(F a, F b) { return vcgeq_f32(a, b); }
  static M le(F a, F b) { return vcleq_f32(a, b); }
  static M lt(F a, F b) { return vcltq_f32(a, b); }
  static M and_(M a, M b) { return vandq_u32(a, b); }
  static M or_(M a, M b) { return vorrq_u32(a, b); }
  static bool all(M m) { return vminvq_u32(m) == 0xFFFFFFFFu; }
  // Every lane a positive normal float64 (DBL_MIN .. DBL_MAX).
  static bool all_normald(D v) {
    const uint64x2_t in = vandq_u64(vcgeq_f64(v, vdupq_n_f64(0x1p-1022)), vcleq_f64(v, vdupq_n_f64(0x1.fffffffffffffp1023)));
    return vminvq_u32(vreinterpretq_u32_u64(in)) == 0xFFFFFFFFu;
  }
  // vrsqrte has only 8 bits; a correctly rounded sqrt and divide keep the error under 1 ulp.
  static F rsqrtf(F b) { return vdivq_f32(vdupq_n_f32(1.0f), vsqrtq_f32(b)); }
  static F pow_m075(F b) {
    const F r = rsqrtf(b);
    return mulf(r, sqrtf(r));
  }
  static F scale_m075(F x, F b) { return mulf(x, pow_m075(b)); }
  // The float32 power (scale_pow, simd_common.inl) from the float's bits, as avx2: b = 2^e m with
  // m in [0.75, 1.5) by moving the exponent field's origin to 0.75's, a division (exact; vrecpe
  // has 8 bits), and 2^n added to the exponent field (the power stays inside [2^-100, 2^100]).
  static constexpr bool kPowF32 = true;
  static void mant_exp(F b, F& m, F& e) {
    const int32x4_t from = vsubq_s32(vreinterpretq_s32_f32(b), vdupq_n_s32(0x3F400000));
    e = vcvtq_f32_s32(vshrq_n_s32(from, 23));
    m = vreinterpretq_f32_s32(vaddq_s32(vandq_s32(from, vdupq_n_s32(0x007FFFFF)), vdupq_n_s32(0x3F400000)));
  }
  static F reciprocal(F d) { return vdivq_f32(vdupq_n_f32(1.0f), d); }
  static F round_nearest(F v) { return vrndnq_f32(v); }
  static F times_pow2(F p, F n) {
    return vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(p), vshlq_n_s32(vcvtnq_s32_f32(n), 23)));
  }
  // The window's neighbours in registers (vext): lane i of shift_in_low<j>(cur, prev) is element
  // i - j of prev:cur, and of shift_in_high<j>(next, cur) element i + j of cur:next.
  static constexpr bool kShiftInRegisters = true;
  // The NHWC backward in one pass for all data, as avx512 (vext costs what valignd does).
  static constexpr bool kShiftBackwardSeries = true;
  template <int J>
  static F shift_in_low(F cur, F prev) { return vextq_f32(prev, cur, 4 - J); }
  template <int J>
  static F shift_in_high(F next, F cur) {
    if constexpr (J == 4) return next;
    else return vextq_f32(cur, next, J);
  }
  static constexpr int kStripRegisters = 16;  // half the register file, as avx512
  static constexpr int64_t kStripPrefetchBytes = 4 << 20;

  static bool between(F v, F lo, F hi) {
    return vminvq_u32(vandq_u32(vcgeq_f32(v, lo), vcleq_f32(v, hi))) == 0xFFFFFFFFu;
  }
};

#include "simd_lrn.inl"

}  // namespace lrn::neon_kernel

namespace lrn {
extern const Kernel kNeonKernel;
const Kernel kNeonKernel = {
    "neon", cpu::has_neon, neon_kernel::workspace_bytes,
    neon_kernel::forward_f32, neon_kernel::backward_f32,
    neon_kernel::forward_f64, neon_kernel::backward_f64,
};
}  // namespace lrn

#endif
