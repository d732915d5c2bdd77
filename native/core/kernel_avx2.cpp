// AVX2 + FMA kernel: 8 float32 lanes, float64 window sums in two 4-lane halves.
#include "lrn.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <cstring>

#include "cpu.h"
#include "portable.h"
#include "series.h"

namespace lrn::avx2_kernel {

struct V {
  static constexpr int kF = 8;
  using F = __m256;
  using D = __m256d;
  static F loadf(const float* p) { return _mm256_loadu_ps(p); }
  static void storef(float* p, F v) { _mm256_storeu_ps(p, v); }
  static D loadd(const double* p) { return _mm256_loadu_pd(p); }
  static void stored(double* p, D v) { _mm256_storeu_pd(p, v); }
  static D lo(F v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
  static D hi(F v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }
  static F narrow(D l, D h) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(l)), _mm256_cvtpd_ps(h), 1);
  }
  static F setf(float v) { return _mm256_set1_ps(v); }
  static D setd(double v) { return _mm256_set1_pd(v); }
  static D addd(D a, D b) { return _mm256_add_pd(a, b); }
  static D subd(D a, D b) { return _mm256_sub_pd(a, b); }
  static D muld(D a, D b) { return _mm256_mul_pd(a, b); }
  static D divd(D a, D b) { return _mm256_div_pd(a, b); }
  static D sqrtd(D a) { return _mm256_sqrt_pd(a); }
  static D fmad(D a, D b, D c) { return _mm256_fmadd_pd(a, b, c); }
  static F mulf(F a, F b) { return _mm256_mul_ps(a, b); }
  static F divf(F a, F b) { return _mm256_div_ps(a, b); }
  static F sqrtf(F a) { return _mm256_sqrt_ps(a); }
  static F addf(F a, F b) { return _mm256_add_ps(a, b); }
  static F fmaf(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F fnmaf(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a*b
  static F subf(F a, F b) { return _mm256_sub_ps(a, b); }
  static F maxf(F a, F b) { return _mm256_max_ps(a, b); }
  static F minf(F a, F b) { return _mm256_min_ps(a, b); }
  static F absf(F a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  // Every lane: the sum of v's lanes.
  static F total(F v) {
    v = _mm256_add_ps(v, _mm256_permute2f128_ps(v, v, 1));
    v = _mm256_add_ps(v, _mm256_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm256_add_ps(v, _mm256_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
  }
  using I64 = __m256i;
  static I64 bits(D v) { return _mm256_castpd_si256(v); }
  static D from_bits(I64 v) { return _mm256_castsi256_pd(v); }
  static I64 seti(int64_t v) { return _mm256_set1_epi64x(v); }
  static I64 addi(I64 a, I64 b) { return _mm256_add_epi64(a, b); }
  static I64 subi(I64 a, I64 b) { return _mm256_sub_epi64(a, b); }
  static I64 andi(I64 a, I64 b) { return _mm256_and_si256(a, b); }
  static I64 ori(I64 a, I64 b) { return _mm256_or_si256(a, b); }
  static I64 srli52(I64 a) { return _mm256_srli_epi64(a, 52); }
  static I64 slli52(I64 a) { return _mm256_slli_epi64(a, 52); }
  static __m256i first(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static F load_n(const float* p, int64_t n) { return _mm256_maskload_ps(p, first(n)); }
  static void store_n(float* p, F v, int64_t n) { _mm256_maskstore_ps(p, first(n), v); }
  static __m256i first_d(int64_t n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static D load_nd(const double* p, int64_t n) { return _mm256_maskload_pd(p, first_d(n)); }
  static void store_nd(double* p, D v, int64_t n) { _mm256_maskstore_pd(p, first_d(n), v); }
  static F zerof() { return _mm256_setzero_ps(); }
  using M = __m256;
  static M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static M le(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
  static M lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M and_(M a, M b) { return _mm256_and_ps(a, b); }
  static M or_(M a, M b) { return _mm256_or_ps(a, b); }
  static bool all(M m) { return _mm256_movemask_ps(m) == 0xFF; }
  // Every lane a positive normal float64 (DBL_MIN .. DBL_MAX).
  static bool all_normald(D v) {
    const __m256d in = _mm256_and_pd(_mm256_cmp_pd(v, _mm256_set1_pd(0x1p-1022), _CMP_GE_OQ),
                                     _mm256_cmp_pd(v, _mm256_set1_pd(0x1.fffffffffffffp1023), _CMP_LE_OQ));
    return _mm256_movemask_pd(in) == 0xF;
  }
  // rsqrt_ps has only 12 bits; a correctly rounded sqrt and divide keep the error under 1 ulp.
  static F rsqrtf(F b) { return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_sqrt_ps(b)); }
  // x * b^-0.75 without vdivps/vsqrtps (several times slower per vector): r = rsqrt_ps(b) (12
  // bits) refined by one Newton step, t = rsqrt_ps(r), then with E = 1 - b r^2 and G = 1 - r t^2
  // exactly b^-0.75 = r^2 t (1 - G)^-1/2 (1 - E)^-3/4 ~ r^2 t (1 + G/2 + 3G^2/8 + 3E/4), the G^2
  // term because t has only 12 bits. Under 2.7 units of 2^-24 over [2^-100, 2^100].
  static F scale_m075(F x, F b) {
    const F one = _mm256_set1_ps(1.0f), half = _mm256_set1_ps(0.5f);
    const F r0 = _mm256_rsqrt_ps(b);
    const F h = _mm256_fnmadd_ps(_mm256_mul_ps(half, b), _mm256_mul_ps(r0, r0), half);
    const F r = _mm256_fmadd_ps(r0, h, r0);
    const F t = _mm256_rsqrt_ps(r);
    const F r2 = _mm256_mul_ps(r, r);
    const F e = _mm256_fnmadd_ps(b, r2, one);
    const F rt = _mm256_mul_ps(r, t);
    const F g = _mm256_fnmadd_ps(rt, t, one);
    const F c = _mm256_fmadd_ps(g, _mm256_fmadd_ps(g, _mm256_set1_ps(0.375f), half), _mm256_mul_ps(e, _mm256_set1_ps(0.75f)));
    // The factor first, then x: x * (f + f c) overflows to infinity where x * f + (x * f) c
    // would give infinity minus infinity.
    const F f = _mm256_mul_ps(r2, t);
    return _mm256_mul_ps(x, _mm256_fmadd_ps(f, c, f));
  }
  // The float32 power (scale_pow, simd_common.inl) from the float's bits: b = 2^e m with m in
  // [0.75, 1.5) by moving the exponent field's origin to 0.75's, a division for 1/(m + 1), and
  // 2^n added to the exponent field (the power stays inside [2^-100, 2^100]).
  static constexpr bool kPowF32 = true;
  static void mant_exp(F b, F& m, F& e) {
    const __m256i from = _mm256_sub_epi32(_mm256_castps_si256(b), _mm256_set1_epi32(0x3F400000));
    e = _mm256_cvtepi32_ps(_mm256_srai_epi32(from, 23));
    m = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_and_si256(from, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x3F400000)));
  }
  // A division: rcp_ps and one Newton step would leave up to 2.25 units of 2^-24 (by rcp_ps's
  // specified 1.5 x 2^-12, which differs between vendors), up to 1.8 units more in the power.
  static F reciprocal(F d) { return _mm256_div_ps(_mm256_set1_ps(1.0f), d); }
  static F round_nearest(F v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F times_pow2(F p, F n) {
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23)));
  }
  // The window's neighbours in registers: lane i of shift_in_low<j>(cur, prev) is element i - j
  // of prev:cur, and of shift_in_high<j>(next, cur) element i + j of cur:next. vpalignr shifts
  // only within 128-bit halves, so the half pair that straddles the two vectors comes from one
  // vperm2f128 first (the same one for every j).
  static constexpr bool kShiftInRegisters = true;
  // The NHWC backward in one pass only past the series' range or for a sparse dy (measured where
  // the series takes the data: three stages 1.3x faster on dense dy, 0.75-0.87x on sparse;
  // docs/kernels.md, "AVX2").
  static constexpr bool kShiftBackwardSeries = false;
  template <int J>
  static F shift_in_low(F cur, F prev) {
    const __m256i straddle = _mm256_permute2f128_si256(_mm256_castps_si256(prev), _mm256_castps_si256(cur), 0x21);
    if constexpr (J == 4) return _mm256_castsi256_ps(straddle);
    else return _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(cur), straddle, 16 - 4 * J));
  }
  template <int J>
  static F shift_in_high(F next, F cur) {
    const __m256i straddle = _mm256_permute2f128_si256(_mm256_castps_si256(cur), _mm256_castps_si256(next), 0x21);
    if constexpr (J == 4) return _mm256_castsi256_ps(straddle);
    else return _mm256_castsi256_ps(_mm256_alignr_epi8(straddle, _mm256_castps_si256(cur), 4 * J));
  }
  // NCHW strips of two vectors for n = 5 (ten of the 16 registers; measured: 1.12-1.22x faster
  // than one), prefetching at every size (docs/kernels.md, "AVX2").
  static constexpr int kStripRegisters = 10;
  static constexpr int64_t kStripPrefetchBytes = 0;

  static bool between(F v, F lo, F hi) {
    const F in = _mm256_and_ps(_mm256_cmp_ps(v, lo, _CMP_GE_OQ), _mm256_cmp_ps(v, hi, _CMP_LE_OQ));
    return _mm256_movemask_ps(in) == 0xFF;
  }
};

#include "simd_lrn.inl"

}  // namespace lrn::avx2_kernel

namespace lrn {
extern const Kernel kAvx2Kernel;
const Kernel kAvx2Kernel = {
    "avx2", cpu::has_avx2_fma, avx2_kernel::workspace_bytes,
    avx2_kernel::forward_f32, avx2_kernel::backward_f32,
    avx2_kernel::forward_f64, avx2_kernel::backward_f64,
};
}  // namespace lrn

#endif
