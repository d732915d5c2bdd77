// Backward across channels: the float32 walks checked against the contract's bound, and float64
// vectors. A part of simd_lrn.inl: included inside its anonymous namespace, after the parts listed
// before it there; see that file for V and the accuracy rules.

// The samples the backward guesses its route from (about speed only): 64 vectors spread over
// `data`, each passed to keep(v, valid) with its `valid` lanes (the rest zero) until it returns
// false; true when none did.
template <class Keep>
bool each_sampled_vector(const lrn::Params& p, const float* data, Keep keep) {
  const int64_t n = p.length(), step = imax(kF, n / 64);
  for (int64_t i = 0; i < n; i += step) {
    if (!keep(load_part(data + i, n - i), imin(kF, n - i))) return false;
  }
  return true;
}

// Whether the series for `beta` (float32 sums of W terms) likely covers the data: each sampled
// square times W under its limit. The float32 backward redoes each strip or position past the
// series' range in float64, after having computed it once in vain.
bool series_fits_sample(const lrn::Params& p, double beta, const float* x) {
  const int64_t W = p.before + p.after + 1;
  const lrn::series::Series s = lrn::series::small_sum_series(p.k, p.a, beta, 0x1p-24, static_cast<int>(W + 1));
  if (!s.usable) return false;
  const F max_square = V::setf(static_cast<float>(s.s_limit / static_cast<double>(W)));
  return each_sampled_vector(p, x, [&](F v, int64_t) { return V::all(V::le(V::mulf(v, v), max_square)); });
}

// Whether at least half of the sampled dy is zero (gradients behind a max pool).
bool sparse_sample(const lrn::Params& p, const float* dy) {
  int64_t zeros = 0, seen = 0;
  each_sampled_vector(p, dy, [&](F v, int64_t valid) {
    alignas(64) float lanes[kF];
    V::storef(lanes, v);
    for (int64_t l = 0; l < valid; ++l) zeros += lanes[l] == 0;
    seen += valid;
    return true;
  });
  return 2 * zeros >= seen;
}


// ---- float64 vectors ---------------------------------------------------------------------

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

// B^(-beta) and B^(-beta-1) for one vector's two halves of window sums, where the series does
// not cover them: the portable formulas (square roots and divisions measured faster here than
// Newton steps from the float32 rsqrt), and for the betas without a shortcut, with B inside
// [2^-100, 2^100] and beta <= 7, exp/log in vectors (relative error under 1e-15; the scalar
// pow per lane took ~4.5x as long for a whole backward). NaN and infinities per lane as portable.
__attribute__((noinline)) void powers_exact(D s_lo, D s_hi, const Consts& k, D* b, D* p, D* q) {
  // k + a*S rounded twice, as the portable code computes it (see combine).
  b[0] = V::addd(k.k, V::muld(k.a, s_lo));
  b[1] = V::addd(k.k, V::muld(k.a, s_hi));
  const bool vector_pow =
      k.beta == Beta::Other && k.beta_value <= 7 && V::between(V::narrow(b[0], b[1]), k.low, k.high);
  if (vector_pow) {
    p[0] = exp_d(V::muld(k.neg_beta, log_d(b[0])));
    p[1] = exp_d(V::muld(k.neg_beta, log_d(b[1])));
  } else {
    p[0] = inv_pow_d(b[0], k);
    p[1] = inv_pow_d(b[1], k);
  }
  q[0] = V::divd(p[0], b[0]);
  q[1] = V::divd(p[1], b[1]);
}

// term1 and t of one vector (two halves), lane by lane by portable::gradient_terms: where a
// lane's power leaves float64's normal range (docs/float64-ranges.md).
__attribute__((noinline)) void gradient_terms_lanes(const D* b, F x, F dy, double beta, D* term1, D* t) {
  alignas(64) double bs[kF], t1s[kF], ts[kF];
  alignas(64) float xs[kF], dys[kF];
  V::stored(bs, b[0]);
  V::stored(bs + kD, b[1]);
  V::storef(xs, x);
  V::storef(dys, dy);
  for (int i = 0; i < kF; ++i) {
    const lrn::portable::GradientTerms g = lrn::portable::gradient_terms(dys[i], xs[i], bs[i], beta);
    t1s[i] = g.term1;
    ts[i] = g.t;
  }
  term1[0] = V::loadd(t1s);
  term1[1] = V::loadd(t1s + kD);
  t[0] = V::loadd(ts);
  t[1] = V::loadd(ts + kD);
}

// term1 = dy*B^(-beta) and t = dy*x*B^(-beta-1) of one vector (two halves) from its window
// sums: the series' powers where it covers every S, else powers_exact's, or where some lane's
// power is not a normal float64, gradient_terms_lanes (the series' powers always are: their
// coefficients lie within 2^-120 .. 2^120, and dy*x of float32 values is normal or 0).
LRN_INLINE void gradient_terms_d(D s_lo, D s_hi, F x, F dy, const Consts& k, const BackSeries& bs, D* term1, D* t) {
  D p[2], q[2];
  if (V::all(V::le(V::narrow(s_lo, s_hi), bs.limit))) {
    p[0] = horner_d(bs.p, s_lo);
    p[1] = horner_d(bs.p, s_hi);
    q[0] = horner_d(bs.q, s_lo);
    q[1] = horner_d(bs.q, s_hi);
  } else {
    D b[2];
    powers_exact(s_lo, s_hi, k, b, p, q);
    if (!(V::all_normald(p[0]) && V::all_normald(p[1]) && V::all_normald(q[0]) && V::all_normald(q[1]))) {
      gradient_terms_lanes(b, x, dy, k.beta_value, term1, t);
      return;
    }
  }
  const D dy_lo = V::lo(dy), dy_hi = V::hi(dy);
  t[0] = V::muld(V::muld(dy_lo, V::lo(x)), q[0]);
  t[1] = V::muld(V::muld(dy_hi, V::hi(x)), q[1]);
  term1[0] = V::muld(dy_lo, p[0]);
  term1[1] = V::muld(dy_hi, p[1]);
}

