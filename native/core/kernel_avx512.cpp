// AVX-512F kernel: 16 float32 lanes, float64 window sums in two 8-lane halves.
#include "lrn.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <cstring>

#include "cpu.h"
#include "portable.h"

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
  static F maxf(F a, F b) { return _mm512_max_ps(a, b); }
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
  static F zerof() { return _mm512_setzero_ps(); }
  using M = __mmask16;
  static M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static M le(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M and_(M a, M b) { return static_cast<M>(a & b); }
  static M or_(M a, M b) { return static_cast<M>(a | b); }
  static bool all(M m) { return m == 0xFFFF; }
  // rsqrt14 (relative error < 2^-14) refined by one Newton step written as r + r*h with the small
  // correction h = 0.5 - 0.5*b*r^2: the step's own rounding is then about one ulp.
  static F rsqrtf(F b) {
    const F r = _mm512_rsqrt14_ps(b);
    const F h = _mm512_fnmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), b), _mm512_mul_ps(r, r), _mm512_set1_ps(0.5f));
    return _mm512_fmadd_ps(r, h, r);
  }
  // b^-0.75 = r * sqrt(r) with r = rsqrt(b), and sqrt(r) = r * rsqrt(r) refined by a Newton
  // step in the same r + r*h form: only multiplies and FMAs, no vsqrtps (the slowest step here).
  static F pow_m075(F b) {
    const F half = _mm512_set1_ps(0.5f);
    const F r = rsqrtf(b);
    const F t = _mm512_rsqrt14_ps(r);
    const F s = _mm512_mul_ps(r, t);
    const F h = _mm512_fnmadd_ps(_mm512_mul_ps(half, s), t, half);
    return _mm512_mul_ps(r, _mm512_fmadd_ps(s, h, s));
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
