// SIMD float32 LRN, written once over a vector-ops struct `V` and compiled once per instruction
// set: each kernel_<isa>.cpp defines V and includes this file inside its own namespace, so no
// function compiled with one ISA's flags can be picked by the linker for another.
//
// V provides: kF float lanes, F (kF floats), D (kF/2 doubles); loadf/storef (unaligned), lo/hi
// (widen each half of an F to D), narrow(D, D) -> F, setf/setd, addd/subd/muld/divd/sqrtd,
// fmad(a, b, c) = a*b + c, loadd/stored, addf/mulf/divf/sqrtf/fmaf/absf, rsqrtf (~1 ulp), scale_m075
// (x * b^-0.75, a few units of 2^-24), load_n/store_n and load_nd/store_nd (floats, doubles:
// the first n lanes only; loads zero the rest), zerof, maxf, between(F, lo, hi) (all lanes inside, false for NaN), masks M with
// ge/le/lt, and_/or_, all; kRegisters (vector registers); kShiftInRegisters, and when true
// shift_in_low<j>(cur, prev) / shift_in_high<j>(next, cur) (lanes of two vectors shifted by j).
// For float64 exp/log: bits(D) / from_bits, and 64-bit integer lanes with seti, addi, subi, andi,
// ori, srli52, slli52.
//
// Speed: where a*S/k is small for a whole vector, B^(-beta) is a short series in S (lrn::series;
// Series below), which is also exact enough to take float32 window sums for any beta; the
// float32 backward and within-channel paths rest on it. Otherwise:
//
// Accuracy: windows of up to 8 channels sum their squares in float32 (at most 8 roundings, a few
// units in the last place at worst) when beta is 0, 0.5, 0.75 or 1, or any beta up to 1 where V
// has a float32 power (kPowF32, scale_pow); wider windows and larger betas (which would amplify
// the sum's error by beta) sum in float64. The power is taken in float32 on the float32 path, in
// float64 vectors (exp(-beta ln B)) on the float64 one for betas up to 7, only when B is well
// inside the float32 range; every other lane (huge, tiny, NaN, Inf, beta above 7) is finished in
// float64 from the original values, so results stay within SPEC's 4 float32 ulps of the float64
// reference.
//
// The includer includes <cstring> and "portable.h" at global scope first. Nothing here uses
// std templates: an out-of-line copy of one, compiled with this file's ISA flags, could be the
// copy the linker keeps for the whole program. Everything below has internal linkage.