// Pass 1 for one vector: term1 and t from the window sums.
LRN_INLINE void factors(F x, F dy, D s_lo, D s_hi, const Consts& k, const BackSeries& bs, double* term1, double* t) {
  D t1[2], tv[2];
  gradient_terms_d(s_lo, s_hi, x, dy, k, bs, t1, tv);
  V::stored(term1, t1[0]);
  V::stored(term1 + kD, t1[1]);
  V::stored(t, tv[0]);
  V::stored(t + kD, tv[1]);
}

// Pass 2 for one vector: dx = term1 - 2*a*beta * x * tsum.
LRN_INLINE F combine(F x, const double* term1, D ts_lo, D ts_hi, D two_a_beta) {
  // (2*a*beta * x) * tsum, as the portable code groups it: terms far beyond float32 that cancel
  // exactly there must cancel here too, not leave a residue that rounds to infinity.
  const D neg_lo = V::muld(V::muld(two_a_beta, V::lo(x)), ts_lo);
  const D neg_hi = V::muld(V::muld(two_a_beta, V::hi(x)), ts_hi);
  return V::narrow(V::subd(V::loadd(term1), neg_lo), V::subd(V::loadd(term1 + kD), neg_hi));
}

// Backward at one position in float64 (channel j at x[j * stride]), for the NCHW positions past
// the last full vector. term1 and t are scratch of `channels` doubles each.
void backward_position(const float* x, const float* dy, float* dx, int64_t stride, const lrn::Params& p,
                       double* term1, double* t) {
  const int64_t C = p.channels;
  for (int64_t c = 0; c < C; ++c) {
    const int64_t lo = imax(0, c - p.before), hi = imin(C - 1, c + p.after);
    double s = 0;
    for (int64_t j = lo; j <= hi; ++j) {
      const double v = x[j * stride];
      s += v * v;
    }
    const lrn::portable::GradientTerms g = lrn::portable::gradient_terms(dy[c * stride], x[c * stride], p.k + p.a * s, p.beta);
    term1[c] = g.term1;
    t[c] = g.t;
  }
  const double two_a_beta = 2 * p.a * p.beta;
  for (int64_t c = 0; c < C; ++c) {
    const int64_t lo = imax(0, c - p.after), hi = imin(C - 1, c + p.before);
    double ts = 0;
    for (int64_t j = lo; j <= hi; ++j) ts += t[j];
    dx[c * stride] = static_cast<float>(term1[c] - two_a_beta * static_cast<double>(x[c * stride]) * ts);
  }
}

// NCHW: blocks of positions (a multiple of kF) of all channels, term1 and t kept per block; the
// positions past the last full vector of a row go through backward_position.
void backward_nchw(const lrn::Params& p, const float* x, const float* dy, float* dx, double* work) {
  const int64_t C = p.channels, S = p.spatial_size;
  const Consts k = consts_of(p);
  const BackSeries bs = back_series_of(p);
  const D two_a_beta = V::setd(2 * p.a * p.beta);
  const int64_t block = block_positions(p);
  double* term1 = work;
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
          factors(V::loadf(x + at), V::loadf(dy + at), s_lo, s_hi, k, bs, term1 + c * block + q, t + c * block + q);
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
          V::storef(dx + at, combine(V::loadf(x + at), term1 + c * block + q, ts_lo, ts_hi, two_a_beta));
        }
      }
    }
    for (int64_t q = full; q < S; ++q) backward_position(x + base + q, dy + base + q, dx + base + q, S, p, term1, t);
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
      const F xc = load(xb + c * rs), dyc = load(dyb + c * rs);
      if (prefetch_next) __builtin_prefetch(dyb + c * rs + at + kF, 0, 3);
      D t1[2];
      gradient_terms_d(sum_tree<W>(lo), sum_tree<W>(hi), xc, dyc, k, bs, t1, t[W - 1]);
      V::stored(term1[slot], t1[0]);
      V::stored(term1[slot] + kD, t1[1]);
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

// One vector of dx in float64, as backward_strip computes it (the same sums over windows of W
// with zeros past the edges), for the vectors of the float32 paths that fail their check.
// Lanes: where the vector's inputs come from. Row j of StripLanes is channel j of an NCHW
// strip; of PositionLanes, channels j .. j + kF - 1 of an NHWC position (zero-padded copies).
template <bool kPartial>
struct StripLanes {
  const Rows& in;
  int64_t channels, valid;
  F load(const float* base, int64_t j) const {
    if (j < 0 || j >= channels) return V::zerof();
    const float* row = base + j * in.stride + in.at;
    return kPartial ? load_part(row, valid) : V::loadf(row);
  }
  F x(int64_t j) const { return load(in.x, j); }
  F dy(int64_t j) const { return load(in.dy, j); }
  bool outside(int64_t j) const { return j < 0 || j >= channels; }
  void clear_outside(int64_t, D&, D&) const {}  // a row is in or out whole
};

struct PositionLanes {
  const float* xs;  // channel 0 of the copies, with zeros for L + R + kF on either side
  const float* dys;
  int64_t channels;
  F x(int64_t j) const { return V::loadf(xs + j); }
  F dy(int64_t j) const { return V::loadf(dys + j); }
  bool outside(int64_t j) const { return j + kF <= 0 || j >= channels; }
  // t of channels past the edges is 0 (not 0 * B^(-beta-1) of a zero window, NaN where k = 0).
  void clear_outside(int64_t j, D& lo, D& hi) const {
    if (j >= 0 && j + kF <= channels) return;
    alignas(64) double t[kF];
    V::stored(t, lo);
    V::stored(t + kD, hi);
    for (int l = 0; l < kF; ++l) {
      if (j + l < 0 || j + l >= channels) t[l] = 0;
    }
    lo = V::loadd(t);
    hi = V::loadd(t + kD);
  }
};

