// Forward across channels with float32 window sums (windows of up to kFloatRows): the fast NCHW
// strips and NHWC paths, their float64 redo, and NCHW with float64 sums kept in registers.
// A part of simd_lrn.inl: included inside its anonymous namespace, after the parts listed
// before it there; see that file for V and the accuracy rules.

constexpr int64_t kFloatRows = 8;

// Betas without a shortcut take the float32 path up to this value where the ISA has a float32
// power (V::kPowF32): a float32 window sum's error (a few units of 2^-24) reaches the result
// multiplied by beta, and above 1 that could leave too little of the contract's bound for the
// power.
constexpr double kMaxFloat32OtherBeta = 1;

bool float32_power(double beta) {
  return beta_kind(beta) != Beta::Other || (V::kPowF32 && beta <= kMaxFloat32OtherBeta);
}

// v rounded to float32 is v's own value within float32's relative precision: 0 exactly, or a
// normal number. The float32 paths multiply by k, a and 2*a*beta rounded to float32; where one is
// subnormal, rounds to 0 or overflows, they are not used (docs/float32-ranges.md).
bool float32_exact_enough(double v) {
  const float f = static_cast<float>(v);
  return v == 0 || (__builtin_isfinite(f) && __builtin_fabsf(f) >= 0x1p-126f);
}

struct Fast {
  Series series;  // on the float32 window sums
  F k, a, high, low_s, negligible;
  F a_sub;    // a times the float32 window sum's absolute error from subnormal squares (fast_ok)
  F s_limit;  // every S at most this (per vector, one compare) makes every lane safe
  F beta_hi, beta_lo, neg_beta;  // for scale_pow: beta = hi + lo, hi with 12 significant bits
  Beta beta;
  bool f32_power;  // the power can be taken in float32 (else every vector is redone in float64)
  bool small_k;    // k too small to hide an imprecise S: check S for underflow too
  bool prefetch;   // NCHW strips prefetch ahead (inputs above V::kStripPrefetchBytes)
  Consts consts;   // for redo_vector
};

Fast fast_of(const lrn::Params& p) {
  // With k >= 2^-90 and a <= k * 2^64, B >= k stays above 2^-100 and any S below 2^-100
  // contributes a*S <= 2^-26 * k: only the upper bound needs checking per vector, and
  // B <= 2^100 follows from S <= (2^100 - k) / a. Otherwise s_limit is -1: no vector passes the
  // quick check and fast_ok decides.
  const bool small_k = !(p.k >= 0x1p-90 && p.a <= p.k * 0x1p64);
  const bool f32_power = float32_power(p.beta) && float32_exact_enough(p.k) && float32_exact_enough(p.a);
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
  // Squares below float32's normal range are off by up to 2^-150 each, and so is S below it: at
  // most sum_terms * 2^-150 in all, which a large a can make matter (docs/float32-ranges.md).
  const float a_sub = static_cast<float>(p.a * sum_terms * 0x1p-150);
  return {series_of(p, sum_terms), V::setf(static_cast<float>(p.k)), V::setf(static_cast<float>(p.a)), V::setf(kHighB),
          V::setf(0x1p-100f), V::setf(0x1p26f), V::setf(a_sub), V::setf(s_limit),
          V::setf(hi), V::setf(lo), V::setf(-beta), beta_kind(p.beta), f32_power, small_k,
          p.length() > V::kStripPrefetchBytes / static_cast<int64_t>(sizeof(float)), consts_of(p)};
}

// x * B^(-beta) on the fast paths: power_f32, or scale_pow for other betas where V has it.
template <class Ops = V>
LRN_INLINE F power_fast(F x, F b, const Fast& f) {
  if constexpr (Ops::kPowF32) {
    if (f.beta == Beta::Other) return scale_pow<Ops>(x, b, f.beta_hi, f.beta_lo, f.neg_beta);
  }
  return power_f32(x, b, f.beta);
}

// The hot loops' check: false for NaN, Inf and anything fast_ok might refuse.
LRN_INLINE bool quick_ok(F s, const Fast& f) { return V::all(V::le(s, f.s_limit)); }

