// B^(-beta) = (k + a S)^(-beta) as a short polynomial in S where a*S/k is small: the fast
// kernels' shortcut for data whose window sums stay well below k/a (typical with alpha ~ 1e-4).
#pragma once

namespace lrn::series {

constexpr int kDegree = 4;

struct Series {
  bool usable = false;         // false: k, a or beta outside what the bounds below cover
  float coeff[kDegree + 1]{};  // B^(-beta) ~ sum coeff[j] S^j
  float s_limit = -1;          // for S in [0, s_limit]
};

// The series for (k + a S)^(-beta) when every float32 S up to s_limit gives a result within
// 1 unit of 2^-24 of the exact power (truncation, coefficient rounding, and an S that is itself
// off by up to `sum_terms` units), so that with the evaluation's roundings the kernels stay
// well inside SPEC's 8.
Series small_sum_series(double k, double a, double beta, int sum_terms);

}  // namespace lrn::series