template <int W, class Lanes>
__attribute__((noinline)) F backward_lanes_d(const lrn::Params& p, const Consts& k, const BackSeries& bs,
                                             const Lanes& lanes, int64_t i) {
  const int64_t L = p.before, R = p.after;
  D ts_lo[W], ts_hi[W], term1[2];
  for (int w = 0; w < W; ++w) {  // t of row j = i - R + w, whose window holds i
    const int64_t j = i - R + w;
    ts_lo[w] = ts_hi[w] = V::setd(0);
    if (lanes.outside(j)) continue;
    D sq_lo[W], sq_hi[W];
    for (int m = 0; m < W; ++m) {
      const F v = lanes.x(j - L + m);
      const D l = V::lo(v), h = V::hi(v);
      sq_lo[m] = V::muld(l, l);
      sq_hi[m] = V::muld(h, h);
    }
    D t1[2], tw[2];
    gradient_terms_d(sum_tree<W>(sq_lo), sum_tree<W>(sq_hi), lanes.x(j), lanes.dy(j), k, bs, t1, tw);
    ts_lo[w] = tw[0];
    ts_hi[w] = tw[1];
    lanes.clear_outside(j, ts_lo[w], ts_hi[w]);
    if (j == i) {
      term1[0] = t1[0];
      term1[1] = t1[1];
    }
  }
  const F xi = lanes.x(i);
  const D two_a_beta = V::setd(2 * p.a * p.beta);
  const D neg_lo = V::muld(V::muld(two_a_beta, V::lo(xi)), sum_tree<W>(ts_lo));
  const D neg_hi = V::muld(V::muld(two_a_beta, V::hi(xi)), sum_tree<W>(ts_hi));
  return V::narrow(V::subd(term1[0], neg_lo), V::subd(term1[1], neg_hi));
}

// The float32 backward: t = dy*x*B^(-beta-1) and its window sums in float32 are off by at most
// eta * sum|t|, so dx = dy*B^-beta - 2*a*beta*x*sum t stays within the contract's
// 1e-5 * (|term1| + |term2|) (168 units of 2^-24) wherever |2*a*beta*x| * sum|t| * eta / 168 <=
// |term1| + |term2|. Where S is in the series' range, eta is 8 units (the series, the two
// products and the sum's roundings) and the check uses 1/16 for eta / 168. Past it, where the
// float32 power takes beta (use_power), B^-beta comes from that power and B^(-beta-1) from one
// division: B's float32 error (5 units: S's W roundings, 4 for windows up to 8, and B's own)
// grows by beta + 1 in the power, so eta is (beta + 1) * 5 + 10 (the power's 4, the division,
// the two products and the sum's 3), and the check uses eta / 160 for every vector (t1's and
// t2's own few roundings take the other 8 of the contract's 168 units). Every vector is checked
// (quick_excess); a failed one is redone in float64 (NCHW: that row of the strip; NHWC: the
// vector, or the position on the three-stage path), and a window sum past both ranges sends the
// whole strip or position to float64.
struct BackF32 {
  Series q;              // B^(-beta-1) on float32 window sums
  Fast pow;              // the float32 power and its range checks (use_power)
  bool use_power;
  F k, a, two_a_beta;
  F scale;               // the check's eta / 168 (see above)
  F q_max_scaled;        // k^(-beta-1) * scale: B^(-beta-1) * scale at most (B >= k)
  F sub_series;          // the subnormal roundings' share of the check (see back_f32_of)
  F sub, cx_small;       // for vectors that took the power (see excess_of)
};

// Subnormal roundings: each t below 2^-126 (or rounded to 0) is off by up to 2^-150 max(1, q_max),
// which moves dx by |cx| W 2^-150 max(1, q_max) at most. Where that is under a quarter of the
// smallest subnormal for every x in the series' range (|x| <= sqrt(S) <= sqrt(s_limit)), it is
// below float32's resolution and the check ignores it for vectors whose S the series took: dx
// is then as exact as the float64 reference rounded to float32 (AlexNet's presets: 0.02 of a
// quarter). Elsewhere the check counts it as |cx| * sub, an error 2^-18 of what it allows. Past
// the series' range x has no such bound, and the check looks at each lane's own: lanes with
// |cx| <= cx_small = 1 / (4 W max(1, q_max)) have it below resolution too (excess_of).
BackF32 back_f32_of(const lrn::Params& p, bool power_allowed) {
  const int W = static_cast<int>(p.before + p.after + 1);
  const lrn::series::Series s = lrn::series::small_sum_series(p.k, p.a, p.beta + 1, 0x1p-24, W + 1);
  const double q_max = lrn::portable::inv_pow(p.k, p.beta + 1);
  const double q_big = q_max > 1 ? q_max : 1;
  const bool below_resolution = s.usable && 2 * p.a * p.beta * __builtin_sqrt(s.s_limit) * W * q_big <= 0.25;
  const bool exact_enough = float32_exact_enough(p.k) && float32_exact_enough(p.a) && float32_exact_enough(2 * p.a * p.beta);
  const bool use_power = exact_enough && power_allowed && float32_power(p.beta);
  const double scale = use_power ? ((p.beta + 1) * 5 + 10) / 160 : 1.0 / 16;
  const float sub = static_cast<float>(W * q_big * 0x1p-131);
  Series q = series_vectors(s);
  if (!exact_enough) q.limit = V::setf(-1.0f);  // no vector passes: float64 takes them all
  return {q,
          fast_of(p),
          use_power,
          V::setf(static_cast<float>(p.k)),
          V::setf(static_cast<float>(p.a)),
          V::setf(static_cast<float>(2 * p.a * p.beta)),
          V::setf(static_cast<float>(scale)),
          V::setf(static_cast<float>(q_max * scale)),
          V::setf(below_resolution ? 0.0f : sub),
          V::setf(sub),
          V::setf(static_cast<float>(0.25 / (W * q_big)))};
}

// t = dy*x*B^(-beta-1) and t1 = dy*B^(-beta) of one vector from its window sums S: by the
// series, else (use_power) by the float32 power; ok cleared where neither takes S. powered: the
// vector took the power (see excess_of).
struct BackTerms {
  F t, t1;
  bool powered;
};

