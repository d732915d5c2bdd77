// LRN evaluated straight from its definition, element by element in float64, and the accuracy
// contract the kernels are held to (README, "Test"; test/fixtures/golden/README.md, "Tolerance").
// It shares no code with the kernels (not even lrn::portable): the kernel test and the fuzz
// target (../fuzz/fuzz_lrn.cpp) check every kernel against it.
//
//   y[i]  = x[i] * B[i]^-beta,   B[i] = k + a * sum of x[j]^2 over the window W(i)
//   dx[i] = term1 - term2,       term1 = dy[i] * B[i]^-beta,
//                                term2 = 2 a beta x[i] * sum over o with i in W(o) of dy[o] x[o] B[o]^(-beta-1)
//
// W(i) for across-channels LRN: channels [c - before, c + after] clipped to [0, C-1] at the same
// position; within-channel: the box [q - before, q + after] on every spatial axis, clipped to
// the axis, in the same channel. The o whose window holds i are the mirrored window (before and
// after swapped).
#pragma once
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../core/lrn.h"

namespace lrn::reference {

// Offset of element (batch b, channel c, flat spatial index q).
inline int64_t offset(const Params& p, int64_t b, int64_t c, int64_t q) {
  const int64_t S = p.spatial_size, C = p.channels;
  return p.layout == Layout::NCHW ? (b * C + c) * S + q : (b * S + q) * C + c;
}

// Calls visit(channel, flat spatial index) for every element of the window of (c, q) that
// reaches `before` back and `after` forward, walking each windowed axis element by element.
template <class Visit>
void window(const Params& p, int64_t c, int64_t q, int64_t before, int64_t after, Visit&& visit) {
  if (p.region == Region::AcrossChannels) {
    for (int64_t j = std::max<int64_t>(0, c - before); j <= std::min(p.channels - 1, c + after); ++j) visit(j, q);
    return;
  }
  const int rank = p.spatial_rank;
  std::vector<int64_t> lo(rank), hi(rank);
  int64_t rest = q;
  for (int a = rank - 1; a >= 0; --a) {
    const int64_t coord = rest % p.spatial[a];
    rest /= p.spatial[a];
    lo[a] = std::max<int64_t>(0, coord - before);
    hi[a] = std::min(p.spatial[a] - 1, coord + after);
  }
  std::vector<int64_t> cur = lo;
  for (;;) {
    int64_t flat = 0;
    for (int a = 0; a < rank; ++a) flat = flat * p.spatial[a] + cur[a];
    visit(c, flat);
    int a = rank - 1;
    while (a >= 0 && cur[a] == hi[a]) cur[a] = lo[a], --a;
    if (a < 0) break;
    ++cur[a];
  }
}

// Applies f(offset of the element, channel, flat spatial index) to every element in turn.
template <class F>
void each(const Params& p, F&& f) {
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t c = 0; c < p.channels; ++c)
      for (int64_t q = 0; q < p.spatial_size; ++q) f(offset(p, b, c, q), b, c, q);
}

// B = k + a * (sum of squares over the window), per element.
inline std::vector<double> bases(const Params& p, const double* x) {
  std::vector<double> B(static_cast<size_t>(p.length()));
  each(p, [&](int64_t i, int64_t b, int64_t c, int64_t q) {
    double s = 0;
    window(p, c, q, p.before, p.after, [&](int64_t j, int64_t r) {
      const double v = x[offset(p, b, j, r)];
      s += v * v;
    });
    B[i] = p.k + p.a * s;
  });
  return B;
}

// u * v * B^(-e) in float64 arithmetic, except where B is positive and finite, u and v finite,
// and B^(-e) or u * v is not a normal float64: there the exact product (0 where u or v is 0)
// rounded to float64, from long double, whose range is many times float64's (x86's 80-bit
// format, aarch64's 128-bit one).
static_assert(std::numeric_limits<long double>::max_exponent > 4 * std::numeric_limits<double>::max_exponent,
              "the reference needs a long double with a wider range than double");
inline double times_power(double u, double v, double B, double e) {
  const double P = std::pow(B, -e), uv = u * v;
  const auto normal = [](double w) { return w >= DBL_MIN && w <= DBL_MAX; };
  const bool in_range = normal(P) && (normal(std::fabs(uv)) || u == 0 || v == 0);
  if (in_range || !(B > 0 && B <= DBL_MAX) || !std::isfinite(u) || !std::isfinite(v)) return uv * P;
  if (u == 0 || v == 0) return uv;
  using Wide = long double;
  return static_cast<double>(static_cast<Wide>(u) * static_cast<Wide>(v) * std::pow(static_cast<Wide>(B), -static_cast<Wide>(e)));
}

inline std::vector<double> forward(const Params& p, const double* x) {
  const std::vector<double> B = bases(p, x);
  std::vector<double> y(B.size());
  for (size_t i = 0; i < y.size(); ++i) y[i] = times_power(x[i], 1, B[i], p.beta);
  return y;
}

