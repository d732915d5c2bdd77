// SIMD float32 LRN, written once over a vector-ops struct `V` and compiled once per instruction
// set: each kernel_<isa>.cpp defines V and includes this file inside its own namespace, so no
// function compiled with one ISA's flags can be picked by the linker for another.
//
// V provides: kF float lanes, F (kF floats), D (kF/2 doubles); loadf/storef (unaligned), lo/hi
// (widen each half of an F to D), narrow(D, D) -> F, setf/setd, addd/subd/muld/divd/sqrtd,
// fmad(a, b, c) = a*b + c, loadd/stored, addf/mulf/divf/sqrtf/fmaf, rsqrtf (~1 ulp), pow_m075
// (b^-0.75, a few ulps), load_n/store_n (the first n lanes only; loads zero the rest), zerof,
// maxf, between(F, lo, hi) (all lanes inside, false for NaN), and masks M with ge/le/lt, and_/or_, all.
// For float64 exp/log: bits(D) / from_bits, and 64-bit integer lanes with seti, addi, subi, andi,
// ori, srli52, slli52.
//
// Accuracy: windows of up to 8 channels sum their squares in float32 (at most 8 roundings, a few
// units in the last place at worst) when beta is 0, 0.5, 0.75 or 1; wider windows and other betas
// (which would amplify the sum's error by beta) sum in float64. The power is taken in float32 for
// those four betas, in float64 vectors (exp(-beta ln B)) for others up to 7, only when B is well
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

struct Consts {
  D k, a, neg_beta;
  F low, high;
  Beta beta;
  double beta_value;
};

Consts consts_of(const lrn::Params& p) {
  return {V::setd(p.k), V::setd(p.a), V::setd(-p.beta), V::setf(kLowB), V::setf(kHighB), beta_kind(p.beta), p.beta};
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
    default: return V::mulf(x, V::pow_m075(b));
  }
}

