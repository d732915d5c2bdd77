// Forward with float64 window sums: scalar and row helpers, wide NCHW windows, NHWC in float64 and
// NHWC per position by the series.
// A part of simd_lrn.inl: included inside its anonymous namespace, after the parts listed
// before it there; see that file for V and the accuracy rules.

// One output of across-channels LRN in float64, for the elements that do not fill a vector.
float forward_scalar(const float* src, int64_t stride, int64_t lo, int64_t hi, int64_t c, const lrn::Params& p) {
  double s = 0;
  for (int64_t j = lo; j <= hi; ++j) {
    const double v = src[j * stride];
    s += v * v;
  }
  return static_cast<float>(lrn::portable::times_inv_pow(src[c * stride], p.k + p.a * s, p.beta));
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
  auto squares = [&](int64_t pos) __attribute__((always_inline)) { square_position(sqf[pos & 1] + L, x + pos * C, C); };
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