namespace {

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
// Loops over a strip's vectors and a window's rows: unrolled, so their values stay in registers.
#define LRN_UNROLL _Pragma("GCC unroll 32")

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

// beta as hi + lo in float32, hi with 12 significant bits (for V::scale_pow).
void split_beta(double beta, float* hi, float* lo) {
  const float rounded = static_cast<float>(beta);
  uint32_t bits;
  memcpy(&bits, &rounded, sizeof bits);
  bits &= 0xFFFFF000u;  // the sign, exponent and top 11 stored bits
  memcpy(hi, &bits, sizeof bits);
  *lo = static_cast<float>(beta - *hi);
}

// On the float64-sum path, B rounded to float32 adds half a unit of 2^-24 times beta to the
// result's error; up to this beta V::scale_pow (where it exists) keeps the total within SPEC.
constexpr double kMaxRoundedBBeta = 2;

// B^(-beta) as a polynomial in S (lrn::series) for vectors whose every S is at most `limit`
// (never, where the series is unusable: limit -1): four FMAs instead of a power.
struct Series {
  F limit;
  F c[lrn::series::kDegree + 1];
};

Series series_of(const lrn::Params& p, int sum_terms) {
  const lrn::series::Series s = lrn::series::small_sum_series(p.k, p.a, p.beta, 0x1p-24, sum_terms);
  Series out;
  out.limit = V::setf(s.usable ? static_cast<float>(s.s_limit) : -1.0f);
  for (int j = 0; j <= lrn::series::kDegree; ++j) out.c[j] = V::setf(static_cast<float>(s.coeff[j]));
  return out;
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
  // V::scale_pow on the rounded B: beta split, and B's range: inside [2^-100, 2^100] and keeping
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
      return Ops::scale_pow(x, b, c.beta_hi, c.beta_lo, c.neg_beta_f);
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
    xs[i] = static_cast<float>(static_cast<double>(xs[i]) * lrn::portable::inv_pow(bs[i], c.beta_value));
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

// Adds the squares of v (in float64) to the two halves of a window sum.
LRN_INLINE void add_squares(F v, D& s_lo, D& s_hi) {
  const D l = V::lo(v), h = V::hi(v);
  s_lo = V::fmad(l, l, s_lo);
  s_hi = V::fmad(h, h, s_hi);
}

// One output of across-channels LRN in float64, for the elements that do not fill a vector.
float forward_scalar(const float* src, int64_t stride, int64_t lo, int64_t hi, int64_t c, const lrn::Params& p) {
  double s = 0;
  for (int64_t j = lo; j <= hi; ++j) {
    const double v = src[j * stride];
    s += v * v;
  }
  return static_cast<float>(static_cast<double>(src[c * stride]) * lrn::portable::inv_pow(p.k + p.a * s, p.beta));
}

// NCHW rows: `src` holds channel j's `count` positions at src + j*stride; writes channel c's
// outputs to dst[0..count).
void forward_row(const float* src, int64_t stride, int64_t count, int64_t C, int64_t c, float* dst,
                 const lrn::Params& p, const Consts& k) {
  const int64_t lo = imax(0, c - p.before), hi = imin(C - 1, c + p.after);
  int64_t q = 0;
  for (; q + kF <= count; q += kF) {
    D s_lo = V::setd(0), s_hi = V::setd(0);
    for (int64_t j = lo; j <= hi; ++j) add_squares(V::loadf(src + j * stride + q), s_lo, s_hi);
    const F x = V::loadf(src + c * stride + q);
    V::storef(dst + q, finish(x, s_lo, s_hi, k));
  }
  for (; q < count; ++q) dst[q] = forward_scalar(src + q, stride, lo, hi, c, p);
}

// Positions per block for in-place NCHW (a copy of the block's inputs) and for backward.
int64_t block_positions(const lrn::Params& p) {
  const int64_t fit = imax(kF, 8192 / imax(1, p.channels) / kF * kF);
  return imin(fit, imax(p.spatial_size, 1));
}

void forward_nchw_wide(const lrn::Params& p, const float* x, float* y, float* copy) {
  const int64_t C = p.channels, S = p.spatial_size;
  const Consts k = consts_of(p);
  for (int64_t b = 0; b < p.batch; ++b) {
    const float* xb = x + b * C * S;
    float* yb = y + b * C * S;
    if (x != y) {
      for (int64_t c = 0; c < C; ++c) forward_row(xb, S, S, C, c, yb + c * S, p, k);
      continue;
    }
    // In place: writing channel c would destroy inputs that channels c+1..c+before still need.
    const int64_t block = block_positions(p);
    for (int64_t q0 = 0; q0 < S; q0 += block) {
      const int64_t count = imin(block, S - q0);
      for (int64_t c = 0; c < C; ++c) memcpy(copy + c * count, xb + c * S + q0, count * sizeof(float));
      for (int64_t c = 0; c < C; ++c) forward_row(copy, count, count, C, c, yb + c * S + q0, p, k);
    }
  }
}

// NHWC: each position's channels are copied between zero pads, so every vector of outputs reads
// whole vectors at any window offset, and in place needs nothing more.
struct Padded {
  int64_t pad;    // zeros before the channels
  int64_t width;  // pad + C + kF
};

Padded padded_of(const lrn::Params& p, int64_t before) {
  const int64_t pad = imin(before, p.channels + kF);
  return {pad, pad + p.channels + kF};
}

// NHWC, float64 sums: each position's squares are widened once into a zero-padded double buffer
// (kF zeros before, kF after: the window is clipped to the channels, so no load reaches further),
// and each output half-vector sums shifted loads of it, in the same order as squaring in place
// would (the squares of floats are exact in double). Two buffers: the next position's squares
// are written while this one's are read, so loads never wait on just-stored overlapping data.
int64_t nhwc_squares_width(const lrn::Params& p) { return (p.channels + 3 * kF) / kD * kD; }

// One position's squares in float64, after kF zeros, into a buffer of nhwc_squares_width.
void nhwc_squares_d(double* buf, const float* xp, int64_t C) {
  for (int64_t c = 0; c < C; c += kF) {
    const F v = load_part(xp + c, C - c);
    const D l = V::lo(v), h = V::hi(v);
    V::stored(buf + kF + c, V::muld(l, l));
    V::stored(buf + kF + c + kD, V::muld(h, h));
  }
}

// One position from its float64 squares (sq: channel 0's square, zeros on both sides).
void nhwc_position_d(const lrn::Params& p, const Consts& k, const double* sq, const float* xp, float* out) {
  const int64_t C = p.channels, L = p.before, R = p.after;
  for (int64_t c = 0; c < C; c += kF) {
    const int64_t jlo = imax(-L, -(c + kF - 1)), jhi = imin(R, C - 1 - c);
    D s_lo = V::setd(0), s_hi = V::setd(0);
    for (int64_t j = jlo; j <= jhi; ++j) {
      s_lo = V::addd(s_lo, V::loadd(sq + c + j));
      s_hi = V::addd(s_hi, V::loadd(sq + c + j + kD));
    }
    const int64_t valid = imin(kF, C - c);
    store_part(out + c, finish(load_part(xp + c, valid), s_lo, s_hi, k), valid);
  }
}

// Squares of the next position are formed while this one is summed: shifted loads of
// just-stored vectors would wait for the stores to retire.
void forward_nhwc_wide(const lrn::Params& p, const float* x, float* y, double* work) {
  const int64_t C = p.channels;
  const Consts k = consts_of(p);
  const int64_t width = nhwc_squares_width(p);
  double* bufs[2] = {work, work + width};
  fill_zero(work, 2 * width);
  const int64_t positions = p.batch * p.spatial_size;
  if (positions > 0) nhwc_squares_d(bufs[0], x, C);
  for (int64_t pos = 0; pos < positions; ++pos) {
    if (pos + 1 < positions) nhwc_squares_d(bufs[(pos + 1) & 1], x + (pos + 1) * C, C);
    nhwc_position_d(p, k, bufs[pos & 1] + kF, x + pos * C, y + pos * C);
  }
}

// NHWC for a beta that only the series takes in float32 (windows of W <= 8): each position
// tries float32 window sums and the series; a position with any sum past the series' range is
// computed from float64 sums (as forward_nhwc_wide), so its bytes depend on its own values only.
// Squares of the next position are formed while this one is summed (see forward_nhwc_wide).
int64_t nhwc_series_floats(const lrn::Params& p) { return 2 * (p.before + p.channels + p.after + 2 * kF) + p.channels + kF; }

template <int W>
void forward_nhwc_series(const lrn::Params& p, const float* x, float* y, double* work) {
  const int64_t C = p.channels, L = p.before, R = p.after;
  const Consts k = consts_of(p);
  const Series ser = series_of(p, W + 1);
  const int64_t width = L + C + R + 2 * kF;
  double* sqd = work;  // nhwc_squares_width, for a position past the series' range
  float* sqf[2] = {reinterpret_cast<float*>(work + nhwc_squares_width(p)), nullptr};
  sqf[1] = sqf[0] + width;
  float* tmp = sqf[1] + width;  // in place: the outputs until the position is known good
  fill_zero(sqd, nhwc_squares_width(p));
  fill_zero(sqf[0], 2 * width);
  const bool in_place = x == y;
  auto squares = [&](int64_t pos) __attribute__((always_inline)) {
    float* b = sqf[pos & 1] + L;
    const float* in = x + pos * C;
    for (int64_t c = 0; c < C; c += kF) {
      const F v = load_part(in + c, C - c);
      V::storef(b + c, V::mulf(v, v));  // zeros past the last channel
    }
  };
  const int64_t positions = p.batch * p.spatial_size;
  if (positions > 0) squares(0);
  for (int64_t pos = 0; pos < positions; ++pos) {
    if (pos + 1 < positions) squares(pos + 1);
    const float* sq = sqf[pos & 1];
    const float* xp = x + pos * C;
    float* dst = in_place ? tmp : y + pos * C;
    bool ok = true;
    for (int64_t c = 0; c < C && ok; c += kF) {
      F terms[W];
      LRN_UNROLL
      for (int w = 0; w < W; ++w) terms[w] = V::loadf(sq + c + w);
      const F sum = sum_tree<W>(terms);
      ok = series_ok(sum, ser);
      store_part(dst + c, series_scale(load_part(xp + c, C - c), sum, ser), C - c);
    }
    if (!ok) {
      nhwc_squares_d(sqd, xp, C);
      nhwc_position_d(p, k, sqd + kF, xp, y + pos * C);
    } else if (in_place) {
      copy_floats(y + pos * C, tmp, C);
    }
  }
}

using ForwardNhwcSeries = void (*)(const lrn::Params&, const float*, float*, double*);
constexpr ForwardNhwcSeries kForwardNhwcSeries[8] = {
    forward_nhwc_series<1>, forward_nhwc_series<2>, forward_nhwc_series<3>, forward_nhwc_series<4>,
    forward_nhwc_series<5>, forward_nhwc_series<6>, forward_nhwc_series<7>, forward_nhwc_series<8>,
};

// ---- forward with float32 window sums (windows of up to kFloatRows channels) ---------------

constexpr int64_t kFloatRows = 8;

// Betas without a shortcut take the float32 path up to this value where the ISA has a float32
// power (V::kPowF32): a float32 window sum's error (a few units of 2^-24) reaches the result
// multiplied by beta, and above 1 that could leave too little of SPEC's bound for the power.
constexpr double kMaxFloat32OtherBeta = 1;

bool float32_power(double beta) {
  return beta_kind(beta) != Beta::Other || (V::kPowF32 && beta <= kMaxFloat32OtherBeta);
}

struct Fast {
  Series series;  // on the float32 window sums
  F k, a, high, low_s, negligible;
  F s_limit;  // every S at most this (per vector, one compare) makes every lane safe
  F beta_hi, beta_lo, neg_beta;  // for V::scale_pow: beta = hi + lo, hi with 12 significant bits
  Beta beta;
  bool f32_power;  // the power can be taken in float32 (else every vector is redone in float64)
  bool small_k;    // k too small to hide an imprecise S: check S for underflow too
  Consts consts;   // for redo_vector
};

Fast fast_of(const lrn::Params& p) {
  // With k >= 2^-90 and a <= k * 2^64, B >= k stays above 2^-100 and any S below 2^-100
  // contributes a*S <= 2^-26 * k: only the upper bound needs checking per vector, and
  // B <= 2^100 follows from S <= (2^100 - k) / a. Otherwise s_limit is -1: no vector passes the
  // quick check and fast_ok decides.
  const bool small_k = !(p.k >= 0x1p-90 && p.a <= p.k * 0x1p64);
  const bool f32_power = float32_power(p.beta);
  float s_limit = -1;
  if (!small_k && f32_power) {
    const double limit = p.a > 0 ? (0x1p100 - p.k) / p.a : 0x1p100;
    // Slightly under: the float rounding must not round the limit up.
    s_limit = static_cast<float>((limit < 0x1p100 ? limit : 0x1p100) * (1 - 0x1p-20));
  }
  const float beta = static_cast<float>(p.beta);
  float hi, lo;
  split_beta(p.beta, &hi, &lo);
  // A float32 window sum: each square and each of the W - 1 adds rounds once.
  const int sum_terms = static_cast<int>(p.before + p.after + 2);
  return {series_of(p, sum_terms), V::setf(static_cast<float>(p.k)), V::setf(static_cast<float>(p.a)), V::setf(kHighB),
          V::setf(0x1p-100f), V::setf(0x1p26f), V::setf(s_limit),
          V::setf(hi), V::setf(lo), V::setf(-beta), beta_kind(p.beta), f32_power, small_k, consts_of(p)};
}

// x * B^(-beta) on the fast paths: power_f32, or V::scale_pow for other betas where it exists.
template <class Ops = V>
LRN_INLINE F power_fast(F x, F b, const Fast& f) {
  if constexpr (Ops::kPowF32) {
    if (f.beta == Beta::Other) return Ops::scale_pow(x, b, f.beta_hi, f.beta_lo, f.neg_beta);
  }
  return power_f32(x, b, f.beta);
}

// The hot loops' check: false for NaN, Inf and anything fast_ok might refuse.
LRN_INLINE bool quick_ok(F s, const Fast& f) { return V::all(V::le(s, f.s_limit)); }

// Every lane safe for float32: S and B finite and at most 2^100 (false for NaN, as max returns
// its second operand when either is NaN and B is NaN whenever S is); with a small k also B at
// least 2^-100 and S either far from underflow or too small to matter (a*S below 2^-26 of B).
LRN_INLINE bool fast_ok(F s, F b, const Fast& f) {
  if (!f.f32_power) return false;
  const auto in_range = V::le(V::maxf(s, b), f.high);
  if (!f.small_k) return V::all(in_range);
  const auto b_low = V::ge(b, f.low_s);
  const auto s_fine = V::or_(V::ge(s, f.low_s), V::lt(V::mulf(V::mulf(f.a, s), f.negligible), b));
  return V::all(V::and_(V::and_(in_range, b_low), s_fine));
}


// x * B^(-beta) for a vector that failed fast_ok, from the original values of its window summed
// in float64 (then finish: the series, a float32 or float64 power, or per lane the portable
// formula): rows[w] holds window row w's values at this vector (nullptr past the edges), centre
// the inputs being scaled; `valid` lanes exist.
F redo_vector(const float* const* rows, int W, const float* centre, int64_t valid, const Consts& k) {
  D s_lo = V::setd(0), s_hi = V::setd(0);
  for (int w = 0; w < W; ++w) {
    if (rows[w] != nullptr) add_squares(load_part(rows[w], valid), s_lo, s_hi);
  }
  return finish(load_part(centre, valid), s_lo, s_hi, k);
}


// Vectors per NCHW strip: the window's squares stay in registers, W of them per vector, with
// about half the register file left for the power.
template <int W>
constexpr int strip_vectors() {
  constexpr int n = V::kRegisters / 2 / W;
  return n < 1 ? 1 : n > 4 ? 4 : n;
}

// Slot of `row` in the in-place ring of W rows of NV vectors.
template <int W, int NV>
LRN_INLINE float* ring_slot(float* ring, int64_t row, int v) {
  return ring + ((row % W + W) % W * NV + v) * kF;
}

// What a strip's cold path needs, kept in memory so the hot loop holds none of it in registers.
struct Strip {
  const lrn::Params* p;
  const Fast* f;
  const float* xb;  // the batch item's input
  float* ring;      // in place: the window's original rows; else nullptr
  int64_t q0, valid;
};

// A vector quick_ok did not vouch for: fast_ok decides between the float32 power and a float64
// redo of every lane from the window's original values (the input rows, or the ring in place).
template <int W, int NV>
__attribute__((noinline)) F redo_nchw(const Strip& st, int64_t c, int v, F s, F b, F xc) {
  if (fast_ok(s, b, *st.f)) return power_fast(xc, b, *st.f);
  const lrn::Params& p = *st.p;
  alignas(64) float centre[kF];
  V::storef(centre, xc);
  const float* rows[W];
  for (int w = 0; w < W; ++w) {
    const int64_t row = c - p.before + w;
    if (st.ring != nullptr) rows[w] = ring_slot<W, NV>(st.ring, row, v);
    else rows[w] = row >= 0 && row < p.channels ? st.xb + row * p.spatial_size + st.q0 + v * kF : nullptr;
  }
  return redo_vector(rows, W, centre, st.valid, st.f->consts);
}

// One walk down the channels of a strip of NV vectors starting at position q0 of every row: each
// row is loaded and squared once, the window's W rows of squares shift through registers (zeros
// past the edges), and each step sums them for row c. In place, row c is written only after its
// last window has been summed; the original values a float64 redo needs are then kept in a ring
// of W rows. kPartial: the strip is one vector of which only `valid` lanes exist.
template <int W, int NV, bool kPartial, bool kInPlace>
void walk_strip(const lrn::Params& p, const Fast& f, const float* xb, float* yb, int64_t q0, int64_t valid) {
  const int64_t C = p.channels, S = p.spatial_size, L = p.before, R = p.after;
  alignas(64) float ring[kInPlace ? W * NV * kF : 1];
  const Strip st{&p, &f, xb, kInPlace ? ring : nullptr, q0, valid};
  F sq[W][NV];
  // Before step 0, slot w holds row w - L - 1; each step shifts the slots and loads row c + R.
  LRN_UNROLL
  for (int w = 0; w < W; ++w) {
    const int64_t row = w - L - 1;
    LRN_UNROLL
    for (int v = 0; v < NV; ++v) {
      F xv = V::zerof();
      if (row >= 0 && row < C) xv = kPartial ? load_part(xb + row * S + q0, valid) : V::loadf(xb + row * S + q0 + v * kF);
      sq[w][v] = V::mulf(xv, xv);
      if constexpr (kInPlace) {
        if (w > 0) V::storef(ring_slot<W, NV>(ring, row, v), xv);
      }
    }
  }
  // Software prefetch: the next strip into L1, the one after into L2; a strip's rows are far
  // apart, which the hardware prefetchers do not follow.
  const bool prefetch_next = !kPartial && q0 + 2 * NV * kF <= S;
  const bool prefetch_after = !kPartial && q0 + 3 * NV * kF <= S;
  const float* incoming = xb + R * S + q0;  // row c + R
  const float* centre = xb + q0;            // row c
  float* out = yb + q0;
  for (int64_t c = 0; c < C; ++c, incoming += S, centre += S, out += S) {
    LRN_UNROLL
    for (int w = 0; w + 1 < W; ++w) {
      LRN_UNROLL
      for (int v = 0; v < NV; ++v) sq[w][v] = sq[w + 1][v];
    }
    const bool inside = c + R < C;
    LRN_UNROLL
    for (int v = 0; v < NV; ++v) {
      F xv = V::zerof();
      if (inside) xv = kPartial ? load_part(incoming, valid) : V::loadf(incoming + v * kF);
      sq[W - 1][v] = V::mulf(xv, xv);
      if constexpr (kInPlace) V::storef(ring_slot<W, NV>(ring, c + R, v), xv);
      if (inside && prefetch_next) __builtin_prefetch(incoming + (NV + v) * kF, 0, 3);
      if (inside && prefetch_after) __builtin_prefetch(incoming + (2 * NV + v) * kF, 0, 2);
    }
    LRN_UNROLL
    for (int v = 0; v < NV; ++v) {
      F terms[W];
      LRN_UNROLL
      for (int w = 0; w < W; ++w) terms[w] = sq[w][v];
      const F s = sum_tree<W>(terms);
      const F xc = kPartial ? load_part(centre, valid) : V::loadf(centre + v * kF);
      F y;
      if (series_ok(s, f.series)) {
        y = series_scale(xc, s, f.series);
      } else {
        const F bb = V::fmaf(f.a, s, f.k);
        y = quick_ok(s, f) ? power_fast(xc, bb, f) : redo_nchw<W, NV>(st, c, v, s, bb, xc);
      }
      if (kPartial) store_part(out, y, valid);
      else V::storef(out + v * kF, y);
    }
  }
}

// NCHW, walking down the channels in strips of NV vectors of positions; a row's last partial
// vector walks on its own with masked loads and stores.
template <int W, bool kInPlace>
void forward_nchw_fast(const lrn::Params& p, const float* x, float* y) {
  constexpr int NV = strip_vectors<W>();
  const int64_t C = p.channels, S = p.spatial_size;
  const Fast f = fast_of(p);
  const int64_t full = S / kF * kF;
  const int64_t strips = full / (NV * kF) * (NV * kF);
  for (int64_t b = 0; b < p.batch; ++b) {
    const float* xb = x + b * C * S;
    float* yb = y + b * C * S;
    int64_t q0 = 0;
    for (; q0 < strips; q0 += NV * kF) walk_strip<W, NV, false, kInPlace>(p, f, xb, yb, q0, kF);
    for (; q0 < full; q0 += kF) walk_strip<W, 1, false, kInPlace>(p, f, xb, yb, q0, kF);
    if (full < S) walk_strip<W, 1, true, kInPlace>(p, f, xb, yb, full, S - full);
  }
}

// ---- NCHW with float64 window sums kept in registers (betas the float32 path does not take) ---


// walk_strip with float64 squares: each row is loaded, widened and squared once, the window's
// W rows of squares (two double vectors per float vector) shift through registers. B is exact
// enough in float64 that nothing needs the window's original values afterwards, so in place
// needs no ring: row c is written after its last window has been summed.
template <int W, int NV, bool kPartial>
void walk_strip_d(const lrn::Params& p, const Consts& k, const float* xb, float* yb, int64_t q0, int64_t valid) {
  const int64_t C = p.channels, S = p.spatial_size, L = p.before, R = p.after;
  D sq[W][NV][2];
  auto square_row = [&](int64_t row, int v, D* out) __attribute__((always_inline)) {
    F xv = V::zerof();
    if (row >= 0 && row < C) xv = kPartial ? load_part(xb + row * S + q0, valid) : V::loadf(xb + row * S + q0 + v * kF);
    const D l = V::lo(xv), h = V::hi(xv);
    out[0] = V::muld(l, l);
    out[1] = V::muld(h, h);
  };
  LRN_UNROLL
  for (int w = 0; w < W; ++w) {
    LRN_UNROLL
    for (int v = 0; v < NV; ++v) square_row(w - L - 1, v, sq[w][v]);
  }
  const bool prefetch_next = !kPartial && q0 + 2 * NV * kF <= S;
  const float* centre = xb + q0;
  float* out = yb + q0;
  for (int64_t c = 0; c < C; ++c, centre += S, out += S) {
    LRN_UNROLL
    for (int w = 0; w + 1 < W; ++w) {
      LRN_UNROLL
      for (int v = 0; v < NV; ++v) {
        sq[w][v][0] = sq[w + 1][v][0];
        sq[w][v][1] = sq[w + 1][v][1];
      }
    }
    LRN_UNROLL
    for (int v = 0; v < NV; ++v) {
      square_row(c + R, v, sq[W - 1][v]);
      if (prefetch_next && c + R < C) __builtin_prefetch(xb + (c + R) * S + q0 + (NV + v) * kF, 0, 3);
    }
    LRN_UNROLL
    for (int v = 0; v < NV; ++v) {
      D lo[W], hi[W];
      LRN_UNROLL
      for (int w = 0; w < W; ++w) {
        lo[w] = sq[w][v][0];
        hi[w] = sq[w][v][1];
      }
      const F xc = kPartial ? load_part(centre, valid) : V::loadf(centre + v * kF);
      const F y = finish(xc, sum_tree<W>(lo), sum_tree<W>(hi), k);
      if (kPartial) store_part(out, y, valid);
      else V::storef(out + v * kF, y);
    }
  }
}

template <int W>
void forward_nchw_d(const lrn::Params& p, const float* x, float* y) {
  // Two double vectors per float vector in the ring; measured: strips of 2 beat 1 and 3 for W = 5.
  constexpr int NV = strip_vectors<W>() > 2 ? 2 : strip_vectors<W>();
  const int64_t C = p.channels, S = p.spatial_size;
  const Consts k = consts_of(p);
  const int64_t full = S / kF * kF;
  const int64_t strips = full / (NV * kF) * (NV * kF);
  for (int64_t b = 0; b < p.batch; ++b) {
    const float* xb = x + b * C * S;
    float* yb = y + b * C * S;
    int64_t q0 = 0;
    for (; q0 < strips; q0 += NV * kF) walk_strip_d<W, NV, false>(p, k, xb, yb, q0, kF);
    for (; q0 < full; q0 += kF) walk_strip_d<W, 1, false>(p, k, xb, yb, q0, kF);
    if (full < S) walk_strip_d<W, 1, true>(p, k, xb, yb, full, S - full);
  }
}

using ForwardNchwD = void (*)(const lrn::Params&, const float*, float*);
constexpr ForwardNchwD kForwardNchwD[kFloatRows] = {
    forward_nchw_d<1>, forward_nchw_d<2>, forward_nchw_d<3>, forward_nchw_d<4>,
    forward_nchw_d<5>, forward_nchw_d<6>, forward_nchw_d<7>, forward_nchw_d<8>,
};

// The NHWC counterpart of redo_nchw: the window's original values are the lanes of three
// consecutive vectors of channels (zeros past the edges).
template <int L, int R>
__attribute__((noinline)) F redo_nhwc(const Fast& f, F s, F b, F x_prev, F x_cur, F x_next, int64_t valid) {
  if (fast_ok(s, b, f)) return power_fast(x_cur, b, f);
  constexpr int W = L + R + 1;
  alignas(64) float three[3 * kF];
  V::storef(three, x_prev);
  V::storef(three + kF, x_cur);
  V::storef(three + 2 * kF, x_next);
  const float* rows[W];
  for (int w = 0; w < W; ++w) rows[w] = three + kF + w - L;
  return redo_vector(rows, W, three + kF, valid, f.consts);
}

// NHWC with the window built in registers (ISAs with a two-vector align, Ops::kShiftInRegisters):
// each vector of channels is loaded and squared once, and the squares of channels c - L .. c + R
// are its neighbours' lanes shifted in. Loads past the last channel read zeros, which are also
// the window's zeros past the edge; in place is free (a vector is written after its inputs are
// in registers). Lanes that fail fast_ok are redone in float64 from the three vectors of inputs.
template <class Ops, int L, int R>
void forward_nhwc_shift(const lrn::Params& p, const float* x, float* y) {
  constexpr int W = L + R + 1;
  const int64_t C = p.channels;
  const Fast f = fast_of(p);
  const int64_t positions = p.batch * p.spatial_size;
  const F zero = V::zerof();
  for (int64_t pos = 0; pos < positions; ++pos) {
    const float* xp = x + pos * C;
    float* yp = y + pos * C;
    F x_prev = zero, sq_prev = zero;
    F x_cur = load_part(xp, C), sq_cur = V::mulf(x_cur, x_cur);
    for (int64_t at = 0; at < C; at += kF) {
      const F x_next = at + kF < C ? load_part(xp + at + kF, C - at - kF) : zero;
      const F sq_next = V::mulf(x_next, x_next);
      F terms[W];
      terms[L] = sq_cur;
      if constexpr (L >= 1) terms[L - 1] = Ops::template shift_in_low<1>(sq_cur, sq_prev);
      if constexpr (L >= 2) terms[L - 2] = Ops::template shift_in_low<2>(sq_cur, sq_prev);
      if constexpr (L >= 3) terms[L - 3] = Ops::template shift_in_low<3>(sq_cur, sq_prev);
      if constexpr (L >= 4) terms[L - 4] = Ops::template shift_in_low<4>(sq_cur, sq_prev);
      if constexpr (R >= 1) terms[L + 1] = Ops::template shift_in_high<1>(sq_next, sq_cur);
      if constexpr (R >= 2) terms[L + 2] = Ops::template shift_in_high<2>(sq_next, sq_cur);
      if constexpr (R >= 3) terms[L + 3] = Ops::template shift_in_high<3>(sq_next, sq_cur);
      if constexpr (R >= 4) terms[L + 4] = Ops::template shift_in_high<4>(sq_next, sq_cur);
      const F s = sum_tree<W>(terms);
      const int64_t valid = imin(kF, C - at);
      F out;
      if (series_ok(s, f.series)) {
        out = series_scale(x_cur, s, f.series);
      } else {
        const F bb = V::fmaf(f.a, s, f.k);
        out = quick_ok(s, f) ? power_fast(x_cur, bb, f) : redo_nhwc<L, R>(f, s, bb, x_prev, x_cur, x_next, valid);
      }
      store_part(yp + at, out, valid);
      x_prev = x_cur;
      sq_prev = sq_cur;
      x_cur = x_next;
      sq_cur = sq_next;
    }
  }
}

// NHWC on ISAs without a two-vector align (or unusual window splits): the position's channels
// sit between zero pads; each vector of outputs sums squares of shifted loads. Lanes that fail fast_ok are redone in float64 from the padded copy.
template <int W>
void forward_nhwc_fast(const lrn::Params& p, const float* x, float* y, float* work) {
  const int64_t C = p.channels, L = p.before, R = p.after;
  const Fast f = fast_of(p);
  // Zeros: L before the channels, R + kF after, so every vector reads its whole window.
  const int64_t width = L + C + R + kF;
  // Two padded copies: the next position is copied while this one is computed, so the shifted
  // loads never wait on the stores that filled the buffer.
  float* bufs[2] = {work, work + width};
  float* tail = work + 2 * width;
  fill_zero(work, 2 * width);
  const int64_t positions = p.batch * p.spatial_size;
  if (positions > 0) copy_floats(bufs[0] + L, x, C);
  for (int64_t pos = 0; pos < positions; ++pos) {
    const float* row = bufs[pos & 1] + L;
    if (pos + 1 < positions) copy_floats(bufs[(pos + 1) & 1] + L, x + (pos + 1) * C, C);
    float* out = y + pos * C;
    for (int64_t c = 0; c < C; c += kF) {
      const float* window = row + c - L;
      F s = V::zerof();
      for (int j = 0; j < W; ++j) {
        const F v = V::loadf(window + j);
        s = V::fmaf(v, v, s);
      }
      const F xc = V::loadf(row + c);
      const F bb = V::fmaf(f.a, s, f.k);
      const int64_t valid = imin(kF, C - c);
      float* dst = valid == kF ? out + c : tail;
      if (series_ok(s, f.series)) {
        V::storef(dst, series_scale(xc, s, f.series));
      } else if (fast_ok(s, bb, f)) {
        V::storef(dst, power_fast(xc, bb, f));
      } else {
        const float* rows[W];
        for (int j = 0; j < W; ++j) rows[j] = window + j;  // the zero pads stand for the edges
        V::storef(dst, redo_vector(rows, W, row + c, valid, f.consts));
      }
      if (valid < kF) memcpy(out + c, tail, valid * sizeof(float));
    }
  }
}

template <int W>
void forward_fast(const lrn::Params& p, const float* x, float* y, float* work) {
  if (p.layout == lrn::Layout::NCHW) {
    if (x == y) forward_nchw_fast<W, true>(p, x, y);
    else forward_nchw_fast<W, false>(p, x, y);
    return;
  }
  if constexpr (V::kShiftInRegisters) {
    constexpr int kHigh = W / 2, kLow = (W - 1) / 2;  // the two ways to centre a window of W
    if (p.before == kHigh) return forward_nhwc_shift<V, kHigh, W - 1 - kHigh>(p, x, y);
    if (p.before == kLow) return forward_nhwc_shift<V, kLow, W - 1 - kLow>(p, x, y);
  }
  forward_nhwc_fast<W>(p, x, y, work);
}

// By window size W = before + after + 1, from 1 to kFloatRows.
using ForwardFast = void (*)(const lrn::Params&, const float*, float*, float*);
constexpr ForwardFast kForwardFast[kFloatRows] = {
    forward_fast<1>, forward_fast<2>, forward_fast<3>, forward_fast<4>,
    forward_fast<5>, forward_fast<6>, forward_fast<7>, forward_fast<8>,
};

// ---- within-channel forward: float64 box sums in vectors -----------------------------------

// Vector moves over float or double elements, for the box sums written once for both.
LRN_INLINE F vload(const float* p) { return V::loadf(p); }
LRN_INLINE D vload(const double* p) { return V::loadd(p); }
LRN_INLINE void vstore(float* p, F v) { V::storef(p, v); }
LRN_INLINE void vstore(double* p, D v) { V::stored(p, v); }
LRN_INLINE F vload_n(const float* p, int64_t n) { return V::load_n(p, n); }
LRN_INLINE D vload_n(const double* p, int64_t n) { return V::load_nd(p, n); }
LRN_INLINE void vstore_n(float* p, F v, int64_t n) { V::store_n(p, v, n); }
LRN_INLINE void vstore_n(double* p, D v, int64_t n) { V::store_nd(p, v, n); }
template <class T>
constexpr int64_t lanes() { return static_cast<int64_t>(sizeof(F) / sizeof(T)); }

// For src viewed as [outer][m][inner] (T: float or double): dst = sum along m over
// [i - before, i + after], clipped. Vector adds over the contiguous `inner` elements; inner == 1
// (NCHW's last axis) sums shifted loads from a zero-padded copy of each line instead.
template <class T>
void window_rows(const T* src, T* dst, int64_t outer, int64_t m, int64_t inner, int64_t before, int64_t after,
                 T* line) {
  constexpr int64_t kL = lanes<T>();
  if (inner == 1) {
    const int64_t pad_l = imin(before, m), pad_r = imin(after, m) + kL;
    for (int64_t o = 0; o < outer; ++o) {
      const T* in = src + o * m;
      T* out = dst + o * m;
      fill_zero(line, pad_l);
      memcpy(line + pad_l, in, m * sizeof(T));
      fill_zero(line + pad_l + m, pad_r);
      const T* centre = line + pad_l;
      const int64_t jlo = -imin(before, m), jhi = imin(after, m);
      int64_t i = 0;
      for (; i + kL <= m; i += kL) {
        auto s = vload(centre + i + jlo);
        for (int64_t j = jlo + 1; j <= jhi; ++j) s = add(s, vload(centre + i + j));
        vstore(out + i, s);
      }
      if (i < m) {  // the line's zero padding covers a whole vector past its end
        auto s = vload(centre + i + jlo);
        for (int64_t j = jlo + 1; j <= jhi; ++j) s = add(s, vload(centre + i + j));
        vstore_n(out + i, s, m - i);
      }
    }
    return;
  }
  for (int64_t o = 0; o < outer; ++o) {
    const T* in = src + o * m * inner;
    T* out = dst + o * m * inner;
    for (int64_t i = 0; i < m; ++i) {
      const int64_t lo = imax(0, i - before), hi = imin(m - 1, i + after);
      T* row = out + i * inner;
      int64_t q = 0;
      for (; q + kL <= inner; q += kL) {
        auto s = vload(in + lo * inner + q);
        for (int64_t j = lo + 1; j <= hi; ++j) s = add(s, vload(in + j * inner + q));
        vstore(row + q, s);
      }
      if (q < inner) {
        const int64_t rest = inner - q;
        auto s = vload_n(in + lo * inner + q, rest);
        for (int64_t j = lo + 1; j <= hi; ++j) s = add(s, vload_n(in + j * inner + q, rest));
        vstore_n(row + q, s, rest);
      }
    }
  }
}

// Box sums over the spatial axes of one plane of squares, one axis at a time (they are
// separable); `inner` is the plane's innermost run (1 for NCHW, C for NHWC). The result is in
// `sq` or `tmp`: the return value.
template <class T>
T* box_sums(const lrn::Params& p, T* sq, T* tmp, T* line, int64_t plane) {
  T* src = sq;
  T* dst = tmp;
  int64_t outer = 1, inner = plane;
  for (int a = 0; a < p.spatial_rank; ++a) {
    const int64_t m = p.spatial[a];
    inner /= m;
    window_rows(src, dst, outer, m, inner, p.before, p.after, line);
    outer *= m;
    T* t = src;
    src = dst;
    dst = t;
  }
  return src;
}

// y[i] = x[i] * (k + a * sums[i])^(-beta) over `count` contiguous elements.
void scale_by_sums(const float* x, float* y, const double* sums, int64_t count, const lrn::Params& p, const Consts& k) {
  int64_t i = 0;
  for (; i + kF <= count; i += kF) {
    V::storef(y + i, finish(V::loadf(x + i), V::loadd(sums + i), V::loadd(sums + i + kD), k));
  }
  for (; i < count; ++i) {
    y[i] = static_cast<float>(static_cast<double>(x[i]) * lrn::portable::inv_pow(p.k + p.a * sums[i], p.beta));
  }
}

// Squares in float32 are enough where the series covers every window sum: there an S off by
// many units moves the result by a fraction of one (lrn::series). A plane takes that path when
// the window's volume times its largest square stays under the series' limit.
struct WithinSeries {
  Series series;
  F max_square;  // per element, so every window sum stays under the limit (-1: never)
};

WithinSeries within_series_of(const lrn::Params& p) {
  int64_t volume = 1;  // elements per window, at most
  for (int a = 0; a < p.spatial_rank; ++a) volume *= imin(p.before + p.after + 1, p.spatial[a]);
  // The float32 sum's own rounding: one per term, S within volume * 2^-24 of the exact sum.
  const lrn::series::Series s = lrn::series::small_sum_series(p.k, p.a, p.beta, 0x1p-24, static_cast<int>(imin(volume + 1, 1 << 20)));
  WithinSeries w{series_of(p, 0), V::setf(-1)};
  if (s.usable) {
    w.series = series_of(p, static_cast<int>(imin(volume + 1, 1 << 20)));
    const double terms = static_cast<double>(volume);  // S <= terms * max_square * (1 + terms * 2^-24)
    w.max_square = V::setf(static_cast<float>(s.s_limit / terms / (1 + terms * 0x1p-23)));
  }
  return w;
}

// True when every square in the plane is at most w.max_square (false for NaN and Inf).
bool squares_small(const float* x, int64_t count, const WithinSeries& w) {
  int64_t i = 0;
  for (; i + kF <= count; i += kF) {
    const F v = V::loadf(x + i);
    if (!V::all(V::le(V::mulf(v, v), w.max_square))) return false;
  }
  if (i < count) {
    const F v = V::load_n(x + i, count - i);
    if (!V::all(V::le(V::mulf(v, v), w.max_square))) return false;
  }
  return true;
}

// Sum of `count` vectors at p + j for j in [0, count), in two chains (the adds' latency, not
// their number, bounds a line of a few vectors).
LRN_INLINE F sum_shifted(const float* p, int64_t count) {
  F a = V::loadf(p), b = V::zerof();
  int64_t j = 1;
  for (; j + 1 < count; j += 2) {
    a = V::addf(a, V::loadf(p + j));
    b = V::addf(b, V::loadf(p + j + 1));
  }
  if (j < count) a = V::addf(a, V::loadf(p + j));
  return V::addf(a, b);
}

// One NCHW plane (rank >= 1) by the series: squares go into lines padded with zeros on both sides
// of the last axis, the other axes are summed over whole padded lines (pads stay zero), and the
// last axis' sums come from shifted loads, scaled and stored as they are formed.
void within_plane_series(const lrn::Params& p, const float* x, float* y, float* work, const Series& ser) {
  const int64_t m = p.spatial[p.spatial_rank - 1], L = p.before, R = p.after;
  const int64_t lines = p.spatial_size / m, stride = L + m + R + kF;
  const int64_t padded = lines * stride;
  float* sq = work;
  float* tmp = work + padded;
  for (int64_t o = 0; o < lines; ++o) {
    float* line = sq + o * stride;
    const float* in = x + o * m;
    fill_zero(line, L);
    int64_t i = 0;
    for (; i + kF <= m; i += kF) {
      const F v = V::loadf(in + i);
      V::storef(line + L + i, V::mulf(v, v));
    }
    if (i < m) {
      const F v = V::load_n(in + i, m - i);
      V::storef(line + L + i, V::mulf(v, v));  // zeros past the line's end, within its pad
    }
    fill_zero(line + L + m + (i < m ? kF - (m - i) : 0), R + kF - (i < m ? kF - (m - i) : 0));
  }
  const float* sums = sq;
  float* other = tmp;
  int64_t outer = 1, inner = padded;
  for (int a = 0; a + 1 < p.spatial_rank; ++a) {
    inner /= p.spatial[a];
    window_rows<float>(sums, other, outer, p.spatial[a], inner, L, R, nullptr);
    outer *= p.spatial[a];
    float* t = const_cast<float*>(sums);
    sums = other;
    other = t;
  }
  const int64_t lo = imin(L, m), count = imin(L, m) + imin(R, m) + 1;
  for (int64_t o = 0; o < lines; ++o) {
    const float* window = sums + o * stride + L - lo;
    const float* in = x + o * m;
    float* out = y + o * m;
    int64_t i = 0;
    for (; i + kF <= m; i += kF) V::storef(out + i, series_scale(V::loadf(in + i), sum_shifted(window + i, count), ser));
    if (i < m) V::store_n(out + i, series_scale(V::load_n(in + i, m - i), sum_shifted(window + i, count), ser), m - i);
  }
}

// Two spatial axes (H, Wd), windows of W <= kFloatRows, by the series. Each output line's
// vertical window sums of squares (from the input rows, clipped at the top and bottom) go into a
// line buffer with L and R positions of zeros on either side, so W shifted loads of it give the
// whole windows' sums, scaled and stored at once. `unit` is the distance between neighbouring
// positions of a line: 1 for NCHW planes, C for NHWC.
int64_t padded_stride(int64_t width, int64_t before, int64_t after, int64_t unit) {
  return ((before + width + after) * unit + kF + kF - 1) / kF * kF;
}

int64_t within_2d_floats(const lrn::Params& p, int64_t unit) {
  if (p.spatial_rank != 2) return 0;
  // and a copy of the plane's input for in place (rows are read after earlier rows are written)
  return 2 * padded_stride(p.spatial[1], p.before, p.after, unit) + kF + p.spatial_size * unit;
}

// Returns false, its output incomplete, when some window sum is past the series' range (or NaN):
// the caller then computes the plane in float64, from `x` (in place: from the copy this keeps
// in `work`, which the float64 path must leave alone).
template <int W>
bool within_2d_series(const lrn::Params& p, int64_t unit, const float* x, float* y, float* work, const Series& ser) {
  const int64_t H = p.spatial[0], Wd = p.spatial[1], L = p.before, R = p.after;
  const int64_t width = Wd * unit, stride = padded_stride(Wd, L, R, unit);
  // The pads stay zero: a line's last partial vector stores zeros past its end.
  fill_zero(work, 2 * stride);
  if (x == y) {
    float* copy = work + 2 * stride + kF;
    memcpy(copy, x, H * width * sizeof(float));
    x = copy;
  }
  // Line i's vertical sums are formed one line ahead of their shifted loads, in two buffers:
  // a load spanning two just-written vectors would wait for both stores to retire.
  for (int64_t i = 0; i <= H; ++i) {
    if (i < H) {
      float* sums = work + (i & 1) * stride + L * unit;
      const int64_t lo = imax(0, i - L), hi = imin(H - 1, i + R);
      const float* top = x + lo * width;
      for (int64_t q = 0; q < width; q += kF) {
        const int64_t valid = imin(kF, width - q);
        F total;
        if (hi - lo + 1 == W) {
          F terms[W];
          LRN_UNROLL
          for (int w = 0; w < W; ++w) {
            const F v = load_part(top + w * width + q, valid);
            terms[w] = V::mulf(v, v);
          }
          total = sum_tree<W>(terms);
        } else {
          total = V::zerof();
          for (int64_t r = 0; r <= hi - lo; ++r) {
            const F v = load_part(top + r * width + q, valid);
            total = V::fmaf(v, v, total);
          }
        }
        V::storef(sums + q, total);
      }
    }
    if (i == 0) continue;
    const float* in = x + (i - 1) * width;
    float* out = y + (i - 1) * width;
    const float* sums = work + ((i - 1) & 1) * stride;
    bool ok = true;
    for (int64_t q = 0; q < width; q += kF) {
      F terms[W];
      LRN_UNROLL
      for (int w = 0; w < W; ++w) terms[w] = V::loadf(sums + q + w * unit);
      const int64_t valid = imin(kF, width - q);
      const F total = sum_tree<W>(terms);
      ok &= series_ok(total, ser);
      store_part(out + q, series_scale(load_part(in + q, valid), total, ser), valid);
    }
    if (!ok) return false;
  }
  return true;
}

using Within2d = bool (*)(const lrn::Params&, int64_t, const float*, float*, float*, const Series&);
constexpr Within2d kWithin2d[kFloatRows] = {
    within_2d_series<1>, within_2d_series<2>, within_2d_series<3>, within_2d_series<4>,
    within_2d_series<5>, within_2d_series<6>, within_2d_series<7>, within_2d_series<8>,
};

// The float64 path's doubles (and the other float32 paths' floats), at the workspace's start.
int64_t within_float64_doubles(const lrn::Params& p) {
  const int64_t plane = p.layout == lrn::Layout::NHWC ? p.spatial_size * p.channels : p.spatial_size;
  int64_t longest = 0;
  for (int a = 0; a < p.spatial_rank; ++a) longest = imax(longest, p.spatial[a]);
  const int64_t doubles = 2 * plane + longest + p.before + p.after + 2 * kD;
  // within_plane_series: two planes of floats with padded lines
  const int64_t last = p.spatial_rank > 0 ? p.spatial[p.spatial_rank - 1] : 1;
  const int64_t padded = p.spatial_size / imax(last, 1) * (p.before + last + p.after + kF);
  return imax(doubles, padded + 1);
}

// NHWC sums a whole batch item at once, its C channels being the innermost run of every row;
// NCHW sums one channel's plane at a time. Planes whose squares are small sum in float32 and
// scale by the series; the others sum in float64.
void forward_within(const lrn::Params& p, const float* x, float* y, double* work) {
  const int64_t C = p.channels, V_ = p.spatial_size;
  const bool nhwc = p.layout == lrn::Layout::NHWC;
  const int64_t plane = nhwc ? V_ * C : V_;  // elements summed together
  const int64_t planes = nhwc ? p.batch : p.batch * C;
  const Consts k = consts_of(p);
  const WithinSeries ws = within_series_of(p);
  // Two spatial axes check every window sum as they go; other shapes check the squares first.
  const bool two_d = p.spatial_rank == 2 && p.before + p.after + 1 <= kFloatRows;
  float* two_d_work = reinterpret_cast<float*>(work + within_float64_doubles(p));
  for (int64_t n = 0; n < planes; ++n) {
    const float* xp = x + n * plane;
    float* yp = y + n * plane;
    if (two_d) {
      if (kWithin2d[p.before + p.after](p, nhwc ? C : 1, xp, yp, two_d_work, ws.series)) continue;
      if (xp == yp) xp = two_d_work + (within_2d_floats(p, nhwc ? C : 1) - plane);  // the input's copy
    } else if (squares_small(xp, plane, ws)) {
      if (!nhwc && p.spatial_rank > 0) {
        within_plane_series(p, xp, yp, reinterpret_cast<float*>(work), ws.series);
        continue;
      }
      float* sq = reinterpret_cast<float*>(work);
      int64_t i = 0;
      for (; i + kF <= plane; i += kF) {
        const F v = V::loadf(xp + i);
        V::storef(sq + i, V::mulf(v, v));
      }
      for (; i < plane; ++i) sq[i] = xp[i] * xp[i];
      const float* sums = box_sums<float>(p, sq, sq + plane, sq + 2 * plane, plane);
      for (i = 0; i + kF <= plane; i += kF) V::storef(yp + i, series_scale(V::loadf(xp + i), V::loadf(sums + i), ws.series));
      if (i < plane) V::store_n(yp + i, series_scale(V::load_n(xp + i, plane - i), V::load_n(sums + i, plane - i), ws.series), plane - i);
      continue;
    }
    double* sq = work;
    for (int64_t i = 0; i < plane; ++i) {
      const double v = xp[i];
      sq[i] = v * v;
    }
    scale_by_sums(xp, yp, box_sums<double>(p, sq, work + plane, work + 2 * plane, plane), plane, p, k);
  }
}

// Then within_2d_series' floats.
int64_t within_workspace_doubles(const lrn::Params& p) {
  if (p.region != lrn::Region::WithinChannel) return 0;
  return within_float64_doubles(p) + within_2d_floats(p, p.layout == lrn::Layout::NHWC ? p.channels : 1) / 2 + 1;
}

// Whether the series for `beta` (float32 sums of W terms) likely covers the data: 64 vectors
// spread over the input, each square times W under its limit. A guess about speed only: paths
// that rely on the series redo the vectors past its range one at a time, correctly but several
// times slower than the float64 paths.
bool series_fits_sample(const lrn::Params& p, double beta, const float* x) {
  const int64_t W = p.before + p.after + 1;
  const lrn::series::Series s = lrn::series::small_sum_series(p.k, p.a, beta, 0x1p-24, static_cast<int>(W + 1));
  if (!s.usable) return false;
  const F max_square = V::setf(static_cast<float>(s.s_limit / static_cast<double>(W)));
  const int64_t n = p.length(), step = imax(kF, n / 64);
  for (int64_t i = 0; i < n; i += step) {
    const F v = load_part(x + i, n - i);
    if (!V::all(V::le(V::mulf(v, v), max_square))) return false;
  }
  return true;
}

// ---- backward, all in float64 vectors -------------------------------------------------------

// B^(-beta) for two double vectors (same formulas as portable::inv_pow, so the same results).
LRN_INLINE D inv_pow_d(D b, const Consts& c) {
  switch (c.beta) {
    case Beta::Zero: return V::setd(1);
    case Beta::Half: return V::divd(V::setd(1), V::sqrtd(b));
    case Beta::One: return V::divd(V::setd(1), b);
    case Beta::ThreeQuarters: {
      const D s = V::sqrtd(b);
      return V::divd(V::setd(1), V::muld(s, V::sqrtd(s)));
    }
    default: {
      alignas(64) double bs[kD];
      V::stored(bs, b);
      for (int i = 0; i < kD; ++i) bs[i] = lrn::portable::inv_pow(bs[i], c.beta_value);
      return V::loadd(bs);
    }
  }
}

// The backward's powers as series in S (lrn::series, float64): B^(-beta) and B^(-beta-1) for
// vectors whose every S is at most `limit` (never where either series is unusable: limit -1).
struct BackSeries {
  F limit;
  D p[lrn::series::kDegree + 1], q[lrn::series::kDegree + 1];
};

BackSeries back_series_of(const lrn::Params& p) {
  // float64 window sums of exact squares: one rounding per term.
  const int terms = static_cast<int>(p.before + p.after + 1);
  const lrn::series::Series sp = lrn::series::small_sum_series(p.k, p.a, p.beta, 0x1p-53, terms);
  const lrn::series::Series sq = lrn::series::small_sum_series(p.k, p.a, p.beta + 1, 0x1p-53, terms);
  BackSeries out;
  const double limit = sp.s_limit < sq.s_limit ? sp.s_limit : sq.s_limit;
  // Compared with S rounded to float32: the limit's 2^-20 margin covers both roundings.
  out.limit = V::setf(sp.usable && sq.usable ? static_cast<float>(limit < 0x1p127 ? limit : 0x1p127) : -1.0f);
  for (int j = 0; j <= lrn::series::kDegree; ++j) {
    out.p[j] = V::setd(sp.coeff[j]);
    out.q[j] = V::setd(sq.coeff[j]);
  }
  return out;
}

LRN_INLINE D horner_d(const D* c, D s) {
  D r = V::fmad(c[4], s, c[3]);
  r = V::fmad(r, s, c[2]);
  r = V::fmad(r, s, c[1]);
  return V::fmad(r, s, c[0]);
}

// B^(-beta) and B^(-beta-1) for one vector's two halves of window sums, by the portable
// formulas (square roots and divisions; the scalar power for other betas): what the series does
// not cover, NaN and infinities included.
__attribute__((noinline)) void powers_exact(D s_lo, D s_hi, const Consts& k, D* p, D* q) {
  // k + a*S rounded twice, as the portable code computes it (see combine).
  const D b_lo = V::addd(k.k, V::muld(k.a, s_lo)), b_hi = V::addd(k.k, V::muld(k.a, s_hi));
  p[0] = inv_pow_d(b_lo, k);
  p[1] = inv_pow_d(b_hi, k);
  q[0] = V::divd(p[0], b_lo);
  q[1] = V::divd(p[1], b_hi);
}

LRN_INLINE void backward_powers(D s_lo, D s_hi, const Consts& k, const BackSeries& bs, D* p, D* q) {
  if (V::all(V::le(V::narrow(s_lo, s_hi), bs.limit))) {
    p[0] = horner_d(bs.p, s_lo);
    p[1] = horner_d(bs.p, s_hi);
    q[0] = horner_d(bs.q, s_lo);
    q[1] = horner_d(bs.q, s_hi);
  } else {
    powers_exact(s_lo, s_hi, k, p, q);
  }
}

// Pass 1 for one vector: r = B^-beta and t = dy*x*B^(-beta-1) from the window sums.
LRN_INLINE void factors(F x, F dy, D s_lo, D s_hi, const Consts& k, const BackSeries& bs, double* r, double* t) {
  D pw[2], q[2];
  backward_powers(s_lo, s_hi, k, bs, pw, q);
  V::stored(r, pw[0]);
  V::stored(r + kD, pw[1]);
  V::stored(t, V::muld(V::muld(V::lo(dy), V::lo(x)), q[0]));
  V::stored(t + kD, V::muld(V::muld(V::hi(dy), V::hi(x)), q[1]));
}

// Pass 2 for one vector: dx = dy*r - 2*a*beta * x * tsum.
LRN_INLINE F combine(F x, F dy, const double* r, D ts_lo, D ts_hi, D two_a_beta) {
  const D lo = V::muld(V::lo(dy), V::loadd(r)), hi = V::muld(V::hi(dy), V::loadd(r + kD));
  // (2*a*beta * x) * tsum, as the portable code groups it: terms far beyond float32 that cancel
  // exactly there must cancel here too, not leave a residue that rounds to infinity.
  const D neg_lo = V::muld(V::muld(two_a_beta, V::lo(x)), ts_lo);
  const D neg_hi = V::muld(V::muld(two_a_beta, V::hi(x)), ts_hi);
  return V::narrow(V::subd(lo, neg_lo), V::subd(hi, neg_hi));
}

// Backward at one position in float64 (channel j at x[j * stride]), for the NCHW positions past
// the last full vector. r and t are scratch of `channels` doubles each.
void backward_position(const float* x, const float* dy, float* dx, int64_t stride, const lrn::Params& p,
                       double* r, double* t) {
  const int64_t C = p.channels;
  for (int64_t c = 0; c < C; ++c) {
    const int64_t lo = imax(0, c - p.before), hi = imin(C - 1, c + p.after);
    double s = 0;
    for (int64_t j = lo; j <= hi; ++j) {
      const double v = x[j * stride];
      s += v * v;
    }
    const double b = p.k + p.a * s;
    r[c] = lrn::portable::inv_pow(b, p.beta);
    t[c] = (static_cast<double>(dy[c * stride]) * static_cast<double>(x[c * stride])) * (r[c] / b);
  }
  const double two_a_beta = 2 * p.a * p.beta;
  for (int64_t c = 0; c < C; ++c) {
    const int64_t lo = imax(0, c - p.after), hi = imin(C - 1, c + p.before);
    double ts = 0;
    for (int64_t j = lo; j <= hi; ++j) ts += t[j];
    const double v = static_cast<double>(dy[c * stride]) * r[c] - two_a_beta * static_cast<double>(x[c * stride]) * ts;
    dx[c * stride] = static_cast<float>(v);
  }
}

// NCHW: blocks of positions (a multiple of kF) of all channels, r and t kept per block; the
// positions past the last full vector of a row go through backward_position.
void backward_nchw(const lrn::Params& p, const float* x, const float* dy, float* dx, double* work) {
  const int64_t C = p.channels, S = p.spatial_size;
  const Consts k = consts_of(p);
  const BackSeries bs = back_series_of(p);
  const D two_a_beta = V::setd(2 * p.a * p.beta);
  const int64_t block = block_positions(p);
  double* r = work;
  double* t = work + C * block;
  const int64_t full = S / kF * kF;
  for (int64_t b = 0; b < p.batch; ++b) {
    const int64_t base = b * C * S;
    for (int64_t q0 = 0; q0 < full; q0 += block) {
      const int64_t count = imin(block, full - q0);
      for (int64_t c = 0; c < C; ++c) {
        const int64_t lo = imax(0, c - p.before), hi = imin(C - 1, c + p.after);
        for (int64_t q = 0; q < count; q += kF) {
          D s_lo = V::setd(0), s_hi = V::setd(0);
          for (int64_t j = lo; j <= hi; ++j) add_squares(V::loadf(x + base + j * S + q0 + q), s_lo, s_hi);
          const int64_t at = base + c * S + q0 + q;
          factors(V::loadf(x + at), V::loadf(dy + at), s_lo, s_hi, k, bs, r + c * block + q, t + c * block + q);
        }
      }
      // The c whose window holds i are [i - after, i + before]: the mirrored window.
      for (int64_t c = 0; c < C; ++c) {
        const int64_t lo = imax(0, c - p.after), hi = imin(C - 1, c + p.before);
        for (int64_t q = 0; q < count; q += kF) {
          D ts_lo = V::setd(0), ts_hi = V::setd(0);
          for (int64_t j = lo; j <= hi; ++j) {
            ts_lo = V::addd(ts_lo, V::loadd(t + j * block + q));
            ts_hi = V::addd(ts_hi, V::loadd(t + j * block + q + kD));
          }
          const int64_t at = base + c * S + q0 + q;
          V::storef(dx + at, combine(V::loadf(x + at), V::loadf(dy + at), r + c * block + q, ts_lo, ts_hi, two_a_beta));
        }
      }
    }
    for (int64_t q = full; q < S; ++q) backward_position(x + base + q, dy + base + q, dx + base + q, S, p, r, t);
  }
}

// Where a strip's inputs are read: row c of x at x + c * stride + at (and of dy likewise): the
// tensors themselves (stride S, at = the strip's first position) or an in-place copy.
struct Rows {
  const float* x;
  const float* dy;
  int64_t stride, at;
};

// NCHW backward in one walk down the channels of a strip of one vector of positions (windows of
// W <= kFloatRows): at step c row c + R is squared into a ring of W float64 squares, channel c's
// powers give its t (= dy*x*B^(-beta-1)) into a ring of W and its dy*B^(-beta) into a memory
// ring, and channel i = c - L, whose mirrored window [i - R, i + L] the t ring now holds, is
// finished. Row i is written after the last read of rows up to i, so dx may be x or dy.
template <int W, bool kPartial>
void backward_strip(const lrn::Params& p, const Consts& k, const BackSeries& bs, const Rows& in, float* dxb, int64_t q0,
                    int64_t valid) {
  const int64_t C = p.channels, S = p.spatial_size, L = p.before, R = p.after;
  const float* xb = in.x;
  const float* dyb = in.dy;
  const int64_t at = in.at, rs = in.stride;
  const D two_a_beta = V::setd(2 * p.a * p.beta);
  auto load = [&](const float* row) __attribute__((always_inline)) {
    return kPartial ? load_part(row + at, valid) : V::loadf(row + at);
  };
  D sq[W][2], t[W][2];
  alignas(64) double term1[W][kF];  // dy*B^(-beta) of channels c - W + 1 .. c, by c % W
  LRN_UNROLL
  for (int w = 0; w < W; ++w) {
    const int64_t row = w - L - 1;
    F xv = V::zerof();
    if (row >= 0 && row < C) xv = load(xb + row * rs);
    const D l = V::lo(xv), h = V::hi(xv);
    sq[w][0] = V::muld(l, l);
    sq[w][1] = V::muld(h, h);
    t[w][0] = t[w][1] = V::setd(0);
  }
  const bool prefetch_next = !kPartial && rs == S && q0 + 2 * kF <= S;
  int64_t slot = 0;  // c % W
  for (int64_t c = 0; c < C + L; ++c, slot = slot + 1 == W ? 0 : slot + 1) {
    LRN_UNROLL
    for (int w = 0; w + 1 < W; ++w) {
      t[w][0] = t[w + 1][0];
      t[w][1] = t[w + 1][1];
    }
    if (c < C) {
      LRN_UNROLL
      for (int w = 0; w + 1 < W; ++w) {
        sq[w][0] = sq[w + 1][0];
        sq[w][1] = sq[w + 1][1];
      }
      F xv = V::zerof();
      if (c + R < C) {
        xv = load(xb + (c + R) * rs);
        if (prefetch_next) __builtin_prefetch(xb + (c + R) * rs + at + kF, 0, 3);
      }
      const D l = V::lo(xv), h = V::hi(xv);
      sq[W - 1][0] = V::muld(l, l);
      sq[W - 1][1] = V::muld(h, h);
      D lo[W], hi[W];
      LRN_UNROLL
      for (int w = 0; w < W; ++w) {
        lo[w] = sq[w][0];
        hi[w] = sq[w][1];
      }
      D pw[2], q[2];
      backward_powers(sum_tree<W>(lo), sum_tree<W>(hi), k, bs, pw, q);
      const F xc = load(xb + c * rs), dyc = load(dyb + c * rs);
      if (prefetch_next) __builtin_prefetch(dyb + c * rs + at + kF, 0, 3);
      const D dy_lo = V::lo(dyc), dy_hi = V::hi(dyc);
      t[W - 1][0] = V::muld(V::muld(dy_lo, V::lo(xc)), q[0]);
      t[W - 1][1] = V::muld(V::muld(dy_hi, V::hi(xc)), q[1]);
      V::stored(term1[slot], V::muld(dy_lo, pw[0]));
      V::stored(term1[slot] + kD, V::muld(dy_hi, pw[1]));
    } else {
      t[W - 1][0] = t[W - 1][1] = V::setd(0);
    }
    if (c < L) continue;
    const int64_t i = c - L;
    const double* t1 = term1[slot >= L ? slot - L : slot - L + W];
    D lo[W], hi[W];
    LRN_UNROLL
    for (int w = 0; w < W; ++w) {
      lo[w] = t[w][0];
      hi[w] = t[w][1];
    }
    const F xi = load(xb + i * rs);
    // (2*a*beta * x) * tsum, as the portable code groups it (see combine).
    const D neg_lo = V::muld(V::muld(two_a_beta, V::lo(xi)), sum_tree<W>(lo));
    const D neg_hi = V::muld(V::muld(two_a_beta, V::hi(xi)), sum_tree<W>(hi));
    const F out = V::narrow(V::subd(V::loadd(t1), neg_lo), V::subd(V::loadd(t1 + kD), neg_hi));
    if (kPartial) store_part(dxb + i * S + q0, out, valid);
    else V::storef(dxb + i * S + q0, out);
  }
}

// The float32 backward: where S is in the series' range, t = dy*x*B^(-beta-1) and its sums in
// float32 are off by at most eta * sum|t| (eta: 8 units of 2^-24 for windows up to 8, from
// the series, the two products and the sum's roundings), so dx = dy*B^-beta - 2*a*beta*x*sum t
// stays within SPEC's 1e-5 * (|term1| + |term2|) (168 units) wherever
// |2*a*beta*x| * sum|t| <= 16 * (|term1| + |term2|); every vector is checked, tiny values
// (subnormal arithmetic) fail, and a strip with any failure is redone in float64.
struct BackF32 {
  Series q;         // B^(-beta-1) on float32 window sums
  F k, a, two_a_beta, sixteen, tiny;
};

BackF32 back_f32_of(const lrn::Params& p) {
  lrn::Params q = p;
  q.beta = p.beta + 1;
  return {series_of(q, static_cast<int>(p.before + p.after + 2)), V::setf(static_cast<float>(p.k)),
          V::setf(static_cast<float>(p.a)), V::setf(static_cast<float>(2 * p.a * p.beta)), V::setf(16.0f),
          V::setf(0x1p-120f)};
}


// backward_strip in float32 (out of place only): false when some vector failed a check, the
// strip's outputs then incomplete.
template <int W, bool kPartial>
bool backward_strip_f32(const lrn::Params& p, const BackF32& f, const Rows& in, float* dxb, int64_t q0, int64_t valid) {
  const int64_t C = p.channels, S = p.spatial_size, L = p.before, R = p.after;
  const float* xb = in.x;
  const float* dyb = in.dy;
  const int64_t at = in.at, rs = in.stride;
  auto load = [&](const float* row) __attribute__((always_inline)) {
    return kPartial ? load_part(row + at, valid) : V::loadf(row + at);
  };
  F sq[W], t[W], mag[W];  // squares, t and |t|
  alignas(64) float term1[W][kF];  // dy*B^(-beta) of channels c - W + 1 .. c, by c % W
  LRN_UNROLL
  for (int w = 0; w < W; ++w) {
    const int64_t row = w - L - 1;
    F xv = V::zerof();
    if (row >= 0 && row < C) xv = load(xb + row * rs);
    sq[w] = V::mulf(xv, xv);
    t[w] = mag[w] = V::zerof();
  }
  const bool prefetch_next = !kPartial && rs == S && q0 + 2 * kF <= S;
  bool ok = true;
  int64_t slot = 0;  // c % W
  for (int64_t c = 0; c < C + L; ++c, slot = slot + 1 == W ? 0 : slot + 1) {
    LRN_UNROLL
    for (int w = 0; w + 1 < W; ++w) {
      t[w] = t[w + 1];
      mag[w] = mag[w + 1];
    }
    if (c < C) {
      LRN_UNROLL
      for (int w = 0; w + 1 < W; ++w) sq[w] = sq[w + 1];
      F xv = V::zerof();
      if (c + R < C) {
        xv = load(xb + (c + R) * rs);
        if (prefetch_next) __builtin_prefetch(xb + (c + R) * rs + at + kF, 0, 3);
      }
      sq[W - 1] = V::mulf(xv, xv);
      const F sum = sum_tree<W>(sq);
      ok &= series_ok(sum, f.q);
      const F xc = load(xb + c * rs), dyc = load(dyb + c * rs);
      if (prefetch_next) __builtin_prefetch(dyb + c * rs + at + kF, 0, 3);
      const F q = series_scale(V::setf(1.0f), sum, f.q);  // B^(-beta-1)
      const F tc = V::mulf(V::mulf(dyc, xc), q);
      t[W - 1] = tc;
      mag[W - 1] = V::absf(tc);
      V::storef(term1[slot], V::mulf(dyc, V::mulf(q, V::fmaf(f.a, sum, f.k))));  // dy * B^(-beta-1) * B
    } else {
      t[W - 1] = mag[W - 1] = V::zerof();
    }
    if (c < L) continue;
    const int64_t i = c - L;
    const F t1 = V::loadf(term1[slot >= L ? slot - L : slot - L + W]);
    const F cx = V::mulf(f.two_a_beta, load(xb + i * rs));
    const F t2 = V::mulf(cx, sum_tree<W>(t));
    const F bound = V::fmaf(V::absf(cx), V::addf(sum_tree<W>(mag), f.tiny), f.tiny);
    ok &= V::all(V::le(bound, V::mulf(f.sixteen, V::addf(V::absf(t1), V::absf(t2)))));
    const F out = V::fmaf(V::setf(-1.0f), t2, t1);
    if (kPartial) store_part(dxb + i * S + q0, out, valid);
    else V::storef(dxb + i * S + q0, out);
    if (!ok) return false;  // data past the series' range usually fails at once: stop early
  }
  return ok;
}

template <int W>
void backward_nchw_walk(const lrn::Params& p, const float* x, const float* dy, float* dx, float* copy) {
  const int64_t C = p.channels, S = p.spatial_size;
  const Consts k = consts_of(p);
  const BackSeries bs = back_series_of(p);
  const BackF32 f = back_f32_of(p);
  // In place, each strip's inputs are copied first: a failure shows after outputs overwrote them.
  const bool in_place = dx == x || dx == dy;
  const int64_t full = S / kF * kF;
  for (int64_t b = 0; b < p.batch; ++b) {
    const int64_t base = b * C * S;
    for (int64_t q0 = 0; q0 < S; q0 += kF) {
      const int64_t valid = imin(kF, S - q0);
      Rows in{x + base, dy + base, S, q0};
      if (in_place) {
        for (int64_t c = 0; c < C; ++c) {
          V::storef(copy + c * kF, load_part(x + base + c * S + q0, valid));
          V::storef(copy + (C + c) * kF, load_part(dy + base + c * S + q0, valid));
        }
        in = {copy, copy + C * kF, kF, 0};
      }
      if (q0 < full) {
        if (!backward_strip_f32<W, false>(p, f, in, dx + base, q0, kF)) backward_strip<W, false>(p, k, bs, in, dx + base, q0, kF);
      } else if (!backward_strip_f32<W, true>(p, f, in, dx + base, q0, valid)) {
        backward_strip<W, true>(p, k, bs, in, dx + base, q0, valid);
      }
    }
  }
}

using BackwardNchw = void (*)(const lrn::Params&, const float*, const float*, float*, float*);
constexpr BackwardNchw kBackwardNchw[kFloatRows] = {
    backward_nchw_walk<1>, backward_nchw_walk<2>, backward_nchw_walk<3>, backward_nchw_walk<4>,
    backward_nchw_walk<5>, backward_nchw_walk<6>, backward_nchw_walk<7>, backward_nchw_walk<8>,
};

// NHWC backward in float64, one position at a time: x and dy are copied into zero-padded
// buffers (in place is then free), r and t computed for all channels, then dx from sums of t
// over the mirrored window.
struct NhwcBackD {
  Consts k;
  BackSeries bs;
  D two_a_beta;
  double *t, *r;
  float *xbuf, *dybuf, *tail;
  int64_t xpad, tpad;
};

int64_t nhwc_back_d_doubles(const lrn::Params& p) { return padded_of(p, p.after).width + p.channels + kF; }
int64_t nhwc_back_d_floats(const lrn::Params& p) { return padded_of(p, p.before).width + p.channels + 2 * kF; }

NhwcBackD nhwc_back_d_of(const lrn::Params& p, void* work) {
  const Padded px = padded_of(p, p.before), pt = padded_of(p, p.after);
  NhwcBackD d{consts_of(p), back_series_of(p), V::setd(2 * p.a * p.beta), nullptr, nullptr, nullptr, nullptr, nullptr,
              px.pad, pt.pad};
  d.t = static_cast<double*>(work);                      // pt.width
  d.r = d.t + pt.width;                                  // C + kF
  d.xbuf = reinterpret_cast<float*>(d.r + p.channels + kF);  // px.width
  d.dybuf = d.xbuf + px.width;                           // C + kF
  d.tail = d.dybuf + p.channels + kF;                    // kF
  fill_zero(d.xbuf, px.width);
  fill_zero(d.dybuf, p.channels + kF);
  fill_zero(d.t, pt.width);
  return d;
}

void backward_nhwc_position(const lrn::Params& p, const NhwcBackD& d, const float* x, const float* dy, float* dx,
                            int64_t pos) {
  const int64_t C = p.channels, L = p.before, R = p.after;
  float* xrow = d.xbuf + d.xpad;
  double* trow = d.t + d.tpad;
  memcpy(xrow, x + pos * C, C * sizeof(float));
  memcpy(d.dybuf, dy + pos * C, C * sizeof(float));
  for (int64_t c = 0; c < C; c += kF) {
    const int64_t jlo = imax(-L, -(c + kF - 1)), jhi = imin(R, C - 1 - c);
    D s_lo = V::setd(0), s_hi = V::setd(0);
    for (int64_t j = jlo; j <= jhi; ++j) add_squares(V::loadf(xrow + c + j), s_lo, s_hi);
    factors(V::loadf(xrow + c), V::loadf(d.dybuf + c), s_lo, s_hi, d.k, d.bs, d.r + c, trow + c);
  }
  fill_zero(trow + C, kF);  // lanes past the last channel must add nothing
  float* out = dx + pos * C;
  for (int64_t c = 0; c < C; c += kF) {
    const int64_t jlo = imax(-R, -(c + kF - 1)), jhi = imin(L, C - 1 - c);
    D ts_lo = V::setd(0), ts_hi = V::setd(0);
    for (int64_t j = jlo; j <= jhi; ++j) {
      ts_lo = V::addd(ts_lo, V::loadd(trow + c + j));
      ts_hi = V::addd(ts_hi, V::loadd(trow + c + j + kD));
    }
    const F v = combine(V::loadf(xrow + c), V::loadf(d.dybuf + c), d.r + c, ts_lo, ts_hi, d.two_a_beta);
    if (c + kF <= C) {
      V::storef(out + c, v);
    } else {
      V::storef(d.tail, v);
      memcpy(out + c, d.tail, (C - c) * sizeof(float));
    }
  }
}

// NHWC backward in float32 (as backward_strip_f32, checked per vector, with the position's whole
// sum |t| standing for each window's: cheaper, and a bound of it), windows of W <= 8, in
// three stages a position apart, each reading buffers the previous stage wrote a position
// earlier (a load spanning two just-written vectors waits for both stores to retire): squares of
// position pos + 1 into a padded buffer; S, t, |t| and dy*B^-beta of position pos; dx of position
// pos - 1 from shifted sums of t and |t|, into a buffer that is copied out when every check
// passed, else the position is redone in float64 (its inputs still intact, in place too).
int64_t nhwc_back_f32_floats(const lrn::Params& p) {
  const int64_t width = p.before + p.channels + p.after + 2 * kF;
  return 2 * width + 4 * width + 3 * (p.channels + kF);
}

template <int W>
void backward_nhwc_f32(const lrn::Params& p, const float* x, const float* dy, float* dx, const NhwcBackD& d,
                       float* work) {
  const int64_t C = p.channels, L = p.before, R = p.after;
  const int64_t width = L + C + R + 2 * kF;
  const BackF32 f = back_f32_of(p);
  float* sq[2] = {work, work + width};                   // squares at L + c
  float* tt[2] = {work + 2 * width, work + 3 * width};   // t at R + c
  float* t1[2] = {work + 6 * width, work + 6 * width + C + kF};
  float* out = work + 6 * width + 2 * (C + kF);
  fill_zero(work, 6 * width);
  const bool in_place = dx == x || dx == dy;
  const int64_t positions = p.batch * p.spatial_size;
  auto squares = [&](int64_t pos) __attribute__((always_inline)) {
    float* b = sq[pos & 1] + L;
    const float* in = x + pos * C;
    for (int64_t c = 0; c < C; c += kF) {
      const F v = load_part(in + c, C - c);
      V::storef(b + c, V::mulf(v, v));  // zeros past the last channel
    }
  };
  bool ok_prev = true, ok_cur = true;
  float mag_sum[2] = {0, 0};
  if (positions > 0) squares(0);
  for (int64_t pos = 0; pos <= positions; ++pos) {
    if (pos + 1 < positions) squares(pos + 1);
    if (pos < positions) {
      const float* s = sq[pos & 1];
      float* t = tt[pos & 1] + R;
      float* u = t1[pos & 1];
      F mag = V::zerof();
      const float* xp = x + pos * C;
      const float* dyp = dy + pos * C;
      bool ok = true;
      for (int64_t c = 0; c < C && ok; c += kF) {
        F terms[W];
        LRN_UNROLL
        for (int w = 0; w < W; ++w) terms[w] = V::loadf(s + c + w);
        const F sum = sum_tree<W>(terms);
        ok &= series_ok(sum, f.q);
        const F xc = load_part(xp + c, C - c), dyc = load_part(dyp + c, C - c);
        const F q = series_scale(V::setf(1.0f), sum, f.q);
        const F tc = V::mulf(V::mulf(dyc, xc), q);  // zero past the last channel
        V::storef(t + c, tc);
        mag = V::addf(mag, V::absf(tc));
        V::storef(u + c, V::mulf(dyc, V::mulf(q, V::fmaf(f.a, sum, f.k))));
      }
      ok_cur = ok;
      // sum |t| over the whole position: an upper bound of every window's, for the checks
      alignas(64) float lanes[kF];
      V::storef(lanes, mag);
      float total = 0;
      for (int j = 0; j < kF; ++j) total += lanes[j];
      mag_sum[pos & 1] = total;
    }
    if (pos > 0) {
      const int64_t at = pos - 1;
      const float* t = tt[at & 1];
      const F mag = V::addf(V::setf(mag_sum[at & 1]), f.tiny);
      const float* u = t1[at & 1];
      const float* xp = x + at * C;
      // Out of place straight into dx (a failed position is simply rewritten); in place into a
      // buffer, as a failure needs the position's inputs.
      float* dst = in_place ? out : dx + at * C;
      bool ok = ok_prev;
      for (int64_t c = 0; c < C && ok; c += kF) {
        F ts[W];
        LRN_UNROLL
        for (int w = 0; w < W; ++w) ts[w] = V::loadf(t + c + w);
        const F t1v = V::loadf(u + c);
        const F cx = V::mulf(f.two_a_beta, load_part(xp + c, C - c));
        const F t2 = V::mulf(cx, sum_tree<W>(ts));
        const F bound = V::fmaf(V::absf(cx), mag, f.tiny);
        ok &= V::all(V::le(bound, V::mulf(f.sixteen, V::addf(V::absf(t1v), V::absf(t2)))));
        store_part(dst + c, V::fmaf(V::setf(-1.0f), t2, t1v), C - c);
      }
      if (!ok) backward_nhwc_position(p, d, x, dy, dx, at);
      else if (in_place) copy_floats(dx + at * C, out, C);
    }
    ok_prev = ok_cur;
  }
}

using BackwardNhwcF32 = void (*)(const lrn::Params&, const float*, const float*, float*, const NhwcBackD&, float*);
constexpr BackwardNhwcF32 kBackwardNhwcF32[kFloatRows] = {
    backward_nhwc_f32<1>, backward_nhwc_f32<2>, backward_nhwc_f32<3>, backward_nhwc_f32<4>,
    backward_nhwc_f32<5>, backward_nhwc_f32<6>, backward_nhwc_f32<7>, backward_nhwc_f32<8>,
};

void backward_nhwc(const lrn::Params& p, const float* x, const float* dy, float* dx, void* work) {
  const NhwcBackD d = nhwc_back_d_of(p, work);
  const int64_t W = p.before + p.after + 1;
  if (W <= kFloatRows && series_fits_sample(p, p.beta + 1, x)) {
    float* fwork = reinterpret_cast<float*>(static_cast<double*>(work) + nhwc_back_d_doubles(p)) + nhwc_back_d_floats(p);
    return kBackwardNhwcF32[W - 1](p, x, dy, dx, d, fwork);
  }
  const int64_t positions = p.batch * p.spatial_size;
  for (int64_t pos = 0; pos < positions; ++pos) backward_nhwc_position(p, d, x, dy, dx, pos);
}

// ---- the Kernel entry points ----------------------------------------------------------------

size_t workspace_bytes(const lrn::Params& p) {
  const int64_t C = p.channels;
  const int64_t block = block_positions(p);
  const Padded px = padded_of(p, p.before), pt = padded_of(p, p.after);
  const size_t nchw = (2 * C * block + 2 * C) * sizeof(double);  // also covers the in-place forward copy
  const size_t nhwc = (pt.width + C + kF) * sizeof(double) + (2 * (px.width + p.after) + C + 2 * kF) * sizeof(float);
  const size_t nhwc_back = nhwc_back_d_doubles(p) * sizeof(double) + (nhwc_back_d_floats(p) + nhwc_back_f32_floats(p)) * sizeof(float);
  const size_t within = static_cast<size_t>(within_workspace_doubles(p)) * sizeof(double);
  const size_t nhwc_wide = static_cast<size_t>(2 * nhwc_squares_width(p)) * sizeof(double) + nhwc_series_floats(p) * sizeof(float);
  const size_t strip_copy = 2 * C * kF * sizeof(float);  // backward_nchw_walk in place
  size_t simd = nchw > nhwc ? nchw : nhwc;
  simd = simd > strip_copy ? simd : strip_copy;
  simd = simd > nhwc_back ? simd : nhwc_back;
  simd = simd > within ? simd : within;
  simd = simd > nhwc_wide ? simd : nhwc_wide;
  const size_t portable = lrn::portable::workspace_bytes(p);
  return simd > portable ? simd : portable;
}


// Windows of up to kFloatRows sum in float32 where the float32 power takes beta
// (float32_power). Not where only the series would (as the backward does): the choice would
// depend on the data, and lrnAsync's parts must give exactly the bytes of the whole call.
bool float_sums(const lrn::Params& p) {
  return p.before + p.after + 1 <= kFloatRows && float32_power(p.beta);
}

// The float32-sum series is usable for these parameters (windows of up to kFloatRows).
bool series_takes(const lrn::Params& p) {
  return lrn::series::small_sum_series(p.k, p.a, p.beta, 0x1p-24, static_cast<int>(p.before + p.after + 2)).usable;
}

void forward_f32(const lrn::Params& p, const float* x, float* y, void* work) {
  if (p.length() == 0) return;
  if (p.region == lrn::Region::WithinChannel) forward_within(p, x, y, static_cast<double*>(work));
  else if (!float_sums(p)) {
    if (p.layout == lrn::Layout::NCHW && p.before + p.after + 1 <= kFloatRows) kForwardNchwD[p.before + p.after](p, x, y);
    else if (p.layout == lrn::Layout::NCHW) forward_nchw_wide(p, x, y, static_cast<float*>(work));
    else if (p.before + p.after + 1 <= kFloatRows && series_takes(p)) kForwardNhwcSeries[p.before + p.after](p, x, y, static_cast<double*>(work));
    else forward_nhwc_wide(p, x, y, static_cast<double*>(work));
  } else {
    kForwardFast[p.before + p.after](p, x, y, static_cast<float*>(work));
  }
}

void backward_f32(const lrn::Params& p, const float* x, const float* dy, float* dx, void* work) {
  if (p.length() == 0) return;
  if (p.region == lrn::Region::WithinChannel) lrn::portable::backward(p, x, dy, dx, work);
  // The float32 backward where its series (B^(-beta-1)) likely covers the data.
  else if (p.layout == lrn::Layout::NCHW && p.before + p.after + 1 <= kFloatRows && series_fits_sample(p, p.beta + 1, x)) {
    kBackwardNchw[p.before + p.after](p, x, dy, dx, static_cast<float*>(work));
  }
  else if (p.layout == lrn::Layout::NCHW) backward_nchw(p, x, dy, dx, static_cast<double*>(work));
  else backward_nhwc(p, x, dy, dx, work);
}

void forward_f64(const lrn::Params& p, const double* x, double* y, void* work) {
  lrn::portable::forward(p, x, y, work);
}

void backward_f64(const lrn::Params& p, const double* x, const double* dy, double* dx, void* work) {
  lrn::portable::backward(p, x, dy, dx, work);
}

}  // namespace

#undef LRN_INLINE
#undef LRN_UNROLL
#undef LRN_UNROLL
