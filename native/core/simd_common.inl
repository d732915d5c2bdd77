// Vector helpers, beta constants, the series, float64 exp/log and finish(): what every path uses.
// A part of simd_lrn.inl: included inside its anonymous namespace, after the parts listed
// before it there; see that file for V and the accuracy rules.

inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
template <class T>
void fill_zero(T* p, int64_t n) { memset(p, 0, n * sizeof(T)); }

// Copies n floats with vector moves: the per-position copies are short, and a library call
// costs as much as the copy.
inline void copy_floats(float* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i + V::kF <= n; i += V::kF) V::storef(dst + i, V::loadf(src + i));
  for (; i < n; ++i) dst[i] = src[i];
}

using F = V::F;
using D = V::D;
constexpr int kF = V::kF;
constexpr int kD = kF / 2;

#define LRN_INLINE inline __attribute__((always_inline))
// Loops over a strip's vectors and a window's rows: unrolled, so their values stay in registers.
#define LRN_UNROLL _Pragma("GCC unroll 32")

// A vector of `valid` floats from p (the rest zero), reading only those; and its converse,
// storing only the first `valid` lanes. Masked moves where the ISA has them (V::load_n/store_n).
LRN_INLINE F load_part(const float* p, int64_t valid) { return valid >= kF ? V::loadf(p) : V::load_n(p, valid); }

LRN_INLINE void store_part(float* p, F v, int64_t valid) {
  if (valid >= kF) V::storef(p, v);
  else V::store_n(p, v, valid);
}

enum class Beta { Zero, Half, ThreeQuarters, One, Other };

Beta beta_kind(double beta) {
  if (beta == 0) return Beta::Zero;
  if (beta == 0.5) return Beta::Half;
  if (beta == 0.75) return Beta::ThreeQuarters;
  if (beta == 1) return Beta::One;
  return Beta::Other;
}

// B^(-beta) in float32 is used only for B in [2^-100, 2^100]: far from overflow and underflow.
constexpr float kLowB = 0x1p-100f;
constexpr float kHighB = 0x1p100f;

// beta as hi + lo in float32, hi with 12 significant bits (for scale_pow).
void split_beta(double beta, float* hi, float* lo) {
  const float rounded = static_cast<float>(beta);
  uint32_t bits;
  memcpy(&bits, &rounded, sizeof bits);
  bits &= 0xFFFFF000u;  // the sign, exponent and top 11 stored bits
  memcpy(hi, &bits, sizeof bits);
  *lo = static_cast<float>(beta - *hi);
}

// On the float64-sum path, B rounded to float32 adds half a unit of 2^-24 times beta to the
// result's error; up to this beta scale_pow (where V has it) keeps the total within the
// contract's bound.
constexpr double kMaxRoundedBBeta = 2;

// B^(-beta) as a polynomial in S (lrn::series) for vectors whose every S is at most `limit`
// (never, where the series is unusable: limit -1): four FMAs instead of a power.
struct Series {
  F limit;
  F c[lrn::series::kDegree + 1];
};

Series series_vectors(const lrn::series::Series& s) {
  Series out;
  out.limit = V::setf(s.usable ? static_cast<float>(s.s_limit) : -1.0f);
  for (int j = 0; j <= lrn::series::kDegree; ++j) out.c[j] = V::setf(static_cast<float>(s.coeff[j]));
  return out;
}

// The series for float32 window sums of `sum_terms` roundings.
Series series_of(const lrn::Params& p, int sum_terms) {
  return series_vectors(lrn::series::small_sum_series(p.k, p.a, p.beta, 0x1p-24, sum_terms));
}

// One NHWC position's squares in float32, from dst[0] on (zeros past the last channel, up to a
// whole vector).
LRN_INLINE void square_position(float* dst, const float* in, int64_t C) {
  for (int64_t c = 0; c < C; c += kF) {
    const F v = load_part(in + c, C - c);
    V::storef(dst + c, V::mulf(v, v));
  }
}

// True when every lane's S lies in the series' range (false for NaN).
LRN_INLINE bool series_ok(F s, const Series& ser) { return V::all(V::le(s, ser.limit)); }