// y = x * B^(-beta) for one vector, from B's two double halves. Lanes the float32 power cannot
// take are finished in float64 from the same B.
LRN_INLINE F finish(F x, D b_lo, D b_hi, const Consts& c) {
  const F b = V::narrow(b_lo, b_hi);
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
    V::storef(dst + q, finish(x, V::fmad(k.a, s_lo, k.k), V::fmad(k.a, s_hi, k.k), k));
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

void forward_nhwc_wide(const lrn::Params& p, const float* x, float* y, float* work) {
  const int64_t C = p.channels, L = p.before, R = p.after;
  const Consts k = consts_of(p);
  const Padded pd = padded_of(p, L);
  float* buf = work;
  float* tail = work + pd.width;
  fill_zero(buf, pd.width);
  float* row = buf + pd.pad;
  const int64_t positions = p.batch * p.spatial_size;
  for (int64_t pos = 0; pos < positions; ++pos) {
    memcpy(row, x + pos * C, C * sizeof(float));
    float* out = y + pos * C;
    for (int64_t c = 0; c < C; c += kF) {
      const int64_t jlo = imax(-L, -(c + kF - 1)), jhi = imin(R, C - 1 - c);
      D s_lo = V::setd(0), s_hi = V::setd(0);
      for (int64_t j = jlo; j <= jhi; ++j) add_squares(V::loadf(row + c + j), s_lo, s_hi);
      const F v = finish(V::loadf(row + c), V::fmad(k.a, s_lo, k.k), V::fmad(k.a, s_hi, k.k), k);
      if (c + kF <= C) {
        V::storef(out + c, v);
      } else {
        V::storef(tail, v);
        memcpy(out + c, tail, (C - c) * sizeof(float));
      }
    }
  }
}

// ---- forward with float32 window sums (windows of up to kFloatRows channels) ---------------

constexpr int64_t kFloatRows = 8;

struct Fast {
  F k, a, high, low_s, negligible;
  Beta beta;
  bool small_k;  // k too small to hide an imprecise S: check S for underflow too
};

Fast fast_of(const lrn::Params& p) {
  // With k >= 2^-90 and a <= k * 2^64, B >= k stays above 2^-100 and any S below 2^-100
  // contributes a*S <= 2^-26 * k: only the upper bound needs checking per vector.
  const bool small_k = !(p.k >= 0x1p-90 && p.a <= p.k * 0x1p64);
  return {V::setf(static_cast<float>(p.k)), V::setf(static_cast<float>(p.a)), V::setf(kHighB),
          V::setf(0x1p-100f), V::setf(0x1p26f), beta_kind(p.beta), small_k};
}

// Every lane safe for float32: S and B finite and at most 2^100 (false for NaN, as max returns
// its second operand when either is NaN and B is NaN whenever S is); with a small k also B at
// least 2^-100 and S either far from underflow or too small to matter (a*S below 2^-26 of B).
LRN_INLINE bool fast_ok(F s, F b, const Fast& f) {
  if (f.beta == Beta::Other) return false;
  const auto in_range = V::le(V::maxf(s, b), f.high);
  if (!f.small_k) return V::all(in_range);
  const auto b_low = V::ge(b, f.low_s);
  const auto s_fine = V::or_(V::ge(s, f.low_s), V::lt(V::mulf(V::mulf(f.a, s), f.negligible), b));
  return V::all(V::and_(V::and_(in_range, b_low), s_fine));
}

// A vector of `valid` floats from p (the rest zero), reading only those; and its converse,
// storing only the first `valid` lanes. Masked moves where the ISA has them (V::load_n/store_n).
LRN_INLINE F load_part(const float* p, int64_t valid) { return valid >= kF ? V::loadf(p) : V::load_n(p, valid); }

LRN_INLINE void store_part(float* p, F v, int64_t valid) {
  if (valid >= kF) V::storef(p, v);
  else V::store_n(p, v, valid);
}

// One walk down the channels of a strip of `nv` vectors starting at position q0 of every row.
// kPartial: the strip is one vector of which only `valid` lanes exist (a row's tail).
template <int W, bool kPartial>
void walk_strip(const lrn::Params& p, const Fast& f, const float* xb, float* yb, int64_t q0, int nv, int64_t valid) {
  constexpr int kStrip = 4;
  const int64_t C = p.channels, S = p.spatial_size, L = p.before, R = p.after;
  alignas(64) float orig[W * kStrip * kF];
  alignas(64) float sq[W * kStrip * kF];
  const F zero = V::zerof();
  auto load = [&](const float* at) { return kPartial ? load_part(at, valid) : V::loadf(at); };
  // Slot of row r is (r + L) % W; rows -L..-1 are zeros, rows 0..R-1 are loaded up front.
  for (int64_t r = -L; r < R; ++r) {
    for (int v = 0; v < nv; ++v) {
      const F xv = r >= 0 && r < C ? load(xb + r * S + q0 + v * kF) : zero;
      V::storef(orig + ((r + L) * kStrip + v) * kF, xv);
      V::storef(sq + ((r + L) * kStrip + v) * kF, V::mulf(xv, xv));
    }
  }
  int64_t incoming = R + L;  // slot of row c + R
  int64_t centre = L;        // slot of row c
  for (int64_t c = 0; c < C; ++c) {
    const float* next_row = xb + (c + R) * S + q0;
    for (int v = 0; v < nv; ++v) {
      const F xv = c + R < C ? load(next_row + v * kF) : zero;
      V::storef(orig + (incoming * kStrip + v) * kF, xv);
      V::storef(sq + (incoming * kStrip + v) * kF, V::mulf(xv, xv));
    }
    for (int v = 0; v < nv; ++v) {
      F s = V::loadf(sq + v * kF);
      for (int w = 1; w < W; ++w) s = V::addf(s, V::loadf(sq + (w * kStrip + v) * kF));
      const F xc = V::loadf(orig + (centre * kStrip + v) * kF);
      const F bb = V::fmaf(f.a, s, f.k);
      F out;
      if (fast_ok(s, bb, f)) {
        out = power_f32(xc, bb, f.beta);
      } else {
        alignas(64) float lanes[kF];
        for (int i = 0; i < kF; ++i) {
          double ss = 0;
          for (int w = 0; w < W; ++w) {
            const double o = orig[(w * kStrip + v) * kF + i];
            ss += o * o;
          }
          const double xi = orig[(centre * kStrip + v) * kF + i];
          lanes[i] = static_cast<float>(xi * lrn::portable::inv_pow(p.k + p.a * ss, p.beta));
        }
        out = V::loadf(lanes);
      }
      if (kPartial) store_part(yb + c * S + q0, out, valid);
      else V::storef(yb + c * S + q0 + v * kF, out);
    }
    incoming = incoming + 1 == W ? 0 : incoming + 1;
    centre = centre + 1 == W ? 0 : centre + 1;
  }
}

// NCHW, walking down the channels of a strip of up to four vectors of positions: each row is
// loaded and squared once into rings of the window's W rows (zeros past the edges), and each row
// access reads whole consecutive cache lines, which keeps large tensors streaming from memory.
// The window sum is W - 1 adds, which run beside the multiplies of the power. In place needs no
// copy (row c is written only after every window holding it has been summed). A row's last
// partial vector walks on its own through a small buffer. Lanes that fail fast_ok are redone in
// float64 from the ring of original values.
template <int W>
void forward_nchw_fast(const lrn::Params& p, const float* x, float* y) {
  const int64_t C = p.channels, S = p.spatial_size;
  const Fast f = fast_of(p);
  const int64_t full = S / kF * kF;
  for (int64_t b = 0; b < p.batch; ++b) {
    const float* xb = x + b * C * S;
    float* yb = y + b * C * S;
    for (int64_t q0 = 0; q0 < full; q0 += 4 * kF) {
      walk_strip<W, false>(p, f, xb, yb, q0, static_cast<int>(imin(4, (full - q0) / kF)), kF);
    }
    if (full < S) walk_strip<W, true>(p, f, xb, yb, full, 1, S - full);
  }
}

// NHWC: the position's channels sit between zero pads; each vector of outputs sums squares of
// shifted loads. Lanes that fail fast_ok are redone in float64 from the padded copy.
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
      if (fast_ok(s, bb, f)) {
        V::storef(dst, power_f32(xc, bb, f.beta));
      } else {
        for (int64_t i = 0; i < valid; ++i) {
          dst[i] = forward_scalar(row, 1, imax(0, c + i - L), imin(C - 1, c + i + R), c + i, p);
        }
      }
      if (valid < kF) memcpy(out + c, tail, valid * sizeof(float));
    }
  }
}