// Every lane safe for float32: S and B finite and at most 2^100 (false for NaN, as max returns
// its second operand when either is NaN and B is NaN whenever S is); with a small k also B at
// least 2^-100 and S either far from underflow or too small to matter: a times S and its
// subnormal squares' error below 2^-26 of B (a large a makes even squares rounded to 0 count).
LRN_INLINE bool fast_ok(F s, F b, const Fast& f) {
  if (!f.f32_power) return false;
  const auto in_range = V::le(V::maxf(s, b), f.high);
  if (!f.small_k) return V::all(in_range);
  const auto b_low = V::ge(b, f.low_s);
  const auto s_fine = V::or_(V::ge(s, f.low_s), V::lt(V::mulf(V::fmaf(f.a, s, f.a_sub), f.negligible), b));
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


// Vectors per NCHW strip: the window's squares stay in registers, W of them per vector, in the
// V::kStripRegisters the ISA gives them.
template <int W>
constexpr int strip_vectors() {
  constexpr int n = V::kStripRegisters / W;
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
  // Software prefetch: the next strip's inputs into L1, the one after into L2 (and the next
  // strip's outputs, below); a strip's rows are far apart, which the hardware prefetchers do
  // not follow.
  const bool prefetch_next = f.prefetch && !kPartial && q0 + 2 * NV * kF <= S;
  const bool prefetch_after = f.prefetch && !kPartial && q0 + 3 * NV * kF <= S;
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
      // The next strip's output line too: its read for ownership then overlaps this strip's
      // work (32x96x55x55: ~3.2-3.9 -> ~3.0-3.6 ms).
      if (prefetch_next) __builtin_prefetch(out + (NV + v) * kF, 1, 3);
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
// One vector of forward_nhwc_shift at channel `at`, then the window moves one vector on.
// kFull: this vector and the next are whole (no masked load or store, no bounds arithmetic).
template <class Ops, int L, int R, bool kFull>
LRN_INLINE void nhwc_shift_step(const float* xp, float* yp, int64_t C, int64_t at, const Fast& f, F& x_prev,
                                F& sq_prev, F& x_cur, F& sq_cur) {
  F x_next;
  if constexpr (kFull) x_next = V::loadf(xp + at + kF);
  else x_next = at + kF < C ? load_part(xp + at + kF, C - at - kF) : V::zerof();
  const F sq_next = V::mulf(x_next, x_next);
  const F s = shifted_window_sum<Ops, L, R>(sq_prev, sq_cur, sq_next);
  const int64_t valid = kFull ? kF : imin(kF, C - at);
  F out;
  if (series_ok(s, f.series)) {
    out = series_scale(x_cur, s, f.series);
  } else {
    const F bb = V::fmaf(f.a, s, f.k);
    out = quick_ok(s, f) ? power_fast(x_cur, bb, f) : redo_nhwc<L, R>(f, s, bb, x_prev, x_cur, x_next, valid);
  }
  if constexpr (kFull) V::storef(yp + at, out);
  else store_part(yp + at, out, valid);
  x_prev = x_cur;
  sq_prev = sq_cur;
  x_cur = x_next;
  sq_cur = sq_next;
}

template <class Ops, int L, int R>
void forward_nhwc_shift(const lrn::Params& p, const float* x, float* y) {
  const int64_t C = p.channels;
  const Fast f = fast_of(p);
  const int64_t positions = p.batch * p.spatial_size;
  const F zero = V::zerof();
  for (int64_t pos = 0; pos < positions; ++pos) {
    const float* xp = x + pos * C;
    float* yp = y + pos * C;
    F x_prev = zero, sq_prev = zero;
    F x_cur = load_part(xp, C), sq_cur = V::mulf(x_cur, x_cur);
    int64_t at = 0;
    for (; at + 2 * kF <= C; at += kF) nhwc_shift_step<Ops, L, R, true>(xp, yp, C, at, f, x_prev, sq_prev, x_cur, sq_cur);
    for (; at < C; at += kF) nhwc_shift_step<Ops, L, R, false>(xp, yp, C, at, f, x_prev, sq_prev, x_cur, sq_cur);
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