// The gradient and, per element, |term1| + |term2| (what the contract's float32 bound scales) and
// |term1| + |2 a beta x[i]| * (sum of |dy[o] x[o] B[o]^(-beta-1)|): the size of everything summed,
// which bounds the rounding error of any float64 evaluation where term2's sum cancels; and
// |2 a beta x[i]| times the number of t summed times 2^-1074: what t rounded to float64 can lose
// below its normal range (each t off by up to 2^-1075), which no float64 evaluation avoids.
struct Gradient {
  std::vector<double> dx, terms, magnitudes, resolution;
};

inline Gradient backward(const Params& p, const double* x, const double* dy) {
  const std::vector<double> B = bases(p, x);
  const size_t n = B.size();
  std::vector<double> t(n);
  for (size_t o = 0; o < n; ++o) t[o] = times_power(dy[o], x[o], B[o], p.beta + 1);
  Gradient g{std::vector<double>(n), std::vector<double>(n), std::vector<double>(n), std::vector<double>(n)};
  each(p, [&](int64_t i, int64_t b, int64_t c, int64_t q) {
    double sum = 0, size = 0, count = 0;
    window(p, c, q, p.after, p.before, [&](int64_t j, int64_t r) {
      sum += t[offset(p, b, j, r)];
      size += std::fabs(t[offset(p, b, j, r)]);
      ++count;
    });
    const double term1 = times_power(dy[i], 1, B[i], p.beta), scale = 2 * p.a * p.beta * x[i];
    g.dx[i] = term1 - scale * sum;
    // With 2 a beta x[i] = 0, term2 and its share of everything summed are 0 (the sums of t are
    // finite, if past float64's largest: their 0 * Infinity would make the bound NaN).
    g.terms[i] = std::fabs(term1) + (scale == 0 ? 0 : std::fabs(scale * sum));
    g.magnitudes[i] = std::fabs(term1) + (scale == 0 ? 0 : std::fabs(scale) * size);
    g.resolution[i] = std::fabs(scale) * count * std::numeric_limits<double>::denorm_min();
  });
  return g;
}

// ---- the contract ----------------------------------------------------------------------------
// NaN exactly where the reference is NaN. An infinity where it is the rounding to T of a value
// within the bound of the reference (the reference past T's largest, or within the bound of it);
// T's largest too where that is within the bound of a reference past it. Otherwise float32 forward within 2^-21 relative of the
// reference where it is a normal float32 (4 * 2^-149 absolute where not), float64 forward within
// 1e-12 relative (4 * 2^-1074 absolute below the normal range); float32 backward within
// docs/contract.md's 1e-5 * (|term1| + |term2|). Where term2's sum cancels, no float64 evaluation
// (the reference's own, the kernels' float64 redo) is that close: every backward is also allowed
// 1e-12 of the gradient's magnitudes (Gradient), which is float64's bound in docs/contract.md,
// "Accuracy", where the sum cancels. Below T's normal range, the backward also as the forward.

// Below T's normal range a result is held to a few of T's smallest steps.
template <class T>
bool tiny_ok(T got, double want) {
  return std::fabs(want) < std::numeric_limits<T>::min() &&
         std::fabs(static_cast<double>(got) - want) <= 4 * static_cast<double>(std::numeric_limits<T>::denorm_min());
}

// `units`, when given, receives the relative error in units of 2^-24 (normal references only).
template <class T>
bool forward_ok(T got, double want, double* units = nullptr) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isnan(got)) return false;
  const double rel = sizeof(T) == 4 ? 0x1p-21 : 1e-12;
  if (std::isinf(got)) return static_cast<T>(got > 0 ? want + rel * std::fabs(want) : want - rel * std::fabs(want)) == got;
  if (std::isinf(want)) return false;
  if (std::fabs(want) < std::numeric_limits<T>::min()) return tiny_ok(got, want);
  const double err = std::fabs(static_cast<double>(got) - want);
  if (units) *units = err / std::fabs(want) * 0x1p24;
  return err <= rel * std::fabs(want);
}

template <class T>
double backward_bound(const Gradient& g, size_t i) {
  return (sizeof(T) == 4 ? 1e-5 * g.terms[i] : 0) + 1e-12 * g.magnitudes[i] + g.resolution[i];
}

// A float32 bound can reach past float32's range (terms near 1e60 that cancel): any value inside
// it is right, and the infinity on the side where it reaches past.
template <class T>
bool backward_ok(T got, const Gradient& g, size_t i) {
  const double want = g.dx[i], bound = backward_bound<T>(g, i);
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  if (std::isnan(got)) return false;
  if (std::isinf(got)) return static_cast<T>(got > 0 ? want + bound : want - bound) == got;
  // The reference's own value is right even where its bound is NaN (a = 0 or beta = 0 times a sum
  // of |t| that overflowed float64).
  if (static_cast<double>(got) == want) return true;
  return std::fabs(static_cast<double>(got) - want) <= bound || tiny_ok(got, want);
}

}  // namespace lrn::reference