template <int W>
void forward_fast(const lrn::Params& p, const float* x, float* y, float* work) {
  if (p.layout == lrn::Layout::NCHW) forward_nchw_fast<W>(p, x, y);
  else forward_nhwc_fast<W>(p, x, y, work);
}

// By window size W = before + after + 1, from 1 to kFloatRows.
using ForwardFast = void (*)(const lrn::Params&, const float*, float*, float*);
constexpr ForwardFast kForwardFast[kFloatRows] = {
    forward_fast<1>, forward_fast<2>, forward_fast<3>, forward_fast<4>,
    forward_fast<5>, forward_fast<6>, forward_fast<7>, forward_fast<8>,
};

// ---- within-channel forward: float64 box sums in vectors -----------------------------------

// For src viewed as [outer][m][inner] (float64): dst = sum along m over [i - before, i + after],
// clipped. Vector adds over the contiguous `inner` elements; inner == 1 (NCHW's last axis) sums
// shifted loads from a zero-padded copy of each line instead.
void window_rows(const double* src, double* dst, int64_t outer, int64_t m, int64_t inner, int64_t before,
                 int64_t after, double* line) {
  if (inner == 1) {
    const int64_t pad_l = imin(before, m), pad_r = imin(after, m) + kD;
    for (int64_t o = 0; o < outer; ++o) {
      const double* in = src + o * m;
      double* out = dst + o * m;
      fill_zero(line, pad_l);
      memcpy(line + pad_l, in, m * sizeof(double));
      fill_zero(line + pad_l + m, pad_r);
      const double* centre = line + pad_l;
      const int64_t jlo = -imin(before, m), jhi = imin(after, m);
      int64_t i = 0;
      for (; i + kD <= m; i += kD) {
        D s = V::loadd(centre + i + jlo);
        for (int64_t j = jlo + 1; j <= jhi; ++j) s = V::addd(s, V::loadd(centre + i + j));
        V::stored(out + i, s);
      }
      for (; i < m; ++i) {
        double s = 0;
        for (int64_t j = jlo; j <= jhi; ++j) s += centre[i + j];
        out[i] = s;
      }
    }
    return;
  }
  for (int64_t o = 0; o < outer; ++o) {
    const double* in = src + o * m * inner;
    double* out = dst + o * m * inner;
    for (int64_t i = 0; i < m; ++i) {
      const int64_t lo = imax(0, i - before), hi = imin(m - 1, i + after);
      double* row = out + i * inner;
      int64_t q = 0;
      for (; q + kD <= inner; q += kD) {
        D s = V::loadd(in + lo * inner + q);
        for (int64_t j = lo + 1; j <= hi; ++j) s = V::addd(s, V::loadd(in + j * inner + q));
        V::stored(row + q, s);
      }
      for (; q < inner; ++q) {
        double s = 0;
        for (int64_t j = lo; j <= hi; ++j) s += in[j * inner + q];
        row[q] = s;
      }
    }
  }
}

