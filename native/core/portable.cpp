// Portable float64 LRN (docs/contract.md, "Operation" and "Backward"). Window sums are direct sums
// of non-negative squares: a running add/subtract sum would lose small windows beside large ones.
#include "portable.h"

#include <algorithm>
#include <cmath>

namespace lrn::portable {

namespace {

// Element (b, c, q) sits at b * batch + c * channel + q * position (q: flat spatial index).
struct Strides {
  int64_t batch, channel, position;
};

Strides strides_of(const Params& p) {
  const int64_t batch = p.channels * p.spatial_size;
  return p.layout == Layout::NCHW ? Strides{batch, p.spatial_size, 1} : Strides{batch, 1, p.channels};
}

// Positions handled together in across-channels LRN: all channels fit in ~128 KiB of doubles.
int64_t block_positions(const Params& p) {
  return std::max<int64_t>(1, std::min<int64_t>(p.spatial_size, 16384 / std::max<int64_t>(1, p.channels)));
}

// For src viewed as [outer][m][stride]: dst = sum along m over [i - before, i + after], clipped.
void window_sum(const double* src, double* dst, int64_t outer, int64_t m, int64_t stride,
                int64_t before, int64_t after) {
  for (int64_t o = 0; o < outer; ++o) {
    const double* in = src + o * m * stride;
    double* out = dst + o * m * stride;
    for (int64_t i = 0; i < m; ++i) {
      const int64_t lo = std::max<int64_t>(0, i - before);
      const int64_t hi = std::min<int64_t>(m - 1, i + after);
      double* row = out + i * stride;
      std::copy(in + lo * stride, in + lo * stride + stride, row);
      for (int64_t j = lo + 1; j <= hi; ++j) {
        const double* add = in + j * stride;
        for (int64_t s = 0; s < stride; ++s) row[s] += add[s];
      }
    }
  }
}

// Box sum over every spatial axis, one axis at a time (separable). Returns data or tmp.
double* box_sum(double* data, double* tmp, const Params& p, int64_t before, int64_t after) {
  double* src = data;
  double* dst = tmp;
  int64_t outer = 1;
  int64_t inner = p.spatial_size;
  for (int axis = 0; axis < p.spatial_rank; ++axis) {
    const int64_t m = p.spatial[axis];
    inner /= m;
    window_sum(src, dst, outer, m, inner, before, after);
    outer *= m;
    std::swap(src, dst);
  }
  return src;
}

template <class T>
void squares(const T* x, int64_t start, int64_t stride, int64_t count, double* sq) {
  for (int64_t q = 0; q < count; ++q) {
    const double v = x[start + q * stride];
    sq[q] = v * v;
  }
}

template <class T>
void forward_across(const Params& p, const T* x, T* y, double* sq) {
  const Strides g = strides_of(p);
  const int64_t C = p.channels, block = block_positions(p);
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t q0 = 0; q0 < p.spatial_size; q0 += block) {
      const int64_t count = std::min(block, p.spatial_size - q0);
      const int64_t start = b * g.batch + q0 * g.position;
      for (int64_t c = 0; c < C; ++c) squares(x, start + c * g.channel, g.position, count, sq + c * count);
      for (int64_t c = 0; c < C; ++c) {
        const int64_t lo = std::max<int64_t>(0, c - p.before), hi = std::min(C - 1, c + p.after);
        for (int64_t q = 0; q < count; ++q) {
          double s = 0;
          for (int64_t j = lo; j <= hi; ++j) s += sq[j * count + q];
          const int64_t at = start + c * g.channel + q * g.position;
          y[at] = static_cast<T>(times_inv_pow(x[at], p.k + p.a * s, p.beta));
        }
      }
    }
  }
}

template <class T>
void forward_within(const Params& p, const T* x, T* y, double* work) {
  const Strides g = strides_of(p);
  const int64_t V = p.spatial_size;
  double* sq = work;
  double* tmp = work + V;
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t c = 0; c < p.channels; ++c) {
      const int64_t start = b * g.batch + c * g.channel;
      squares(x, start, g.position, V, sq);
      const double* sums = box_sum(sq, tmp, p, p.before, p.after);
      for (int64_t q = 0; q < V; ++q) {
        const int64_t at = start + q * g.position;
        y[at] = static_cast<T>(times_inv_pow(x[at], p.k + p.a * sums[q], p.beta));
      }
    }
  }
}

