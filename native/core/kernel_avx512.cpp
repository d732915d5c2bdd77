// AVX-512F kernel: 16 float32 lanes, float64 window sums in two 8-lane halves.
#include "lrn.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <cstring>

#include "cpu.h"
#include "portable.h"
#include "series.h"

namespace lrn::avx512_kernel {

struct V {
  static constexpr int kF = 16;
  using F = __m512;
  using D = __m512d;
  static F loadf(const float* p) { return _mm512_loadu_ps(p); }
  static void storef(float* p, F v) { _mm512_storeu_ps(p, v); }
  static D loadd(const double* p) { return _mm512_loadu_pd(p); }
  static void stored(double* p, D v) { _mm512_storeu_pd(p, v); }
  static D lo(F v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
  static D hi(F v) { return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))); }
  static F narrow(D l, D h) {
    const __m256 a = _mm512_cvtpd_ps(l), b = _mm512_cvtpd_ps(h);
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(a)), _mm256_castps_pd(b), 1));
  }
  static F setf(float v) { return _mm512_set1_ps(v); }
  static D setd(double v) { return _mm512_set1_pd(v); }
  static D addd(D a, D b) { return _mm512_add_pd(a, b); }
  static D subd(D a, D b) { return _mm512_sub_pd(a, b); }
  static D muld(D a, D b) { return _mm512_mul_pd(a, b); }
  static D divd(D a, D b) { return _mm512_div_pd(a, b); }
  static D sqrtd(D a) { return _mm512_sqrt_pd(a); }
  static D fmad(D a, D b, D c) { return _mm512_fmadd_pd(a, b, c); }
  static F mulf(F a, F b) { return _mm512_mul_ps(a, b); }
  static F divf(F a, F b) { return _mm512_div_ps(a, b); }
  static F sqrtf(F a) { return _mm512_sqrt_ps(a); }
  static F addf(F a, F b) { return _mm512_add_ps(a, b); }
  static F fmaf(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fnmaf(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a*b
  static F subf(F a, F b) { return _mm512_sub_ps(a, b); }
  static F maxf(F a, F b) { return _mm512_max_ps(a, b); }
  static F minf(F a, F b) { return _mm512_min_ps(a, b); }
  static F absf(F a) { return _mm512_abs_ps(a); }
  // Every lane: the sum of v's lanes (a tree of shuffles, no trip through scalars).
  static F total(F v) {
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
  }
  using I64 = __m512i;
  static I64 bits(D v) { return _mm512_castpd_si512(v); }
  static D from_bits(I64 v) { return _mm512_castsi512_pd(v); }
  static I64 seti(int64_t v) { return _mm512_set1_epi64(v); }
  static I64 addi(I64 a, I64 b) { return _mm512_add_epi64(a, b); }
  static I64 subi(I64 a, I64 b) { return _mm512_sub_epi64(a, b); }
  static I64 andi(I64 a, I64 b) { return _mm512_and_si512(a, b); }
  static I64 ori(I64 a, I64 b) { return _mm512_or_si512(a, b); }
  static I64 srli52(I64 a) { return _mm512_srli_epi64(a, 52); }
  static I64 slli52(I64 a) { return _mm512_slli_epi64(a, 52); }
  static __mmask16 first(int64_t n) { return static_cast<__mmask16>((1u << n) - 1); }
  static F load_n(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(first(n), p); }
  static void store_n(float* p, F v, int64_t n) { _mm512_mask_storeu_ps(p, first(n), v); }
  static D load_nd(const double* p, int64_t n) { return _mm512_maskz_loadu_pd(static_cast<__mmask8>(first(n)), p); }
  static void store_nd(double* p, D v, int64_t n) { _mm512_mask_storeu_pd(p, static_cast<__mmask8>(first(n)), v); }
  static F zerof() { return _mm512_setzero_ps(); }
  using M = __mmask16;
  static M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static M le(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M and_(M a, M b) { return static_cast<M>(a & b); }
  static M or_(M a, M b) { return static_cast<M>(a | b); }
  static bool all(M m) { return m == 0xFFFF; }
  // Every lane a positive normal float64 (DBL_MIN .. DBL_MAX).
  static bool all_normald(D v) {
    return (_mm512_cmp_pd_mask(v, _mm512_set1_pd(0x1p-1022), _CMP_GE_OQ) &
            _mm512_cmp_pd_mask(v, _mm512_set1_pd(0x1.fffffffffffffp1023), _CMP_LE_OQ)) == 0xFF;
  }
  // rsqrt14 (relative error < 2^-14) refined by one Newton step written as r + r*h with the small
  // correction h = 0.5 - 0.5*b*r^2: the step's own rounding is then about one ulp.
  static F rsqrtf(F b) {
    const F r = _mm512_rsqrt14_ps(b);
    const F h = _mm512_fnmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), b), _mm512_mul_ps(r, r), _mm512_set1_ps(0.5f));
    return _mm512_fmadd_ps(r, h, r);
  }
  // x * b^-0.75 from two rsqrt14 estimates, r ~ b^-0.5 and t ~ r^-0.5 (relative errors under
  // 2^-14), and one correction: with E = 1 - b*r^2 and G = 1 - r*t^2 exactly
  // b^-0.75 = r^2 t (1 - G)^-1/2 (1 - E)^-3/4 = r^2 t (1 + G/2 + 3E/4 + O(2^-26)).
  // Twelve multiply-class operations, under 2.6 units of 2^-24 from the exact power over
  // [2^-100, 2^100]; no vsqrtps or vdivps (several times slower per vector).
  static F scale_m075(F x, F b) {
    const F one = _mm512_set1_ps(1.0f);
    const F r = _mm512_rsqrt14_ps(b);
    const F t = _mm512_rsqrt14_ps(r);
    const F r2 = _mm512_mul_ps(r, r);
    const F e = _mm512_fnmadd_ps(b, r2, one);
    const F rt = _mm512_mul_ps(r, t);
    const F g = _mm512_fnmadd_ps(rt, t, one);
    const F c = _mm512_fmadd_ps(g, _mm512_set1_ps(0.5f), _mm512_mul_ps(e, _mm512_set1_ps(0.75f)));
    // The factor first, then x: x * (f + f c) overflows to infinity where x * f + (x * f) c
    // would give infinity minus infinity.
    const F f = _mm512_mul_ps(r2, t);
    return _mm512_mul_ps(x, _mm512_fmadd_ps(f, c, f));
  }
  // The float32 power (scale_pow, simd_common.inl) from getmant/getexp, rcp14 and a Newton
  // step, roundscale and scalef.
  static constexpr bool kPowF32 = true;
  static void mant_exp(F b, F& m, F& e) {
    const F one = _mm512_set1_ps(1.0f);
    m = _mm512_getmant_ps(b, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_zero);
    e = _mm512_mask_add_ps(_mm512_getexp_ps(b), _mm512_cmp_ps_mask(m, one, _CMP_LT_OQ), _mm512_getexp_ps(b), one);
  }
  static F reciprocal(F d) {
    const F r0 = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(r0, _mm512_fnmadd_ps(d, r0, _mm512_set1_ps(2.0f)));
  }
  static F round_nearest(F v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F times_pow2(F p, F n) { return _mm512_scalef_ps(p, n); }
  // The window's neighbours in registers: lane i of shift_in_low<j>(cur, prev) is element i - j
  // of prev:cur, and of shift_in_high<j>(next, cur) element i + j of cur:next (valignd).
  static constexpr bool kShiftInRegisters = true;
  // The NHWC backward in one pass for all data (see simd_backward.inl).
  static constexpr bool kShiftBackwardSeries = true;
  // NCHW strips: half the register file for the window's squares; prefetching only pays above
  // 4 MiB (measured: 32x96x55x55 3.3 vs 4.4 ms with it, 1x256x27x27 ~15% faster without).
  static constexpr int kStripRegisters = 16;
  static constexpr int64_t kStripPrefetchBytes = 4 << 20;
  template <int J>
  static F shift_in_low(F cur, F prev) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(cur), _mm512_castps_si512(prev), 16 - J));
  }
  template <int J>
  static F shift_in_high(F next, F cur) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(cur), J));
  }
  static bool between(F v, F lo, F hi) {
    return (_mm512_cmp_ps_mask(v, lo, _CMP_GE_OQ) & _mm512_cmp_ps_mask(v, hi, _CMP_LE_OQ)) == 0xFFFF;
  }
};

#include "simd_lrn.inl"

}  // namespace lrn::avx512_kernel

namespace lrn {
extern const Kernel kAvx512Kernel;
const Kernel kAvx512Kernel = {
    "avx512", cpu::has_avx512, avx512_kernel::workspace_bytes,
    avx512_kernel::forward_f32, avx512_kernel::backward_f32,
    avx512_kernel::forward_f64, avx512_kernel::backward_f64,
};
}  // namespace lrn

#endif