// y[i] = x[i] * (k + a * sums[i])^(-beta) over `count` contiguous elements.
void scale_by_sums(const float* x, float* y, const double* sums, int64_t count, const lrn::Params& p, const Consts& k) {
  int64_t i = 0;
  for (; i + kF <= count; i += kF) {
    const D b_lo = V::fmad(k.a, V::loadd(sums + i), k.k), b_hi = V::fmad(k.a, V::loadd(sums + i + kD), k.k);
    V::storef(y + i, finish(V::loadf(x + i), b_lo, b_hi, k));
  }
  for (; i < count; ++i) {
    y[i] = static_cast<float>(static_cast<double>(x[i]) * lrn::portable::inv_pow(p.k + p.a * sums[i], p.beta));
  }
}

// Box sums are separable: one axis at a time. NHWC sums a whole batch item at once, its C channels
// being the innermost run of every row; NCHW sums one channel's plane at a time.
void forward_within(const lrn::Params& p, const float* x, float* y, double* work) {
  const int64_t C = p.channels, V_ = p.spatial_size;
  const bool nhwc = p.layout == lrn::Layout::NHWC;
  const int64_t plane = nhwc ? V_ * C : V_;  // elements summed together
  const int64_t planes = nhwc ? p.batch : p.batch * C;
  const Consts k = consts_of(p);
  double* sq = work;
  double* tmp = work + plane;
  double* line = work + 2 * plane;
  for (int64_t n = 0; n < planes; ++n) {
    const float* xp = x + n * plane;
    float* yp = y + n * plane;
    for (int64_t i = 0; i < plane; ++i) {
      const double v = xp[i];
      sq[i] = v * v;
    }
    double* src = sq;
    double* dst = tmp;
    int64_t outer = 1, inner = nhwc ? plane : V_;
    for (int a = 0; a < p.spatial_rank; ++a) {
      const int64_t m = p.spatial[a];
      inner /= m;
      window_rows(src, dst, outer, m, inner, p.before, p.after, line);
      outer *= m;
      double* t = src;
      src = dst;
      dst = t;
    }
    scale_by_sums(xp, yp, src, plane, p, k);
  }
}

