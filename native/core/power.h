// Powers of B in float64, shared by every float64 evaluation of LRN: the portable code, the SIMD
// kernels' float64 paths and their redos. The common case is inline; where a power leaves
// float64's normal range, the out-of-line *_scaled functions take over (docs/float64-ranges.md).
#pragma once
#include <cfloat>
#include <cmath>

namespace lrn::portable {

// B^(-beta) in float64: exact-enough shortcuts for beta 0.5, 0.75, 1, else std::pow.
inline double inv_pow(double b, double beta) {
  if (beta == 0.75) {
    const double s = std::sqrt(b);
    return 1.0 / (s * std::sqrt(s));
  }
  if (beta == 0.5) return 1.0 / std::sqrt(b);
  if (beta == 1.0) return 1.0 / b;
  return std::pow(b, -beta);
}

// Positive, normal and finite.
inline bool normal_positive(double v) { return v >= DBL_MIN && v <= DBL_MAX; }

// v * B^(-beta) where r = inv_pow(b, beta) is not a normal float64, b positive and finite, v
// finite: rounded once from mantissas and powers of two; 0 for v == 0.
double times_inv_pow_scaled(double v, double b, double beta, double r);

// v * B^(-beta), rounded once from a value within a few units of float64's last place wherever
// B is positive and finite, even where B^(-beta) itself leaves float64's normal range and the
// product does not; elsewhere (B 0, infinite or NaN, v not finite) v * inv_pow(b, beta).
inline double times_inv_pow(double v, double b, double beta) {
  const double r = inv_pow(b, beta);
  if (normal_positive(r) || !(b > 0 && b <= DBL_MAX && std::isfinite(v))) return v * r;
  return times_inv_pow_scaled(v, b, beta, r);
}

// The backward's two factors at one element, term1 = dy * B^(-beta) and t = dy * x * B^(-beta-1),
// each as times_inv_pow (dy * x never formed where it would leave float64's normal range).
struct GradientTerms {
  double term1, t;
};

GradientTerms gradient_terms_scaled(double dy, double x, double b, double beta, double r, double q);

inline GradientTerms gradient_terms(double dy, double x, double b, double beta) {
  const double r = inv_pow(b, beta), q = r / b, dyx = dy * x;
  // Flags added rather than && and ||: zeros mixed among the data (sparse gradients) then cost no
  // mispredicted branch.
  const int product_ok = normal_positive(std::fabs(dyx)) + (dy == 0) + (x == 0);
  const bool in_range = normal_positive(r) + normal_positive(q) + (product_ok > 0) == 3;
  if (in_range || !(b > 0 && b <= DBL_MAX && std::isfinite(dy) && std::isfinite(x))) return {dy * r, dyx * q};
  return gradient_terms_scaled(dy, x, b, beta, r, q);
}

}  // namespace lrn::portable