template <bool kPower>
LRN_INLINE BackTerms back_terms(F s, F x, F dy, const BackF32& f, bool& ok) {
  const F b = V::fmaf(f.a, s, f.k);
  const bool in_series = series_ok(s, f.q);
  if (!kPower) ok &= in_series;
  if (!kPower || in_series) {
    const F q = series_scale(V::setf(1.0f), s, f.q);  // B^(-beta-1)
    return {V::mulf(V::mulf(dy, x), q), V::mulf(dy, V::mulf(q, b)), false};
  }
  ok &= quick_ok(s, f.pow) || fast_ok(s, b, f.pow);
  const F pw = power_fast(V::setf(1.0f), b, f.pow);  // B^-beta
  // B^(-beta-1) below float32's normal range (B past 2^(126 / (beta + 1))) has lost bits that
  // dy*x would scale up: such vectors are redone in float64.
  const F q = V::divf(pw, b);
  ok &= V::all(V::ge(q, V::setf(0x1p-126f)));
  return {V::mulf(V::mulf(dy, x), q), V::mulf(dy, pw), true};
}

// The float32 dx = t1 - cx * sum_t (t1 = dy*B^(-beta), cx = 2*a*beta*x, sum_t the window's sum
// of t = dy*x*B^(-beta-1)) is surely within the contract's bound where this is <= |t1|: mag16 is
// the window's sum |t| (or a bound of it) times BackF32::scale, plus the subnormal share, and
// |cx| * mag16 <= |t1| + |cx * sum_t| is the check above. Where x == 0 term2 is exactly 0 and
// every lane passes; with dy == 0 too (sparse gradients behind a max pool, ReLU zeros in x) dx
// is exactly 0. cx_err stands for |cx| in the error: at least 2^-125 where x != 0, since a cx
// rounded to a subnormal or to 0 is off by up to 2^-150 (cx_err_of; docs/float32-ranges.md).
LRN_INLINE F quick_excess(F cx_abs, F cx_err, F sum_t, F mag16) {
  return V::fnmaf(cx_abs, V::absf(sum_t), V::mulf(cx_err, mag16));
}

// |cx| for the check's error term: |cx|, or 2^-125 where x != 0 and |cx| is below that (|x| 2^25
// is at least 2^-124 for any nonzero float32 x, and 0 for x == 0, whose term2 is exact).
LRN_INLINE F cx_err_of(F cx_abs, F x) {
  return V::maxf(cx_abs, V::minf(V::mulf(V::absf(x), V::setf(0x1p25f)), V::setf(0x1p-125f)));
}

// quick_excess, plus for a vector that took the power the subnormal share |cx| * sub where some
// lane's |cx| is above cx_small (a rare branch: x that large; the product can be subnormal,
// which is slow, and the hot path never forms it).
LRN_INLINE F excess_of(F cx_abs, F cx_err, F sum_t, F mag16, bool powered, const BackF32& f) {
  const F e = quick_excess(cx_abs, cx_err, sum_t, mag16);
  if (powered && !V::all(V::le(cx_err, f.cx_small))) return V::fmaf(cx_err, f.sub, e);
  return e;
}

// The excess made NaN where dx is not finite, so that the check fails there: an infinity or NaN
// in t1, t, their window sum or cx (dy, x or the product near float32's largest), while the
// float64 reference's dx may well be finite; float64 redoes such lanes. One FMA: dx * 0 is 0 for
// a finite dx, NaN otherwise.
LRN_INLINE F unless_finite(F excess, F dx) { return V::fmaf(dx, V::zerof(), excess); }

// One vector's dx = t1 - cx * sum_t with what its check needs: |cx| and the error term's |cx|.
struct DxTerms {
  F dx, cx_abs, cx_err;
};

LRN_INLINE DxTerms dx_terms(F x, F t1, F sum_t, const BackF32& f) {
  const F cx = V::mulf(f.two_a_beta, x);
  const F cx_abs = V::absf(cx);
  return {V::fnmaf(cx, sum_t, t1), cx_abs, cx_err_of(cx_abs, x)};
}

// Every lane of d within the contract's bound, given mag16 for the window's sum |t|.
LRN_INLINE bool dx_ok(const DxTerms& d, F t1_abs, F sum_t, F mag16, bool powered, const BackF32& f) {
  return V::all(V::le(unless_finite(excess_of(d.cx_abs, d.cx_err, sum_t, mag16, powered, f), d.dx), t1_abs));
}

// dx of one vector; ok cleared when a lane fails the check. mag16: the window's sum |t| scaled,
// plus the subnormal share.
LRN_INLINE F back_dx(F x, F t1, F sum_t, F mag16, bool powered, const BackF32& f, bool& ok) {
  const DxTerms d = dx_terms(x, t1, sum_t, f);
  ok &= dx_ok(d, V::absf(t1), sum_t, mag16, powered, f);
  return d.dx;
}

// A vector that failed with a bound of its windows' sums |t|, looked at with their own sums.
__attribute__((noinline)) bool back_lanes_ok(const DxTerms& d, F t1_abs, F sum_t, F exact16, bool powered,
                                             const BackF32& f) {
  return dx_ok(d, t1_abs, sum_t, exact16, powered, f);
}

// back_dx with bound16 from a bound of the window's sum |t|, cheaper to have; a vector that fails
// with it is looked at again with exact16(), from the window's own (a dx that is not finite
// fails both looks). looks counts those second looks.
template <class Exact16>
LRN_INLINE F back_dx_bounded(F x, F t1, F sum_t, F bound16, bool powered, const BackF32& f, bool& ok, int& looks,
                             Exact16 exact16) {
  const DxTerms d = dx_terms(x, t1, sum_t, f);
  const F t1_abs = V::absf(t1);
  if (!dx_ok(d, t1_abs, sum_t, bound16, powered, f)) {
    ++looks;
    ok &= back_lanes_ok(d, t1_abs, sum_t, exact16(), powered, f);
  }
  return d.dx;
}

// Scratch of backward_strip_f32 for a strip of C channels: t and |t| between W - 1 zero rows
// (the window's zeros past the edges; |t| only where the check takes each window's own sum),
// dy*B^(-beta) and whether it took the power, per channel.
struct StripTerms {
  float* t;     // row c at t + (c + W - 1) * kF
  float* mag;   // likewise
  float* t1;    // row c at t1 + c * kF
  bool* powered;
};