// x * B^(-beta) by the series, in Horner's form.
LRN_INLINE F series_scale(F x, F s, const Series& ser) {
  F q = V::fmaf(ser.c[4], s, ser.c[3]);
  q = V::fmaf(q, s, ser.c[2]);
  q = V::fmaf(q, s, ser.c[1]);
  return V::mulf(x, V::fmaf(q, s, ser.c[0]));
}

struct Consts {
  Series series;  // on float64 sums rounded once to float32
  D k, a, neg_beta;
  F low, high;
  // scale_pow on the rounded B: beta split, and B's range: inside [2^-100, 2^100] and keeping
  // 2^(-beta log2 B) within 2^-100 .. 2^100 (so the scaled power stays a normal float)
  F beta_hi, beta_lo, neg_beta_f, pow_low, pow_high;
  Beta beta;
  double beta_value;
  bool rounded_b_power;
};

Consts consts_of(const lrn::Params& p) {
  float hi, lo;
  split_beta(p.beta, &hi, &lo);
  const bool rounded_b_power = V::kPowF32 && beta_kind(p.beta) == Beta::Other && p.beta <= kMaxRoundedBBeta;
  // B in [2^-100, 2^100] always; for beta above 1 also within a factor 2 inside 2^(+-100 / beta).
  float pow_low = kLowB, pow_high = kHighB;
  if (rounded_b_power && p.beta > 1) {
    const double reach = lrn::portable::inv_pow(2, -100 / p.beta);  // 2^(100 / beta), 2^50 .. 2^100
    pow_low = static_cast<float>(2 / reach);
    pow_high = static_cast<float>(reach / 2);
  }
  return {series_of(p, 1), V::setd(p.k), V::setd(p.a), V::setd(-p.beta), V::setf(kLowB), V::setf(kHighB),
          V::setf(hi), V::setf(lo), V::setf(-static_cast<float>(p.beta)), V::setf(pow_low), V::setf(pow_high),
          beta_kind(p.beta), p.beta, rounded_b_power};
}

// ln(b) for b in [2^-100, 2^100], in float64 vectors: b = 2^k * m with m in [sqrt(1/2), sqrt(2))
// (integer operations on the bits), ln(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, by its
// series to s^17 (relative error under 1e-15).
LRN_INLINE D log_d(D b) {
  constexpr int64_t kSqrtHalfBits = 0x3fe6a09e667f3bcdLL;
  const auto ix = V::addi(V::bits(b), V::seti(0x3ff0000000000000LL - kSqrtHalfBits));
  // k + 1023 is the top 12 bits (b > 0); as a double via the 2^52 trick.
  const D k = V::subd(V::subd(V::from_bits(V::ori(V::srli52(ix), V::seti(0x4330000000000000LL))), V::setd(0x1p52)),
                      V::setd(1023));
  const D m = V::from_bits(V::addi(V::andi(ix, V::seti(0x000fffffffffffffLL)), V::seti(kSqrtHalfBits)));
  const D s = V::divd(V::subd(m, V::setd(1)), V::addd(m, V::setd(1)));
  const D z = V::muld(s, s);
  static constexpr double kAtanh[] = {1.0 / 15, 1.0 / 13, 1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1.0};
  D poly = V::setd(1.0 / 17);
  for (const double c : kAtanh) poly = V::fmad(poly, z, V::setd(c));
  const D ln_m = V::muld(V::addd(s, s), poly);
  return V::fmad(k, V::setd(0x1.62e42fefa39efp-1), ln_m);  // k ln 2 + ln m
}

// exp(t) for |t| <= 708 in float64 vectors: t = n ln 2 + r, |r| <= ln(2)/2, exp(r) by its Taylor
// series to r^13 (relative error under 1e-15), 2^n from the bits.
LRN_INLINE D exp_d(D t) {
  const D shifter = V::setd(0x1.8p52);
  const D big = V::fmad(t, V::setd(0x1.71547652b82fep0), shifter);  // n + 1.5 * 2^52, n = round(t / ln 2)
  const D n = V::subd(big, shifter);
  const D r = V::fmad(n, V::setd(-0x1.abc9e3b39803fp-56), V::fmad(n, V::setd(-0x1.62e42fefa39efp-1), t));
  static constexpr double kTaylor[] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                                       1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0,
                                       1.0 / 6.0, 0.5, 1.0, 1.0};
  D poly = V::setd(1.0 / 6227020800.0);  // 1/13!
  for (const double c : kTaylor) poly = V::fmad(poly, r, V::setd(c));
  // 2^n: n sits in the low bits of big's integer pattern, offset by the shifter's.
  const auto two_n = V::slli52(V::addi(V::subi(V::bits(big), V::bits(shifter)), V::seti(1023)));
  return V::muld(poly, V::from_bits(two_n));
}

