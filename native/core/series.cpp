#include "series.h"

#include <cfloat>
#include <cmath>

namespace lrn::series {

namespace {

// sum over j > kDegree of |binom(-beta, j)| z^j: the truncation error relative to k^-beta.
double tail(double beta, double z) {
  double c = 1, sum = 0, zj = 1;
  for (int j = 1; j <= 400; ++j) {
    c *= (beta + j - 1) / j;  // |binom(-beta, j)|
    zj *= z;
    if (j > kDegree) sum += c * zj;
  }
  return sum;
}

Series compute(double k, double a, double beta, double unit, int sum_terms) {
  Series s;
  if (!(k > 0 && k <= 0x1p100 && a >= 0 && a <= 0x1p100 && beta > 0 && beta <= 16)) return s;
  const bool f32 = unit >= 0x1p-24;
  const double smallest = f32 ? 0x1p-120 : 0x1p-1000, largest = f32 ? 0x1p120 : 0x1p1000;
  auto normal = [&](double v) { return v == 0 || (std::fabs(v) >= smallest && std::fabs(v) <= largest); };
  // z = a S / k; d ln B^-beta / d ln S = beta z / (1 + z).
  double z = 0x1p-3;
  while (z >= 0x1p-16 && (tail(beta, z) > unit / 4 || beta * z * sum_terms > 0.25)) z /= 2;
  if (z < 0x1p-16) return s;
  const double scale = std::pow(k, -beta);
  const double ratio = a / k;  // S^j carries ratio^j
  if (!normal(scale)) return s;
  double c = 1, rj = 1;
  for (int j = 0; j <= kDegree; ++j) {
    if (j > 0) {
      c *= -(beta + j - 1) / j;  // binom(-beta, j)
      rj *= ratio;
    }
    s.coeff[j] = c * rj * scale;
    if (!normal(s.coeff[j])) return s;
  }
  // Slightly under, so an S that rounds up to the limit still has a S / k <= z.
  s.s_limit = a > 0 ? z / ratio * (1 - 0x1p-20) : DBL_MAX;
  if (f32 && s.s_limit > FLT_MAX) s.s_limit = FLT_MAX;
  s.usable = true;
  return s;
}

}  // namespace

// A call builds up to four series (forward, backward, float32 and float64); the search above
// costs microseconds, a small call less than one: the last few are kept per thread.
Series small_sum_series(double k, double a, double beta, double unit, int sum_terms) {
  struct Entry {
    double k, a, beta, unit;
    int sum_terms;
    Series series;
  };
  constexpr int kEntries = 8;
  thread_local Entry cache[kEntries];
  thread_local int used = 0, next = 0;
  for (int i = 0; i < used; ++i) {
    const Entry& e = cache[i];
    if (e.k == k && e.a == a && e.beta == beta && e.unit == unit && e.sum_terms == sum_terms) return e.series;
  }
  const Series s = compute(k, a, beta, unit, sum_terms);
  cache[next] = {k, a, beta, unit, sum_terms, s};
  next = (next + 1) % kEntries;
  if (used < kEntries) ++used;
  return s;
}

}  // namespace lrn::series