int64_t strip_terms_floats(const lrn::Params& p) {
  const int64_t C = p.channels, W = p.before + p.after + 1;
  return (2 * (C + 2 * (W - 1)) + C) * kF + (C + kF - 1) / kF * kF;  // the flags in float-sized slots
}

StripTerms strip_terms_of(const lrn::Params& p, float* work) {
  const int64_t C = p.channels, W = p.before + p.after + 1, padded = (C + 2 * (W - 1)) * kF;
  fill_zero(work, 2 * padded);
  return {work, work + padded, work + 2 * padded, reinterpret_cast<bool*>(work + 2 * padded + C * kF)};
}

// backward_strip in float32 (out of place only), in two passes down the channels so that neither
// holds more than one window in registers: t, |t| and dy*B^(-beta) of every channel into
// StripTerms, then dx of every channel from window sums of those. `bounded`: the check first
// takes the strip's whole sum |t| as the bound of each window's (cheaper: no |t| rows, and it
// passes for most vectors of a dense dy), and a vector that fails looks again with its window's
// own; with a sparse dy most would fail, so there each window's own sum is taken at once. A row
// that fails its check is redone in float64 alone (backward_lanes_d); false when some window
// sum is past the ranges it takes (the series, and with kPower the float32 power) or too many
// rows failed, the strip's outputs then incomplete (the caller redoes the strip in float64).
template <int W, bool kPartial, bool kPower>
bool backward_strip_f32(const lrn::Params& p, const BackF32& f, const Consts& k, const BackSeries& bs, const Rows& in,
                        const StripTerms& st, bool bounded, float* dxb, int64_t q0, int64_t valid) {
  const int64_t C = p.channels, S = p.spatial_size, L = p.before, R = p.after;
  const float* xb = in.x;
  const float* dyb = in.dy;
  const int64_t at = in.at, rs = in.stride;
  auto load = [&](const float* row) __attribute__((always_inline)) {
    return kPartial ? load_part(row + at, valid) : V::loadf(row + at);
  };
  const bool prefetch_next = !kPartial && rs == S && q0 + 2 * kF <= S;
  const bool prefetch_after = !kPartial && rs == S && q0 + 3 * kF <= S;
  F sq[W];
  LRN_UNROLL
  for (int w = 0; w < W; ++w) {
    const int64_t row = w - L - 1;
    F xv = V::zerof();
    if (row >= 0 && row < C) xv = load(xb + row * rs);
    sq[w] = V::mulf(xv, xv);
  }
  bool ok = true;
  float* const t_rows = st.t + (W - 1) * kF;
  float* const mag_rows = st.mag + (W - 1) * kF;
  F total = V::zerof();  // bounded: the strip's sum |t| over every channel
  for (int64_t c = 0; c < C; ++c) {
    LRN_UNROLL
    for (int w = 0; w + 1 < W; ++w) sq[w] = sq[w + 1];
    F xv = V::zerof();
    if (c + R < C) {
      xv = load(xb + (c + R) * rs);
      if (prefetch_next) __builtin_prefetch(xb + (c + R) * rs + at + kF, 0, 3);
      if (prefetch_after) __builtin_prefetch(xb + (c + R) * rs + at + 2 * kF, 0, 2);
    }
    sq[W - 1] = V::mulf(xv, xv);
    const F xc = load(xb + c * rs), dyc = load(dyb + c * rs);
    if (prefetch_next) __builtin_prefetch(dyb + c * rs + at + kF, 0, 3);
    if (prefetch_after) __builtin_prefetch(dyb + c * rs + at + 2 * kF, 0, 2);
    const BackTerms terms = back_terms<kPower>(sum_tree<W>(sq), xc, dyc, f, ok);
    V::storef(t_rows + c * kF, terms.t);
    if (bounded) total = V::addf(total, V::absf(terms.t));
    else V::storef(mag_rows + c * kF, V::absf(terms.t));
    V::storef(st.t1 + c * kF, terms.t1);
    if constexpr (kPower) st.powered[c] = terms.powered;
    if (!ok) return false;  // data past the series' range usually fails at once: stop early
  }
  constexpr int kMaxFailedRows = 32;  // more: the strip is redone whole
  int64_t failed[kMaxFailedRows];
  int failed_rows = 0;
  int looks = 0;
  // total's own roundings (C - 1 of them) covered by a factor.
  const F bound = V::mulf(total, V::setf(static_cast<float>(1 + static_cast<double>(C) * 0x1p-23)));
  const F bound16_series = V::fmaf(bound, f.scale, f.sub_series), bound16_powered = V::mulf(bound, f.scale);
  for (int64_t i = 0; i < C; ++i) {
    // Rows i - R .. i + L of t and |t| (the mirrored window).
    const float* tw = t_rows + (i - R) * kF;
    F tv[W];
    LRN_UNROLL
    for (int w = 0; w < W; ++w) tv[w] = V::loadf(tw + w * kF);
    const bool centre_powered = kPower && st.powered[i];
    const F sub = centre_powered ? V::zerof() : f.sub_series;
    const F x_i = load(xb + i * rs), t1 = V::loadf(st.t1 + i * kF), sum_t = sum_tree<W>(tv);
    bool row_ok = true;
    F out;
    if (bounded) {
      out = back_dx_bounded(x_i, t1, sum_t, centre_powered ? bound16_powered : bound16_series, centre_powered, f,
                            row_ok, looks, [&] {
                              F mags[W];
                              LRN_UNROLL
                              for (int w = 0; w < W; ++w) mags[w] = V::absf(tv[w]);
                              return V::fmaf(sum_tree<W>(mags), f.scale, sub);
                            });
    } else {
      const float* mw = mag_rows + (i - R) * kF;
      F mv[W];
      LRN_UNROLL
      for (int w = 0; w < W; ++w) mv[w] = V::loadf(mw + w * kF);
      out = back_dx(x_i, t1, sum_t, V::fmaf(sum_tree<W>(mv), f.scale, sub), centre_powered, f, row_ok);
    }
    if (!row_ok) {
      if (failed_rows == kMaxFailedRows) return false;
      failed[failed_rows++] = i;
    }
    if (prefetch_next) __builtin_prefetch(dxb + i * S + q0 + kF, 1, 3);
    if (kPartial) store_part(dxb + i * S + q0, out, valid);
    else V::storef(dxb + i * S + q0, out);
  }
  // After the walk: a call inside it would make the compiler keep its registers in memory.
  for (int r = 0; r < failed_rows; ++r) {
    const F out = backward_lanes_d<W>(p, k, bs, StripLanes<kPartial>{in, C, valid}, failed[r]);
    if (kPartial) store_part(dxb + failed[r] * S + q0, out, valid);
    else V::storef(dxb + failed[r] * S + q0, out);
  }
  return true;
}