// x * B^(-beta) in float64 from B's two halves, for a beta without a float32 shortcut
// (beta <= 7 and B in [2^-100, 2^100], so |beta ln B| <= 486).
LRN_INLINE F power_other(F x, D b_lo, D b_hi, D neg_beta) {
  const D lo = V::muld(V::lo(x), exp_d(V::muld(neg_beta, log_d(b_lo))));
  const D hi = V::muld(V::hi(x), exp_d(V::muld(neg_beta, log_d(b_hi))));
  return V::narrow(lo, hi);
}

// x * b^-beta for any beta up to 1, b in [2^-100, 2^100], on ISAs with a float32 power
// (Ops::kPowF32); beta comes as hi + lo (hi with 12 significant bits, so hi * e is exact for b's
// exponent e) and negated. b = 2^e m with m in [0.75, 1.5) (Ops::mant_exp); log2 m = u P(u^2),
// u = (m - 1) / (m + 1) (Ops::reciprocal: an estimate and a Newton step, not a division where
// the ISA has one), |u| <= 0.2, to u^11; then b^-beta = 2^n 2^g, n the integer nearest
// -beta log2 b and g = (-hi e - n) - beta log2 m - lo e, |g| <= 0.5 + tiny, with no rounding at a
// magnitude above |g|; 2^g by its Taylor series to degree 7, times 2^n (Ops::times_pow2). A few
// units of 2^-24 (docs/kernels.md, "The float32 power").
template <class Ops>
LRN_INLINE F scale_pow(F x, F b, F hi, F lo, F neg_beta) {
  const F one = V::setf(1.0f);
  F m, e;
  Ops::mant_exp(b, m, e);
  const F u = V::mulf(V::subf(m, one), Ops::reciprocal(V::addf(m, one)));
  const F z = V::mulf(u, u);
  // The polynomials in Estrin's form: this is a long dependent chain, and shorter is faster.
  constexpr float k2OverLn2 = 2.8853900817779268f;  // 2 / ln 2
  auto c = [](float v) { return V::setf(v); };
  const F z2 = V::mulf(z, z);
  const F q0 = V::fmaf(c(k2OverLn2 / 3), z, c(k2OverLn2));
  const F q1 = V::fmaf(c(k2OverLn2 / 7), z, c(k2OverLn2 / 5));
  const F q2 = V::fmaf(c(k2OverLn2 / 11), z, c(k2OverLn2 / 9));
  const F poly = V::fmaf(V::fmaf(q2, z2, q1), z2, q0);
  const F log2m = V::mulf(u, poly);
  // n needs only to be near -beta log2 b: u * 2/ln2 is log2 m within 0.01, so n does not wait
  // for the polynomial.
  const F n = Ops::round_nearest(V::mulf(neg_beta, V::fmaf(u, c(k2OverLn2), e)));
  const F exact = V::fnmaf(hi, e, V::subf(V::zerof(), n));  // -hi*e - n, exactly
  const F g = V::fnmaf(lo, e, V::fmaf(neg_beta, log2m, exact));
  // 2^g = sum (g ln 2)^j / j! to degree 7, |g| <= 0.51.
  const F g2 = V::mulf(g, g);
  const F g4 = V::mulf(g2, g2);
  const F p01 = V::fmaf(c(6.9314718055994531e-01f), g, c(1.0f));
  const F p23 = V::fmaf(c(5.5504108664821580e-02f), g, c(2.4022650695910071e-01f));
  const F p45 = V::fmaf(c(1.3333558146428443e-03f), g, c(9.6181291076284772e-03f));
  const F p67 = V::fmaf(c(1.5252733804059841e-05f), g, c(1.5403530393381606e-04f));
  const F p = V::fmaf(V::fmaf(p67, g2, p45), g4, V::fmaf(p23, g2, p01));
  return V::mulf(x, Ops::times_pow2(p, n));
}

