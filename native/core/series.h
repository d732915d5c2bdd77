// B^(-beta) = (k + a S)^(-beta) as a short polynomial in S where a*S/k is small: the fast
// kernels' shortcut for data whose window sums stay well below k/a (typical with alpha ~ 1e-4).
#pragma once

namespace lrn::series {

constexpr int kDegree = 4;

struct Series {
  bool usable = false;          // false: k, a or beta outside what the bounds below cover
  double coeff[kDegree + 1]{};  // B^(-beta) ~ sum coeff[j] S^j
  double s_limit = -1;          // for S in [0, s_limit]
};

// The series for (k + a S)^(-beta), with the largest range (a*S/k up to a power of two, at most
// 2^-3) over which its truncation stays under unit/4 relative, and an S off by `sum_terms`
// roundings of `unit` relative moves the result by under unit/4: so the series adds about half
// a unit to the error of the arithmetic that evaluates it. unit is 2^-24 for float32 results,
// 2^-53 for float64 ones. Unusable where the range would be below 2^-16 or a coefficient is
// not a normal number of that precision.
Series small_sum_series(double k, double a, double beta, double unit, int sum_terms);

}  // namespace lrn::series