template <int W>
void backward_nchw_walk(const lrn::Params& p, const float* x, const float* dy, float* dx, float* copy) {
  const int64_t C = p.channels, S = p.spatial_size;
  const Consts k = consts_of(p);
  const BackSeries bs = back_series_of(p);
  // The power's paths cost a little on data the series covers, and its looser check more: taken
  // where a sample says the data goes past the series' range (lrnBackward has no split form
  // whose parts could choose otherwise).
  const BackF32 f = back_f32_of(p, !series_fits_sample(p, p.beta + 1, x));
  const bool power = f.use_power;
  // The strip's bound where the series takes the data and dy is dense (measured: with the power
  // it fails often enough to cost more than it saves).
  const bool bounded = !power && !sparse_sample(p, dy);
  // In place, each strip's inputs are copied first: a failure shows after outputs overwrote them.
  const bool in_place = dx == x || dx == dy;
  const StripTerms st = strip_terms_of(p, copy + 2 * C * kF);
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
        const bool done = power ? backward_strip_f32<W, false, true>(p, f, k, bs, in, st, bounded, dx + base, q0, kF)
                                : backward_strip_f32<W, false, false>(p, f, k, bs, in, st, bounded, dx + base, q0, kF);
        if (!done) backward_strip<W, false>(p, k, bs, in, dx + base, q0, kF);
      } else {
        const bool done = power ? backward_strip_f32<W, true, true>(p, f, k, bs, in, st, bounded, dx + base, q0, valid)
                                : backward_strip_f32<W, true, false>(p, f, k, bs, in, st, bounded, dx + base, q0, valid);
        if (!done) backward_strip<W, true>(p, k, bs, in, dx + base, q0, valid);
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
// buffers (in place is then free), term1 and t computed for all channels, then dx from sums of t
// over the mirrored window.
struct NhwcBackD {
  Consts k;
  BackSeries bs;
  D two_a_beta;
  double *t, *term1;
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
  d.term1 = d.t + pt.width;                                  // C + kF
  d.xbuf = reinterpret_cast<float*>(d.term1 + p.channels + kF);  // px.width
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
    factors(V::loadf(xrow + c), V::loadf(d.dybuf + c), s_lo, s_hi, d.k, d.bs, d.term1 + c, trow + c);
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
    const F v = combine(V::loadf(xrow + c), d.term1 + c, ts_lo, ts_hi, d.two_a_beta);
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
  const int64_t three_stage = 4 * width + 3 * (p.channels + kF);
  const int64_t one_pass = 2 * (p.channels + 3 * (p.before + p.after + kF)) + p.channels + kF;  // backward_nhwc_shift
  return three_stage > one_pass ? three_stage : one_pass;
}

template <int W>
void backward_nhwc_f32(const lrn::Params& p, const float* x, const float* dy, float* dx, const NhwcBackD& d,
                       float* work) {
  const int64_t C = p.channels, L = p.before, R = p.after;
  const int64_t width = L + C + R + 2 * kF;
  const BackF32 f = back_f32_of(p, false);  // the series only: sub_series holds for every vector
  float* sq[2] = {work, work + width};                   // squares at L + c
  float* tt[2] = {work + 2 * width, work + 3 * width};   // t at R + c
  float* t1[2] = {work + 4 * width, work + 4 * width + C + kF};
  float* out = work + 4 * width + 2 * (C + kF);
  fill_zero(work, 4 * width);
  const bool in_place = dx == x || dx == dy;
  const int64_t positions = p.batch * p.spatial_size;
  auto squares = [&](int64_t pos) __attribute__((always_inline)) { square_position(sq[pos & 1] + L, x + pos * C, C); };
  bool ok_prev = true, ok_cur = true;
  F mag_sum[2] = {V::zerof(), V::zerof()};
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
      mag_sum[pos & 1] = V::fmaf(V::total(mag), f.scale, f.sub_series);  // bounds every window's sum |t|
    }
    if (pos > 0) {
      const int64_t at = pos - 1;
      const float* t = tt[at & 1];
      const F mag16 = mag_sum[at & 1];
      const float* u = t1[at & 1];
      const float* xp = x + at * C;
      // Out of place straight into dx (a failed position is simply rewritten); in place into a
      // buffer, as a failure needs the position's inputs.
      float* dst = in_place ? out : dx + at * C;
      bool ok = ok_prev;
      int looks = 0;  // not used: this path has no exact mode
      for (int64_t c = 0; c < C && ok; c += kF) {
        F ts[W];
        LRN_UNROLL
        for (int w = 0; w < W; ++w) ts[w] = V::loadf(t + c + w);
        auto exact16 = [&] {
          F mags[W];
          for (int w = 0; w < W; ++w) mags[w] = V::absf(ts[w]);
          return V::fmaf(sum_tree<W>(mags), f.scale, f.sub_series);
        };
        store_part(dst + c, back_dx_bounded(load_part(xp + c, C - c), V::loadf(u + c), sum_tree<W>(ts), mag16, false, f, ok, looks, exact16), C - c);
      }
      if (!ok) backward_nhwc_position(p, d, x, dy, dx, at);
      else if (in_place) copy_floats(dx + at * C, out, C);
    }
    ok_prev = ok_cur;
  }
}