// x * B^(-beta) in float32 for the betas with a shortcut (B inside [2^-100, 2^100]).
LRN_INLINE F power_f32(F x, F b, Beta beta) {
  switch (beta) {
    case Beta::Zero: return x;
    case Beta::Half: return V::mulf(x, V::rsqrtf(b));
    case Beta::One: return V::divf(x, b);
    default: return V::scale_m075(x, b);
  }
}

// y = x * B^(-beta) for one vector, from the window sums' two double halves: by the series where
// every S is small enough, else from B = k + a*S; lanes the float32 power cannot take are
// finished in float64 from the same B.
template <class Ops = V>
LRN_INLINE F finish(F x, D s_lo, D s_hi, const Consts& c) {
  const F s = V::narrow(s_lo, s_hi);
  if (series_ok(s, c.series)) return series_scale(x, s, c.series);
  const D b_lo = V::fmad(c.a, s_lo, c.k), b_hi = V::fmad(c.a, s_hi, c.k);
  const F b = V::narrow(b_lo, b_hi);
  // rounded_b_power (other betas only): its range lies inside [low, high], so one check.
  if constexpr (Ops::kPowF32) {
    if (c.rounded_b_power && V::between(b, c.pow_low, c.pow_high)) {
      return scale_pow<Ops>(x, b, c.beta_hi, c.beta_lo, c.neg_beta_f);
    }
  }
  if (V::between(b, c.low, c.high)) {
    if (c.beta != Beta::Other) return power_f32(x, b, c.beta);
    if (c.beta_value <= 7) return power_other(x, b_lo, b_hi, c.neg_beta);
  }
  alignas(64) double bs[kF];
  alignas(64) float xs[kF];
  V::stored(bs, b_lo);
  V::stored(bs + kD, b_hi);
  V::storef(xs, x);
  for (int i = 0; i < kF; ++i) {
    xs[i] = static_cast<float>(lrn::portable::times_inv_pow(xs[i], bs[i], c.beta_value));
  }
  return V::loadf(xs);
}

// The sum of n vectors (float or double) as a balanced tree: fewer dependent adds, and the same
// rounding whichever layout produced the terms.
LRN_INLINE F add(F a, F b) { return V::addf(a, b); }
LRN_INLINE D add(D a, D b) { return V::addd(a, b); }

template <int N, class T>
LRN_INLINE T sum_tree(const T* t) {
  if constexpr (N == 1) return t[0];
  else return add(sum_tree<N / 2>(t), sum_tree<N - N / 2>(t + N / 2));
}

// Lane i: the sum of elements i - L .. i + R of prev:cur:next, the neighbours built in registers
// (ISAs with a two-vector align, Ops::kShiftInRegisters; Ops is a template parameter so that
// other ISAs never instantiate it). L, R <= 4.
template <class Ops, int L, int R>
LRN_INLINE F shifted_window_sum(F prev, F cur, F next) {
  F terms[L + R + 1];
  terms[L] = cur;
  if constexpr (L >= 1) terms[L - 1] = Ops::template shift_in_low<1>(cur, prev);
  if constexpr (L >= 2) terms[L - 2] = Ops::template shift_in_low<2>(cur, prev);
  if constexpr (L >= 3) terms[L - 3] = Ops::template shift_in_low<3>(cur, prev);
  if constexpr (L >= 4) terms[L - 4] = Ops::template shift_in_low<4>(cur, prev);
  if constexpr (R >= 1) terms[L + 1] = Ops::template shift_in_high<1>(next, cur);
  if constexpr (R >= 2) terms[L + 2] = Ops::template shift_in_high<2>(next, cur);
  if constexpr (R >= 3) terms[L + 3] = Ops::template shift_in_high<3>(next, cur);
  if constexpr (R >= 4) terms[L + 4] = Ops::template shift_in_high<4>(next, cur);
  return sum_tree<L + R + 1>(terms);
}

// Adds the squares of v (in float64) to the two halves of a window sum.
LRN_INLINE void add_squares(F v, D& s_lo, D& s_hi) {
  const D l = V::lo(v), h = V::hi(v);
  s_lo = V::fmad(l, l, s_lo);
  s_hi = V::fmad(h, h, s_hi);
}
