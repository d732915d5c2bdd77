// Powers of B in float64 (power.h). Where B^(-beta) leaves float64's normal range, products with
// it are formed from mantissas and powers of two; docs/float64-ranges.md has the derivation.
#include "power.h"

#include <cstdint>

namespace lrn::portable {

namespace {

// A finite nonzero value as m * 2^n, |m| in [1/2, 1): a product of such factors keeps every
// intermediate normal, and rounds to float64 once, in value().
struct Scaled {
  double m;
  int64_t n;

  explicit Scaled(double v) {
    int e;
    m = std::frexp(v, &e);
    n = e;
  }
  // f within [1/4, 4]: another mantissa, or 2^f for |f| <= 1/2.
  void times(double f) {
    int e;
    m = std::frexp(m * f, &e);
    n += e;
  }
  void times(const Scaled& s) {
    times(s.m);
    n += s.n;
  }
  void square() {
    const int64_t before = n;
    times(m);
    n += before;
  }
  double value() const {
    constexpr int64_t kPast = 4000;  // 2^4000: past float64's range from any mantissa
    return std::ldexp(m, static_cast<int>(n < -kPast ? -kPast : n > kPast ? kPast : n));
  }
};

// B^(-e) for finite B > 0, as mantissa and exponent: B = mb 2^be with mb in [2^-1/2, 2^1/2), so
// B^(-e) = mb^(-e) 2^(-e be); mb^(-e) is within 2^(e/2), taken as (mb^(-e/2^h))^(2^h) where it
// alone leaves the normal range, and 2^(-e be) splits into an integer and a fraction exact to one
// rounding (fma). False where |log2 B^(-e)| is past 8000: every product with float64 values is
// then 0 or infinite.
bool scaled_inv_pow(double b, double e, Scaled& out) {
  int be;
  double mb = std::frexp(b, &be);
  if (mb < 0.70710678118654752440) {  // 2^-1/2
    mb *= 2;
    --be;
  }
  int halvings = 0;
  double part = std::pow(mb, -e);
  while (!normal_positive(part)) {
    if (++halvings > 4) return false;
    part = std::pow(mb, -std::ldexp(e, -halvings));
  }
  Scaled s(part);
  for (int i = 0; i < halvings; ++i) s.square();
  const double whole = std::nearbyint(-e * be);
  if (!(std::fabs(whole) < 1e6)) return false;
  s.times(std::exp2(std::fma(-e, static_cast<double>(be), -whole)));
  s.n += static_cast<int64_t>(whole);
  out = s;
  return true;
}

// v * B^(-e) for v finite and nonzero, B positive and finite, given r = inv_pow(b, e) (0 or
// infinite where B^(-e) is past the Scaled range).
double scaled_product(Scaled v, double b, double e, double r) {
  Scaled p(1.0);
  if (!scaled_inv_pow(b, e, p)) return std::copysign(r, v.m);
  v.times(p);
  return v.value();
}

}  // namespace

double times_inv_pow_scaled(double v, double b, double beta, double r) {
  if (v == 0) return v;
  return scaled_product(Scaled(v), b, beta, r);
}

GradientTerms gradient_terms_scaled(double dy, double x, double b, double beta, double r, double q) {
  GradientTerms g{normal_positive(r) ? dy * r : times_inv_pow_scaled(dy, b, beta, r), dy * x};
  if (dy == 0 || x == 0) return g;
  Scaled product(dy);
  product.times(Scaled(x));
  g.t = scaled_product(product, b, beta + 1, q);
  return g;
}

}  // namespace lrn::portable
