// The binding's geometry argument, checked without Node: the addon and the fuzz target share it.
// geometry: [layout, region, batch, channels, before, after, k, a, beta, ...spatial dims].
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/lrn.h"

namespace lrn {

constexpr size_t kGeometryFixed = 9;

// The spatial dimensions, without a heap allocation up to eight of them.
class Dims {
 public:
  void clear() {
    n_ = 0;
    large_.clear();
  }
  void push_back(int64_t d);
  const int64_t* data() const { return n_ <= kSmall ? small_ : large_.data(); }
  size_t size() const { return n_; }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + n_; }

 private:
  static constexpr size_t kSmall = 8;
  int64_t small_[kSmall] = {};
  std::vector<int64_t> large_;
  size_t n_ = 0;
};

// Reads `count` geometry numbers into `p` (its spatial dimensions into `dims`, which must outlive
// `p`), checking every number and that the shape's element count, computed without overflow,
// equals `length`. Windows are clamped to their axis (a window past both ends of an axis sums
// the same elements), so nothing is sized by a huge `before` or `after`. Returns nullptr, or a
// message naming the geometry entry that is wrong.
const char* read_geometry(const double* g, size_t count, size_t length, Params* p, Dims* dims);

}  // namespace lrn
