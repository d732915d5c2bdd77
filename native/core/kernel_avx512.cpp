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
  // rsqrt14 (relative error < 2^-14) refined by one Newton step: error about 2^-27 plus rounding.
  static F rsqrtf(F b) {
    const F r = _mm512_rsqrt14_ps(b);
    const F half_b_r2 = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), b), _mm512_mul_ps(r, r));
    return _mm512_mul_ps(r, _mm512_sub_ps(_mm512_set1_ps(1.5f), half_b_r2));
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
