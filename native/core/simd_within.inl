// Within-channel forward: box sums in float32 (by the series) or float64 vectors.
// A part of simd_lrn.inl: included inside its anonymous namespace, after the parts listed
// before it there; see that file for V and the accuracy rules.

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
    y[i] = static_cast<float>(lrn::portable::times_inv_pow(x[i], p.k + p.a * sums[i], p.beta));
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
  WithinSeries w{series_vectors(s), V::setf(-1)};
  if (s.usable) {
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
  return 2 * plane + longest + p.before + p.after + 2 * kD;
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
