#include "geometry.h"

#include <algorithm>
#include <cmath>

namespace lrn {

void Dims::push_back(int64_t d) {
  if (n_ < kSmall) small_[n_] = d;
  else if (n_ == kSmall) large_.assign(small_, small_ + kSmall), large_.push_back(d);
  else large_.push_back(d);
  ++n_;
}

namespace {

// A non-negative integer that a double holds exactly (at most 2^53 - 1).
bool whole(double v) { return std::isfinite(v) && v >= 0 && v == std::floor(v) && v <= 9007199254740991.0; }

// a * b into `product`, false when it does not fit in 64 bits.
bool multiply(uint64_t a, uint64_t b, uint64_t* product) { return !__builtin_mul_overflow(a, b, product); }

}  // namespace

const char* read_geometry(const double* g, size_t count, size_t length, Params* p, Dims* dims) {
  if (count < kGeometryFixed) return "geometry must hold at least 9 numbers";
  if ((g[0] != 0 && g[0] != 1)) return "geometry[0] (layout) must be 0 (NCHW) or 1 (NHWC)";
  if ((g[1] != 0 && g[1] != 1)) return "geometry[1] (region) must be 0 (across channels) or 1 (within channel)";
  if (!whole(g[2])) return "geometry[2] (batch) must be a non-negative safe integer";
  if (!whole(g[3])) return "geometry[3] (channels) must be a non-negative safe integer";
  if (!whole(g[4]) || !whole(g[5])) return "geometry[4] and [5] (window before and after) must be non-negative safe integers";
  if (!std::isfinite(g[6]) || g[6] < 0) return "geometry[6] (k) must be finite and >= 0";
  if (!std::isfinite(g[7]) || g[7] < 0) return "geometry[7] (a) must be finite and >= 0";
  if (!std::isfinite(g[8]) || g[8] < 0) return "geometry[8] (beta) must be finite and >= 0";
  dims->clear();
  for (size_t i = kGeometryFixed; i < count; ++i) {
    if (!whole(g[i])) return "geometry[9...] (spatial dimensions) must be non-negative safe integers";
    dims->push_back(static_cast<int64_t>(g[i]));
  }
  p->layout = g[0] == 0 ? Layout::NCHW : Layout::NHWC;
  p->region = g[1] == 0 ? Region::AcrossChannels : Region::WithinChannel;
  p->batch = static_cast<int64_t>(g[2]);
  p->channels = static_cast<int64_t>(g[3]);
  p->k = g[6];
  p->a = g[7];
  p->beta = g[8];
  p->spatial = dims->data();
  p->spatial_rank = static_cast<int>(dims->size());
  if (p->region == Region::WithinChannel && dims->size() == 0) return "within-channel LRN needs a spatial axis in geometry[9...]";

  // Element count: every product is checked, so no combination of sizes can wrap around.
  uint64_t spatial = 1, total = 1;
  bool overflow = false;
  int64_t longest = 0;
  for (int64_t d : *dims) {
    overflow = overflow || !multiply(spatial, static_cast<uint64_t>(d), &spatial);
    longest = std::max(longest, d);
  }
  overflow = overflow || !multiply(spatial, static_cast<uint64_t>(p->batch), &total) ||
             !multiply(total, static_cast<uint64_t>(p->channels), &total);
  // Params counts in int64_t (length() is batch * channels * spatial_size): from 2^63 up it wraps.
  overflow = overflow || total > static_cast<uint64_t>(INT64_MAX);
  const bool empty = p->batch == 0 || p->channels == 0 || std::find(dims->begin(), dims->end(), 0) != dims->end();
  if (empty) total = 0, spatial = 0;
  else if (overflow) return "the shape's element count does not fit in 64 bits";
  if (total != length) return "the shape's element count does not match the arrays' length";
  p->spatial_size = static_cast<int64_t>(spatial);
  if (empty) p->batch = 0;  // nothing to compute; keeps length() free of overflow

  const int64_t axis = p->region == Region::AcrossChannels ? p->channels : longest;
  const double reach = axis > 0 ? static_cast<double>(axis - 1) : 0;
  p->before = static_cast<int64_t>(std::min(g[4], reach));
  p->after = static_cast<int64_t>(std::min(g[5], reach));
  return nullptr;
}

}  // namespace lrn