int64_t within_workspace_doubles(const lrn::Params& p) {
  if (p.region != lrn::Region::WithinChannel) return 0;
  const int64_t plane = p.layout == lrn::Layout::NHWC ? p.spatial_size * p.channels : p.spatial_size;
  int64_t longest = 0;
  for (int a = 0; a < p.spatial_rank; ++a) longest = imax(longest, p.spatial[a]);
  return 2 * plane + longest + p.before + p.after + 2 * kD;
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

// Pass 1 for one vector: B from the window sums, then r = B^-beta and t = dy*x*B^(-beta-1).
LRN_INLINE void factors(F x, F dy, D s_lo, D s_hi, const Consts& k, double* r, double* t) {
  // k + a*S rounded twice, as the portable code computes it (see combine).
  const D b_lo = V::addd(k.k, V::muld(k.a, s_lo)), b_hi = V::addd(k.k, V::muld(k.a, s_hi));
  const D r_lo = inv_pow_d(b_lo, k), r_hi = inv_pow_d(b_hi, k);
  V::stored(r, r_lo);
  V::stored(r + kD, r_hi);
  V::stored(t, V::muld(V::muld(V::lo(dy), V::lo(x)), V::divd(r_lo, b_lo)));
  V::stored(t + kD, V::muld(V::muld(V::hi(dy), V::hi(x)), V::divd(r_hi, b_hi)));
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
          factors(V::loadf(x + at), V::loadf(dy + at), s_lo, s_hi, k, r + c * block + q, t + c * block + q);
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

// NHWC: per position, x and dy are copied into zero-padded buffers (in place is then free), r
// and t computed for all channels, then dx from sums of t over the mirrored window.
void backward_nhwc(const lrn::Params& p, const float* x, const float* dy, float* dx, void* work) {
  const int64_t C = p.channels, L = p.before, R = p.after;
  const Consts k = consts_of(p);
  const D two_a_beta = V::setd(2 * p.a * p.beta);
  const Padded px = padded_of(p, L);
  const Padded pt = padded_of(p, R);
  double* t = static_cast<double*>(work);                // pt.width
  double* r = t + pt.width;                              // C + kF
  float* xbuf = reinterpret_cast<float*>(r + C + kF);    // px.width
  float* dybuf = xbuf + px.width;                        // C + kF
  float* tail = dybuf + C + kF;                          // kF
  fill_zero(xbuf, px.width);
  fill_zero(dybuf, C + kF);
  fill_zero(t, pt.width);
  float* xrow = xbuf + px.pad;
  double* trow = t + pt.pad;
  const int64_t positions = p.batch * p.spatial_size;
  for (int64_t pos = 0; pos < positions; ++pos) {
    memcpy(xrow, x + pos * C, C * sizeof(float));
    memcpy(dybuf, dy + pos * C, C * sizeof(float));
    for (int64_t c = 0; c < C; c += kF) {
      const int64_t jlo = imax(-L, -(c + kF - 1)), jhi = imin(R, C - 1 - c);
      D s_lo = V::setd(0), s_hi = V::setd(0);
      for (int64_t j = jlo; j <= jhi; ++j) add_squares(V::loadf(xrow + c + j), s_lo, s_hi);
      factors(V::loadf(xrow + c), V::loadf(dybuf + c), s_lo, s_hi, k, r + c, trow + c);
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
      const F v = combine(V::loadf(xrow + c), V::loadf(dybuf + c), r + c, ts_lo, ts_hi, two_a_beta);
      if (c + kF <= C) {
        V::storef(out + c, v);
      } else {
        V::storef(tail, v);
        memcpy(out + c, tail, (C - c) * sizeof(float));
      }
    }
  }
}

// ---- the Kernel entry points ----------------------------------------------------------------

size_t workspace_bytes(const lrn::Params& p) {
  const int64_t C = p.channels;
  const int64_t block = block_positions(p);
  const Padded px = padded_of(p, p.before), pt = padded_of(p, p.after);
  const size_t nchw = (2 * C * block + 2 * C) * sizeof(double);  // also covers the in-place forward copy
  const size_t nhwc = (pt.width + C + kF) * sizeof(double) + (2 * (px.width + p.after) + C + 2 * kF) * sizeof(float);
  const size_t within = static_cast<size_t>(within_workspace_doubles(p)) * sizeof(double);
  size_t simd = nchw > nhwc ? nchw : nhwc;
  simd = simd > within ? simd : within;
  const size_t portable = lrn::portable::workspace_bytes(p);
  return simd > portable ? simd : portable;
}

void forward_f32(const lrn::Params& p, const float* x, float* y, void* work) {
  if (p.length() == 0) return;
  if (p.region == lrn::Region::WithinChannel) forward_within(p, x, y, static_cast<double*>(work));
  // Betas without a float32 shortcut amplify the error of a float32 sum by beta: they, and wide
  // windows, sum in float64.
  else if (p.before + p.after + 1 > kFloatRows || beta_kind(p.beta) == Beta::Other) {
    if (p.layout == lrn::Layout::NCHW) forward_nchw_wide(p, x, y, static_cast<float*>(work));
    else forward_nhwc_wide(p, x, y, static_cast<float*>(work));
  } else {
    kForwardFast[p.before + p.after](p, x, y, static_cast<float*>(work));
  }
}

void backward_f32(const lrn::Params& p, const float* x, const float* dy, float* dx, void* work) {
  if (p.length() == 0) return;
  if (p.region == lrn::Region::WithinChannel) lrn::portable::backward(p, x, dy, dx, work);
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
