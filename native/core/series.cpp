#include "series.h"

#include <cfloat>
#include <cmath>

namespace lrn::series {

namespace {

// sum over j > kDegree of |binom(-beta, j)| z^j: the truncation error relative to k^-beta.
double tail(double beta, double z) {
  double c = 1, sum = 0, zj = 1;
  for (int j = 1; j <= 200; ++j) {
    c *= (beta + j - 1) / j;  // |binom(-beta, j)|
    zj *= z;
    if (j > kDegree) sum += c * zj;
  }
  return sum;
}

bool normal_float(double v) { return v == 0 || (std::fabs(v) >= 0x1p-120 && std::fabs(v) <= 0x1p120); }

}  // namespace

Series small_sum_series(double k, double a, double beta, int sum_terms) {
  Series s;
  if (!(k > 0 && k <= 0x1p100 && a >= 0 && a <= 0x1p100 && beta > 0 && beta <= 16)) return s;
  const double u = 0x1p-24;
  // z = a S / k. The largest z (a power of two) whose truncation stays under u / 4 and where an S
  // off by sum_terms units moves the result by at most u / 4 (d ln B^-beta / d ln S = beta z / (1 + z)).
  double z = 0x1p-3;
  while (z > 0x1p-12 && (tail(beta, z) > u / 4 || beta * z * sum_terms > 0.25)) z /= 2;
  if (z <= 0x1p-12) return s;
  const double scale = std::pow(k, -beta);
  const double ratio = a / k;  // S^j carries ratio^j
  double c = 1, rj = 1;
  for (int j = 0; j <= kDegree; ++j) {
    if (j > 0) {
      c *= -(beta + j - 1) / j;  // binom(-beta, j)
      rj *= ratio;
    }
    const double coeff = c * rj * scale;
    if (!normal_float(coeff) || !normal_float(scale)) return s;
    s.coeff[j] = static_cast<float>(coeff);
  }
  const double limit = a > 0 ? z / ratio : FLT_MAX;
  // Rounded down, so every float32 S that passes S <= s_limit has a S / k <= z.
  s.s_limit = static_cast<float>(limit < FLT_MAX ? limit * (1 - 0x1p-20) : FLT_MAX);
  s.usable = true;
  return s;
}

}  // namespace lrn::series