// NHWC backward in float32 on ISAs with a two-vector align (Ops::kShiftInRegisters): one pass
// over each position, the window sums of the squares and of t built in registers as in
// forward_nhwc_shift, dx one vector behind t. The check's bound of every window's sum |t| is
// the position's k^(-beta-1) * sum |dy*x| (B >= k), from a short pass before: the main pass then
// needs no stored t. A vector that fails its check is redone alone in float64 after the pass
// (from zero-padded copies of the position); a position with a window sum past the series'
// range, or with many failed vectors, is redone whole. The inputs stay intact for that: in
// place, dx goes to a buffer first.
struct BackShift {
  F x_prev, x_cur, sq_prev, sq_cur, t_prev2, t_prev, t1_prev, m_prev2, m_prev;  // m: |t| (kExact)
  bool powered_prev;  // the previous vector took the float32 power
};

// Vectors of a position that failed their check, by channel.
struct FailedVectors {
  static constexpr int kMax = 8;  // more: the position is redone whole
  int64_t at[kMax];
  int n = 0;
  bool overflow = false;
  void add(int64_t channel) {
    if (n == kMax) overflow = true;
    else at[n++] = channel;
  }
};

// Zero-padded copies of one position's x and dy for backward_lanes_d.
struct PaddedPosition {
  float* xs;  // channel 0; L + R + kF zeros before, as many and kF after the channels
  float* dys;
  static int64_t pad(const lrn::Params& p) { return p.before + p.after + kF; }
  static int64_t width(const lrn::Params& p) { return p.channels + 2 * pad(p) + kF; }
  PaddedPosition(const lrn::Params& p, float* work) {
    fill_zero(work, 2 * width(p));
    xs = work + pad(p);
    dys = work + width(p) + pad(p);
  }
};

// The position's result, and how many of its vectors took back_dx_bounded's second look.
struct PositionResult {
  bool ok;
  int looks;
};

// dx of the vector before the one just computed (t_next, m_next = |t_next| where kExact): the
// mirrored window (dx at channel i sums t over i - R .. i + L) from three vectors of t, checked
// with each window's own sum |t| (kExact) or the position's bound mag16 and a second look.
template <class Ops, int L, int R, bool kExact, bool kPower>
LRN_INLINE F shift_dx(const BackShift& st, F t_next, F m_next, F mag16, const BackF32& f, bool& ok, int& looks) {
  const bool powered = kPower && st.powered_prev;
  const F sub = powered ? V::zerof() : f.sub_series;
  const F sum_t = shifted_window_sum<Ops, R, L>(st.t_prev2, st.t_prev, t_next);
  if constexpr (kExact) {
    const F exact16 = V::fmaf(shifted_window_sum<Ops, R, L>(st.m_prev2, st.m_prev, m_next), f.scale, sub);
    return back_dx(st.x_prev, st.t1_prev, sum_t, exact16, powered, f, ok);
  } else {
    auto exact16 = [&] {
      const F m = shifted_window_sum<Ops, R, L>(V::absf(st.t_prev2), V::absf(st.t_prev), V::absf(t_next));
      return V::fmaf(m, f.scale, sub);
    };
    return back_dx_bounded(st.x_prev, st.t1_prev, sum_t, mag16, powered, f, ok, looks, exact16);
  }
}

// One vector of backward_nhwc_shift_position at channel `at`: S, t and t1 of this vector, dx of
// the one before (when there is one). kFull: this vector and the next are whole. kExact: each
// window's own sum |t| from registers (in place of mag16, the position's bound).
template <class Ops, int L, int R, bool kFull, bool kExact, bool kPower>
LRN_INLINE void back_shift_step(const float* xp, const float* dyp, float* out, int64_t C, int64_t at, F mag16,
                                const BackF32& f, BackShift& st, bool& ok, int& looks, FailedVectors& failed) {
  F x_next;
  if constexpr (kFull) x_next = V::loadf(xp + at + kF);
  else x_next = at + kF < C ? load_part(xp + at + kF, C - at - kF) : V::zerof();
  const F sq_next = V::mulf(x_next, x_next);
  const F s = shifted_window_sum<Ops, L, R>(st.sq_prev, st.sq_cur, sq_next);
  const F dyc = kFull ? V::loadf(dyp + at) : load_part(dyp + at, C - at);
  const BackTerms terms = back_terms<kPower>(s, st.x_cur, dyc, f, ok);
  const F tc = terms.t;  // zero past the last channel
  const F mc = kExact ? V::absf(tc) : tc;
  if (at > 0) {
    bool vector_ok = true;
    V::storef(out + at - kF, shift_dx<Ops, L, R, kExact, kPower>(st, tc, mc, mag16, f, vector_ok, looks));
    if (!vector_ok) failed.add(at - kF);
  }
  st = {st.x_cur, x_next, st.sq_cur, sq_next, st.t_prev, tc, terms.t1, st.m_prev, mc, kPower && terms.powered};
}

template <class Ops, int L, int R, bool kExact, bool kPower>
PositionResult backward_nhwc_shift_position(const lrn::Params& p, const NhwcBackD& d, const PaddedPosition& pad,
                                            const float* xp, const float* dyp, float* out, const BackF32& f) {
  const int64_t C = p.channels;
  F mag16 = V::zerof();
  if constexpr (!kExact) {
    F sum_xdy = V::zerof();
    for (int64_t c = 0; c < C; c += kF) {
      sum_xdy = V::addf(sum_xdy, V::absf(V::mulf(load_part(xp + c, C - c), load_part(dyp + c, C - c))));
    }
    mag16 = V::fmaf(V::total(sum_xdy), f.q_max_scaled, f.sub_series);
  }
  const F zero = V::zerof();
  const F x0 = load_part(xp, C);
  BackShift st{zero, x0, zero, V::mulf(x0, x0), zero, zero, zero, zero, zero, false};
  bool ok = true;
  int looks = 0;
  FailedVectors failed;
  int64_t at = 0;
  for (; at + 2 * kF <= C && ok; at += kF) {
    back_shift_step<Ops, L, R, true, kExact, kPower>(xp, dyp, out, C, at, mag16, f, st, ok, looks, failed);
  }
  for (; at < C && ok; at += kF) back_shift_step<Ops, L, R, false, kExact, kPower>(xp, dyp, out, C, at, mag16, f, st, ok, looks, failed);
  if (!ok) return {false, looks};
  // dx of the last vector, with zeros past the edge.
  bool last_ok = true;
  const F v = shift_dx<Ops, L, R, kExact, kPower>(st, zero, zero, mag16, f, last_ok, looks);
  store_part(out + at - kF, v, C - (at - kF));
  if (!last_ok) failed.add(at - kF);
  if (failed.overflow) return {false, looks};
  if (failed.n > 0) {
    copy_floats(pad.xs, xp, C);
    copy_floats(pad.dys, dyp, C);
    constexpr int W = L + R + 1;
    for (int i = 0; i < failed.n; ++i) {
      const F v = backward_lanes_d<W>(p, d.k, d.bs, PositionLanes{pad.xs, pad.dys, C}, failed.at[i]);
      store_part(out + failed.at[i], v, C - failed.at[i]);
    }
  }
  return {true, looks};
}