// B -> factors: sums[i] becomes term1 = dy * B^(-beta), t[i] becomes dy * x * B^(-beta-1).
template <class T>
void factors(const Params& p, const T* x, const T* dy, int64_t start, int64_t stride, double* sums,
             double* t, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const int64_t at = start + i * stride;
    const GradientTerms g = gradient_terms(dy[at], x[at], p.k + p.a * sums[i], p.beta);
    sums[i] = g.term1;
    t[i] = g.t;
  }
}

// dx = term1 - 2 a beta x * tsum.
template <class T>
void combine(const Params& p, const T* x, T* dx, int64_t start, int64_t stride, const double* term1,
             const double* tsum, int64_t count) {
  const double two_a_beta = 2 * p.a * p.beta;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t at = start + i * stride;
    dx[at] = static_cast<T>(term1[i] - two_a_beta * static_cast<double>(x[at]) * tsum[i]);
  }
}

template <class T>
void backward_across(const Params& p, const T* x, const T* dy, T* dx, double* work) {
  const Strides g = strides_of(p);
  const int64_t C = p.channels, block = block_positions(p);
  double* sq = work;
  double* sums = work + C * block;
  double* t = work + 2 * C * block;
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t q0 = 0; q0 < p.spatial_size; q0 += block) {
      const int64_t count = std::min(block, p.spatial_size - q0);
      const int64_t start = b * g.batch + q0 * g.position;
      for (int64_t c = 0; c < C; ++c) squares(x, start + c * g.channel, g.position, count, sq + c * count);
      window_sum(sq, sums, 1, C, count, p.before, p.after);
      for (int64_t c = 0; c < C; ++c) {
        factors(p, x, dy, start + c * g.channel, g.position, sums + c * count, t + c * count, count);
      }
      // The c whose window holds i are [i - after, i + before]: the mirrored window.
      window_sum(t, sq, 1, C, count, p.after, p.before);
      for (int64_t c = 0; c < C; ++c) {
        combine(p, x, dx, start + c * g.channel, g.position, sums + c * count, sq + c * count, count);
      }
    }
  }
}

template <class T>
void backward_within(const Params& p, const T* x, const T* dy, T* dx, double* work) {
  const Strides g = strides_of(p);
  const int64_t V = p.spatial_size;
  double* sq = work;
  double* tmp = work + V;
  double* t = work + 2 * V;
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t c = 0; c < p.channels; ++c) {
      const int64_t start = b * g.batch + c * g.channel;
      squares(x, start, g.position, V, sq);
      double* sums = box_sum(sq, tmp, p, p.before, p.after);
      factors(p, x, dy, start, g.position, sums, t, V);
      const double* tsum = box_sum(t, sums == sq ? tmp : sq, p, p.after, p.before);
      combine(p, x, dx, start, g.position, sums, tsum, V);
    }
  }
}

template <class T>
void forward_any(const Params& p, const T* x, T* y, void* work) {
  if (p.length() == 0) return;
  double* w = static_cast<double*>(work);
  if (p.region == Region::WithinChannel) forward_within(p, x, y, w);
  else forward_across(p, x, y, w);
}

template <class T>
void backward_any(const Params& p, const T* x, const T* dy, T* dx, void* work) {
  if (p.length() == 0) return;
  double* w = static_cast<double*>(work);
  if (p.region == Region::WithinChannel) backward_within(p, x, dy, dx, w);
  else backward_across(p, x, dy, dx, w);
}

}  // namespace

size_t workspace_bytes(const Params& p) {
  const int64_t across = 3 * p.channels * block_positions(p);
  const int64_t within = p.region == Region::WithinChannel ? 3 * p.spatial_size : 0;
  return static_cast<size_t>(std::max<int64_t>({across, within, 1})) * sizeof(double);
}

void forward(const Params& p, const float* x, float* y, void* work) { forward_any(p, x, y, work); }
void forward(const Params& p, const double* x, double* y, void* work) { forward_any(p, x, y, work); }
void backward(const Params& p, const float* x, const float* dy, float* dx, void* work) {
  backward_any(p, x, dy, dx, work);
}
void backward(const Params& p, const double* x, const double* dy, double* dx, void* work) {
  backward_any(p, x, dy, dx, work);
}

}  // namespace lrn::portable