template <class Ops, int L, int R, bool kPower>
void backward_nhwc_shift_as(const lrn::Params& p, const float* x, const float* dy, float* dx, const NhwcBackD& d,
                            const BackF32& f, float* work) {
  const int64_t C = p.channels;
  const bool in_place = dx == x || dx == dy;
  const PaddedPosition pad(p, work);
  float* buf = work + 2 * PaddedPosition::width(p);  // C + kF
  const int64_t positions = p.batch * p.spatial_size;
  // The position's bound of sum |t| is the cheaper check where it passes; where many vectors
  // need the second look (sparse data: windows of zeros in busy positions) the exact sums are.
  // Both give the same outputs, so the choice only follows the cost: a position whose vectors
  // mostly needed the look switches to exact sums for kRetry positions.
  constexpr int64_t kRetry = 64;
  const int vectors = static_cast<int>((C + kF - 1) / kF);
  int64_t exact_until = 0;
  for (int64_t pos = 0; pos < positions; ++pos) {
    const int64_t at = pos * C;
    float* out = in_place ? buf : dx + at;
    PositionResult r;
    if (pos < exact_until) {
      r = backward_nhwc_shift_position<Ops, L, R, true, kPower>(p, d, pad, x + at, dy + at, out, f);
    } else {
      r = backward_nhwc_shift_position<Ops, L, R, false, kPower>(p, d, pad, x + at, dy + at, out, f);
      if (2 * r.looks > vectors) exact_until = pos + 1 + kRetry;
    }
    if (!r.ok) {
      backward_nhwc_position(p, d, x, dy, dx, pos);
    } else if (in_place) {
      copy_floats(dx + at, buf, C);
    }
  }
}

// With the float32 power where a sample says the data goes past the series' range and the
// power takes beta (as backward_nchw_walk). Where the series takes it, ISAs whose shifts cost
// more than shifted loads (not Ops::kShiftBackwardSeries) go through the three stages unless dy
// is sparse: there the three stages' coarse check fails for most positions, each then redone in
// float64, where this path looks again at each vector's own window and redoes only that vector.
template <class Ops, int L, int R>
void backward_nhwc_shift(const lrn::Params& p, const float* x, const float* dy, float* dx, const NhwcBackD& d,
                         float* work) {
  const BackF32 f = back_f32_of(p, !series_fits_sample(p, p.beta + 1, x));
  if (f.use_power) return backward_nhwc_shift_as<Ops, L, R, true>(p, x, dy, dx, d, f, work);
  if constexpr (!Ops::kShiftBackwardSeries) {
    if (!sparse_sample(p, dy)) return backward_nhwc_f32<L + R + 1>(p, x, dy, dx, d, work);
  }
  backward_nhwc_shift_as<Ops, L, R, false>(p, x, dy, dx, d, f, work);
}

// NHWC float32 backward for windows of W: in registers where the ISA can, else three stages.
template <int W>
void backward_nhwc_f32_any(const lrn::Params& p, const float* x, const float* dy, float* dx, const NhwcBackD& d,
                           float* work) {
  if constexpr (V::kShiftInRegisters) {
    constexpr int kHigh = W / 2, kLow = (W - 1) / 2;  // the two ways to centre a window of W
    if (p.before == kHigh) return backward_nhwc_shift<V, kHigh, W - 1 - kHigh>(p, x, dy, dx, d, work);
    if (p.before == kLow) return backward_nhwc_shift<V, kLow, W - 1 - kLow>(p, x, dy, dx, d, work);
  }
  backward_nhwc_f32<W>(p, x, dy, dx, d, work);
}

using BackwardNhwcF32 = void (*)(const lrn::Params&, const float*, const float*, float*, const NhwcBackD&, float*);
constexpr BackwardNhwcF32 kBackwardNhwcF32[kFloatRows] = {
    backward_nhwc_f32_any<1>, backward_nhwc_f32_any<2>, backward_nhwc_f32_any<3>, backward_nhwc_f32_any<4>,
    backward_nhwc_f32_any<5>, backward_nhwc_f32_any<6>, backward_nhwc_f32_any<7>, backward_nhwc_f32_any<8>,
};

void backward_nhwc(const lrn::Params& p, const float* x, const float* dy, float* dx, void* work) {
  const NhwcBackD d = nhwc_back_d_of(p, work);
  const int64_t W = p.before + p.after + 1;
  // The one-pass path (registers) also takes data past the series' range, with the float32 power.
  const bool one_pass = V::kShiftInRegisters && (p.before == W / 2 || p.before == (W - 1) / 2);
  if (W <= kFloatRows && ((one_pass && float32_power(p.beta)) || series_fits_sample(p, p.beta + 1, x))) {
    float* fwork = reinterpret_cast<float*>(static_cast<double*>(work) + nhwc_back_d_doubles(p)) + nhwc_back_d_floats(p);
    return kBackwardNhwcF32[W - 1](p, x, dy, dx, d, fwork);
  }
  const int64_t positions = p.batch * p.spatial_size;
  for (int64_t pos = 0; pos < positions; ++pos) backward_nhwc_position(p, d, x, dy, dx, pos);
}
