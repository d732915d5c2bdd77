// libFuzzer target: the binding's geometry checker (lrn::read_geometry) and every kernel this CPU
// supports, under AddressSanitizer and UBSan (`make -C native fuzz`).
//
// Each input is decoded into a geometry array [layout, region, batch, channels, before, after, k,
// a, beta, ...spatial dims] (entries can be wild: NaN, infinities, negatives, fractions, 2^52+16,
// 2^53-1, dims whose product wraps 64 bits, windows of 5e8) and a claimed array length.
// read_geometry must accept exactly the geometries that are valid (checked here independently),
// and what it accepts must be consistent. An accepted non-empty geometry too large to run quickly
// is shrunk into a small valid one (fewer, shorter axes; the same windows, clamped again); then
// the remaining bytes fill x and dy, and every kernel's forward and backward, float32 and
// float64, out of place and in place, is checked against the element-by-element reference of
// ../test/reference.h within the kernels' accuracy contract (for every input: finite or not,
// subnormal to huge). Any violation prints the case and aborts.
//
// Input layout (make_corpus.py writes seeds in it; missing bytes read as 0):
//   form      byte: < 248: layout = bit 0, region = bit 1; else two bytes follow: layout and
//             region from wild()
//   rank      byte: < 208: rank = byte % 13, count = 9 + rank; else rank 0, count = (byte - 208) % 9
//   batch: size(); channels: channels(); before, after: size(); k, a, beta: param(); rank
//   spatial dims: size()
//   length    byte: < 192 the element count (mod 2^64), < 208 that + 1, < 224 that - 1, < 240 0,
//             else 8 raw bytes
//   x mode, x scale, dy mode, dy scale, offset (unaligned arrays: % 4 elements), f64 exponent
//   the rest: the data pool, read cyclically (see value())
// size():  byte < 192: byte % 64; < 224: wild(byte - 192); < 240: 2 bytes little endian; else a
//          raw double (8 bytes)
// channels(): byte < 64: byte; < 192: 1 + byte % 8 (fewer channels than a vector has lanes, NHWC's
//          hardest case, more often); else as size()
// param(): byte < 192: kParams[byte % 24]; < 224: wild(byte - 192); < 240: kExtremeParams[byte %
//          16] (what float32 rounds to a subnormal, 0 or infinity, and neighbours); else a raw
//          double
// value modes (x mode, dy mode): byte < 240: mode byte % 6 of value(); else extremes (see value())
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "../core/lrn.h"
#include "../core/portable.h"
#include "../geometry.h"
#include "../test/reference.h"

namespace {

using u128 = unsigned __int128;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kWild[32] = {
    std::numeric_limits<double>::quiet_NaN(), kInf, -kInf, -1, -0.0, 0.5, 1.5, 0x1p52 + 16,
    0x1p53 - 1, 0x1p53, 0x1p53 + 2, 0x1p63, 0x1p64, 4096, 5e8, 1e300,
    std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min(), 0x1p32, 0x1p32 + 1,
    65536, 0x1p31, 1e-300, 3e9, 0x1p21, 0x1p26 + 1, 1e6, 1e-30, 1e30, 0x1p62, 1e15 + 0.5, -0x1p53};
constexpr double kParams[24] = {0, 1e-4, 2e-5, 0.5, 0.75, 1, 2, 0.6, 1.3, 0.001, 0.25, 0.9,
                                0.999, 3.5, 1e-2, 7, 8, 50, 1.5, 3, 1e-8, 1e4, 0.1, 0.3};
constexpr double kExtremeParams[16] = {1e-45, 1e-40, 1e-38, 0x1p-126, 0x1p-90, 1e-30, 1e-20, 1e-12,
                                       1e20, 1e30, 1e38, 1e39, 3.4028234663852886e38, 1e-6, 0x1p100, 0x1p-100};

// Runs stay fast: at most this many elements (and 12 spatial axes, from the decoding), and this
// many window visits by the reference.
constexpr size_t kMaxElements = 4096;
constexpr int64_t kMaxVisits = int64_t{1} << 18;

struct Input {
  const uint8_t* data;
  size_t size, pos = 0;
  uint8_t byte() { return pos < size ? data[pos++] : 0; }
  uint64_t bytes(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t{byte()} << (8 * i);
    return v;
  }
  double raw() {
    const uint64_t bits = bytes(8);
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  double wild(uint8_t b) { return kWild[b % 32]; }
  double size_value() {
    const uint8_t b = byte();
    if (b < 192) return b % 64;
    if (b < 224) return wild(b - 192);
    if (b < 240) return static_cast<double>(bytes(2));
    return raw();
  }
  double channels() {
    const uint8_t b = byte();
    if (b < 64) return b;
    if (b < 192) return 1 + b % 8;
    --pos;
    return size_value();
  }
  double param() {
    const uint8_t b = byte();
    if (b < 192) return kParams[b % 24];
    if (b < 224) return wild(b - 192);
    if (b < 240) return kExtremeParams[b % 16];
    return raw();
  }
};

// LRN_FUZZ_VERBOSE=1 prints each input's geometry and what became of it (to read a reproducer).
const bool verbose = std::getenv("LRN_FUZZ_VERBOSE") != nullptr;

void print_geometry(const char* what, const std::vector<double>& g, size_t length) {
  std::fprintf(stderr, "%s\n  geometry (%zu numbers):", what, g.size());
  for (double v : g) std::fprintf(stderr, " %.17g", v);
  std::fprintf(stderr, "\n  length %zu\n", length);
}

[[noreturn]] void violation(const std::vector<double>& g, size_t length, const char* what) {
  std::fprintf(stderr, "VIOLATION: ");
  print_geometry(what, g, length);
  std::abort();
}

#define REQUIRE(cond, g, length) \
  do {                           \
    if (!(cond)) violation(g, length, #cond); \
  } while (0)

// A non-negative integer a double holds exactly.
bool whole(double v) { return v >= 0 && v <= 0x1p53 - 1 && std::floor(v) == v; }
bool nonnegative(double v) { return std::isfinite(v) && v >= 0; }
uint64_t wrapped(double v) { return v >= 0 && v < 0x1p64 ? static_cast<uint64_t>(v) : 0; }

// What read_geometry must do with (g, length), decided here without it: nullptr when the
// geometry must be accepted, else why not.
const char* expected_error(const std::vector<double>& g, size_t length) {
  if (g.size() < lrn::kGeometryFixed) return "short";
  if ((g[0] != 0 && g[0] != 1) || (g[1] != 0 && g[1] != 1)) return "layout or region";
  for (int i = 2; i < 6; ++i)
    if (!whole(g[i])) return "batch, channels or window";
  for (int i = 6; i < 9; ++i)
    if (!nonnegative(g[i])) return "k, a or beta";
  for (size_t i = lrn::kGeometryFixed; i < g.size(); ++i)
    if (!whole(g[i])) return "spatial dimension";
  if (g[1] == 1 && g.size() == lrn::kGeometryFixed) return "within-channel without a spatial axis";
  // The element count in 128 bits, saturated: every factor is below 2^53.
  u128 count = u128{static_cast<uint64_t>(g[2])} * static_cast<uint64_t>(g[3]);
  bool empty = count == 0;
  for (size_t i = lrn::kGeometryFixed; i < g.size(); ++i) {
    const uint64_t d = static_cast<uint64_t>(g[i]);
    empty = empty || d == 0;
    count = count > (u128{1} << 64) ? count : count * d;
  }
  if (empty) count = 0;
  // Params::length() is a product of int64_t: a count past INT64_MAX cannot be described.
  if (count > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return "count past int64";
  if (count != length) return "count differs from length";
  return nullptr;
}

// Checks what read_geometry accepted against the geometry it read.
void check_accepted(const std::vector<double>& g, size_t length, const lrn::Params& p) {
  REQUIRE(p.layout == (g[0] == 0 ? lrn::Layout::NCHW : lrn::Layout::NHWC), g, length);
  REQUIRE(p.region == (g[1] == 0 ? lrn::Region::AcrossChannels : lrn::Region::WithinChannel), g, length);
  REQUIRE(p.channels == static_cast<int64_t>(g[3]), g, length);
  REQUIRE(p.k == g[6] && p.a == g[7] && p.beta == g[8], g, length);
  REQUIRE(p.spatial_rank == static_cast<int>(g.size() - lrn::kGeometryFixed), g, length);
  int64_t longest = 0;
  for (int i = 0; i < p.spatial_rank; ++i) {
    REQUIRE(p.spatial[i] == static_cast<int64_t>(g[lrn::kGeometryFixed + i]), g, length);
    longest = p.spatial[i] > longest ? p.spatial[i] : longest;
  }
  REQUIRE(p.batch >= 0 && p.spatial_size >= 0, g, length);
  const u128 product =
      u128{static_cast<uint64_t>(p.batch)} * static_cast<uint64_t>(p.channels) * static_cast<uint64_t>(p.spatial_size);
  REQUIRE(product == length, g, length);
  REQUIRE(p.length() == static_cast<int64_t>(length), g, length);
  if (length > 0) {
    REQUIRE(p.batch == static_cast<int64_t>(g[2]), g, length);
    u128 spatial = 1;
    for (int i = 0; i < p.spatial_rank; ++i) spatial *= static_cast<uint64_t>(p.spatial[i]);
    REQUIRE(spatial == static_cast<uint64_t>(p.spatial_size), g, length);
  }
  // Windows clamped to their axis (channels, or the longest spatial axis), and only clamped.
  const int64_t axis = p.region == lrn::Region::AcrossChannels ? p.channels : longest;
  const double reach = axis > 0 ? static_cast<double>(axis - 1) : 0;
  REQUIRE(p.before == static_cast<int64_t>(g[4] < reach ? g[4] : reach), g, length);
  REQUIRE(p.after == static_cast<int64_t>(g[5] < reach ? g[5] : reach), g, length);
}

// Window visits the reference makes (forward and backward): elements times window volume.
int64_t visits(const lrn::Params& p) {
  const int64_t span = p.before + p.after + 1;
  int64_t volume = 1;
  if (p.region == lrn::Region::AcrossChannels) volume = span < p.channels ? span : p.channels;
  else
    for (int i = 0; i < p.spatial_rank; ++i) volume *= span < p.spatial[i] ? span : p.spatial[i];
  return 2 * p.length() * volume;
}

// The element count a valid geometry describes: batch * channels * spatial dimensions.
size_t elements(const std::vector<double>& g) {
  size_t count = static_cast<size_t>(g[2]) * static_cast<size_t>(g[3]);
  for (size_t i = lrn::kGeometryFixed; i < g.size(); ++i) count *= static_cast<size_t>(g[i]);
  return count;
}

// A small valid geometry from an accepted large one: batch up to 2, channels and spatial axes up
// to 64, then the longest axis (channels included) halved until the run is small enough. The
// windows stay as given: read_geometry clamps them to the new axes.
std::vector<double> shrink(const std::vector<double>& g, const lrn::Params& p) {
  std::vector<double> s(g.begin(), g.begin() + lrn::kGeometryFixed);
  s[2] = p.batch < 2 ? p.batch : 2;
  s[3] = p.channels < 64 ? p.channels : 64;
  for (int i = 0; i < p.spatial_rank; ++i) s.push_back(p.spatial[i] < 64 ? p.spatial[i] : 64);
  for (;;) {
    const size_t count = elements(s);
    lrn::Params q;
    lrn::Dims dims;
    if (count <= kMaxElements && !lrn::read_geometry(s.data(), s.size(), count, &q, &dims) &&
        visits(q) <= kMaxVisits) {
      return s;
    }
    size_t longest = 3;
    for (size_t i = lrn::kGeometryFixed; i < s.size(); ++i) longest = s[i] > s[longest] ? i : longest;
    if (s[longest] <= 1) violation(g, 0, "shrink: nothing left to halve");
    s[longest] = std::ceil(s[longest] / 2);
  }
}

// ---- data ------------------------------------------------------------------------------------

struct Pool {
  std::vector<uint8_t> bytes;
  size_t pos;
  uint8_t next() {
    const uint8_t b = bytes[pos % bytes.size()];
    ++pos;
    return b;
  }
};

float from_bits(uint32_t bits) {
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// A magnitude at an edge of float32's range, either sign: the top of the largest binade,
// 2^96 .. 2^127 (where products with dy overflow), the bottom normal binades 2^-126 .. 2^-100, or
// a subnormal.
float extreme(Pool& pool) {
  const uint8_t b = pool.next(), m = pool.next();
  const float sign = b & 1 ? -1.0f : 1.0f;
  switch (b >> 1 & 3) {
    case 0: return sign * from_bits(0x7f7fff00u | m);
    case 1: return sign * static_cast<float>(std::ldexp(1 + m / 256.0, 96 + pool.next() % 32));
    case 2: return sign * static_cast<float>(std::ldexp(1 + m / 256.0, -126 + pool.next() % 27));
    default: return sign * from_bits(m | uint32_t{pool.next()} << 8 | uint32_t{pool.next() & 0x7fu} << 16);
  }
}

// One value in one of six modes (mode < 240: mode % 6): raw float32 bits; any exponent (zero,
// subnormal, huge, Inf and NaN as often as the rest); small values scaled by 2^(scale - 128);
// mostly zeros; special values; values just above 1 (so that window sums cancel in the
// backward). Modes 240 .. 247: extremes alone; 248 .. 255: extremes among values of -4 .. 4.
float value(Pool& pool, uint8_t mode, uint8_t scale) {
  using L = std::numeric_limits<float>;
  static const float kSpecial[16] = {0.0f, -0.0f, L::quiet_NaN(), L::infinity(), -L::infinity(), L::max(), -L::max(), L::min(),
                                     L::denorm_min(), 1.0f, -1.0f, 1e-40f, 1e19f, 3e38f, 0.5f, -2.0f};
  if (mode >= 248 && pool.next() & 1) return static_cast<float>(static_cast<int8_t>(pool.next()) / 32.0);
  if (mode >= 240) return extreme(pool);
  switch (mode % 6) {
    case 0: {
      uint32_t bits = 0;
      for (int i = 0; i < 4; ++i) bits |= uint32_t{pool.next()} << (8 * i);
      return from_bits(bits);
    }
    case 1: {
      const uint32_t exponent = pool.next(), rest = pool.next();
      return from_bits((rest & 1) << 31 | exponent << 23 | (rest >> 1) << 16);
    }
    case 2: return static_cast<float>(std::ldexp(static_cast<int8_t>(pool.next()) / 16.0, scale - 128));
    case 3: {
      const uint8_t b = pool.next();
      return b < 170 ? (b & 1 ? -0.0f : 0.0f) : static_cast<float>(b - 213) / 8;
    }
    case 4: return kSpecial[pool.next() % 16];
    default: return 1 + pool.next() * 0x1p-12f;
  }
}

// An array of exactly n elements (after `offset` unused ones, so unaligned), for ASan.
template <class T>
struct Array {
  T* base;
  T* p;
  Array(int64_t n, size_t offset) {
    base = static_cast<T*>(std::malloc((n + offset) * sizeof(T)));
    p = base + offset;
  }
  ~Array() { std::free(base); }
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;
};

// ---- the kernel checks -----------------------------------------------------------------------

struct Case {
  const std::vector<double>& g;  // the geometry run (possibly shrunk)
  const lrn::Params& p;
  const lrn::Kernel* kernel;
};

template <class T>
[[noreturn]] void wrong(const Case& c, const char* what, int64_t i, double got, double want, const T* x, const T* dy) {
  std::fprintf(stderr, "kernel %s, %s: element %" PRId64 " got %.17g want %.17g (x %.9g, dy %.9g)\n", c.kernel->name, what,
               i, got, want, static_cast<double>(x[i]), static_cast<double>(dy[i]));
  if (verbose) {
    for (int64_t j = 0; j < c.p.length(); ++j)
      std::fprintf(stderr, "  x[%" PRId64 "] = %.9g, dy = %.9g\n", j, static_cast<double>(x[j]), static_cast<double>(dy[j]));
  }
  violation(c.g, static_cast<size_t>(c.p.length()), what);
}

// Same bytes, except that any NaN matches any NaN.
template <class T>
int64_t first_difference(const T* a, const T* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) return i;
  }
  return -1;
}

// Checks one element type: forward and backward, out of place and in place (y == x; dx == dy,
// dx == x).
template <class T>
void check_type(const Case& c, const T* x, const T* dy, size_t offset, void* work, const std::vector<double>& y_ref,
                const lrn::reference::Gradient& g_ref) {
  const lrn::Params& p = c.p;
  const lrn::Kernel& k = *c.kernel;
  const int64_t n = p.length();
  auto forward = [&](const T* in, T* out) {
    if constexpr (sizeof(T) == 4) k.forward_f32(p, in, out, work);
    else k.forward_f64(p, in, out, work);
  };
  auto backward_call = [&](const T* in, const T* d, T* out) {
    if constexpr (sizeof(T) == 4) k.backward_f32(p, in, d, out, work);
    else k.backward_f64(p, in, d, out, work);
  };
  const char* f_name = sizeof(T) == 4 ? "forward f32" : "forward f64";
  std::vector<T> x_copy(x, x + n), dy_copy(dy, dy + n);

  Array<T> y(n, offset), z(n, offset);
  forward(x, y.p);
  for (int64_t i = 0; i < n; ++i)
    if (!lrn::reference::forward_ok(y.p[i], y_ref[i])) wrong(c, f_name, i, y.p[i], y_ref[i], x, dy);
  if (first_difference(x, x_copy.data(), n) >= 0) wrong(c, "forward wrote its input", 0, 0, 0, x, dy);
  std::memcpy(z.p, x, n * sizeof(T));
  forward(z.p, z.p);
  if (int64_t i = first_difference(z.p, y.p, n); i >= 0) wrong(c, "forward in place differs", i, z.p[i], y.p[i], x, dy);

  const char* b_name = sizeof(T) == 4 ? "backward f32" : "backward f64";
  backward_call(x, dy, y.p);
  for (int64_t i = 0; i < n; ++i) {
    if (!lrn::reference::backward_ok(y.p[i], g_ref, i)) wrong(c, b_name, i, y.p[i], g_ref.dx[i], x, dy);
  }
  if (first_difference(x, x_copy.data(), n) >= 0 || first_difference(dy, dy_copy.data(), n) >= 0) {
    wrong(c, "backward wrote an input", 0, 0, 0, x, dy);
  }
  std::memcpy(z.p, dy, n * sizeof(T));
  backward_call(x, z.p, z.p);
  if (int64_t i = first_difference(z.p, y.p, n); i >= 0) {
    wrong(c, "backward in place (dx == dy) differs", i, z.p[i], y.p[i], x, dy);
  }
  std::memcpy(z.p, x, n * sizeof(T));
  backward_call(z.p, dy, z.p);
  if (int64_t i = first_difference(z.p, y.p, n); i >= 0) {
    wrong(c, "backward in place (dx == x) differs", i, z.p[i], y.p[i], x, dy);
  }
}

void run_kernels(const std::vector<double>& g, const lrn::Params& p, Input& in) {
  const int64_t n = p.length();
  const uint8_t x_mode = in.byte(), x_scale = in.byte(), dy_mode = in.byte(), dy_scale = in.byte();
  const size_t offset = in.byte() % 4;
  const uint8_t e = in.byte();
  const int exponent64 = e < 160 ? 0 : (e - 208) * 11;  // float64 inputs: the float32 ones times 2^exponent64
  Pool pool{std::vector<uint8_t>(in.data + in.pos, in.data + in.size), 0};
  if (pool.bytes.empty()) pool.bytes.push_back(0x3c);

  Array<float> x(n, offset), dy(n, offset);
  Array<double> x64(n, offset), dy64(n, offset);
  for (int64_t i = 0; i < n; ++i) x.p[i] = value(pool, x_mode, x_scale);
  pool.pos += pool.bytes.size() / 2;
  for (int64_t i = 0; i < n; ++i) dy.p[i] = value(pool, dy_mode, dy_scale);
  for (int64_t i = 0; i < n; ++i) {
    x64.p[i] = std::ldexp(static_cast<double>(x.p[i]), exponent64);
    dy64.p[i] = dy.p[i];
  }

  const std::vector<double> x32d(x.p, x.p + n), dy32d(dy.p, dy.p + n);
  const std::vector<double> y32_ref = lrn::reference::forward(p, x32d.data());
  const std::vector<double> y64_ref = exponent64 == 0 ? y32_ref : lrn::reference::forward(p, x64.p);
  const lrn::reference::Gradient g32 = lrn::reference::backward(p, x32d.data(), dy32d.data());
  const lrn::reference::Gradient g64 = exponent64 == 0 ? g32 : lrn::reference::backward(p, x64.p, dy64.p);

  if (verbose) {
    std::fprintf(stderr, "  kernels on %" PRId64 " elements, float64 inputs x 2^%d\n", n, exponent64);
    for (int64_t i = 0; i < n; ++i) std::fprintf(stderr, "  x[%" PRId64 "] = %.9g, dy = %.9g\n", i, x.p[i], dy.p[i]);
  }
  size_t count = 0;
  const lrn::Kernel* const* kernels = lrn::all_kernels(&count);
  for (size_t i = 0; i < count; ++i) {
    const lrn::Kernel& k = *kernels[i];
    if (!k.supported()) continue;
    // Scratch of exactly the size the kernel asks for (with the portable code's), 64-byte aligned.
    const size_t own = k.workspace_bytes(p), portable = lrn::portable::workspace_bytes(p);
    void* work = nullptr;
    if (posix_memalign(&work, 64, own > portable ? own : portable) != 0) std::abort();
    const Case c{g, p, &k};
    check_type(c, x.p, dy.p, offset, work, y32_ref, g32);
    check_type(c, x64.p, dy64.p, offset, work, y64_ref, g64);
    std::free(work);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  std::vector<double> g(lrn::kGeometryFixed);
  const uint8_t form = in.byte();
  if (form < 248) {
    g[0] = form & 1;
    g[1] = form >> 1 & 1;
  } else {
    g[0] = in.wild(in.byte());
    g[1] = in.wild(in.byte());
  }
  const uint8_t rank_byte = in.byte();
  const int rank = rank_byte < 208 ? rank_byte % 13 : 0;
  const size_t count = rank_byte < 208 ? lrn::kGeometryFixed + rank : (rank_byte - 208) % lrn::kGeometryFixed;
  g[2] = in.size_value();
  g[3] = in.channels();
  g[4] = in.size_value();
  g[5] = in.size_value();
  for (int i = 6; i < 9; ++i) g[i] = in.param();
  for (int i = 0; i < rank; ++i) g.push_back(in.size_value());

  uint64_t product = wrapped(g[2]) * wrapped(g[3]);  // the element count modulo 2^64
  for (int i = 0; i < rank; ++i) product *= wrapped(g[lrn::kGeometryFixed + i]);
  const uint8_t length_mode = in.byte();
  const size_t length = length_mode < 192   ? product
                        : length_mode < 208 ? product + 1
                        : length_mode < 224 ? product - 1
                        : length_mode < 240 ? 0
                                            : in.bytes(8);

  // The checker sees exactly `count` numbers (ASan catches a read past them).
  std::vector<double> shown(g.begin(), g.begin() + count);
  lrn::Params p;
  lrn::Dims dims;
  const char* error = lrn::read_geometry(shown.data(), count, length, &p, &dims);
  const char* expected = expected_error(shown, length);
  if ((error == nullptr) != (expected == nullptr)) {
    std::fprintf(stderr, "read_geometry: %s; expected: %s\n", error ? error : "accepted", expected ? expected : "accept");
    violation(shown, length, "read_geometry accepts exactly the valid geometries");
  }
  if (verbose) print_geometry(error ? error : "accepted", shown, length);
  if (error) {
    REQUIRE(error[0] != '\0', shown, length);
    return 0;
  }
  check_accepted(shown, length, p);
  if (length == 0) return 0;  // the binding calls no kernel for an empty array

  // The binding asks for the workspace of any accepted geometry (the arrays exist).
  size_t kernel_count = 0;
  const lrn::Kernel* const* kernels = lrn::all_kernels(&kernel_count);
  if (length <= (uint64_t{1} << 36)) {
    for (size_t i = 0; i < kernel_count; ++i)
      if (kernels[i]->supported()) (void)kernels[i]->workspace_bytes(p);
  }
  if (length <= kMaxElements && visits(p) <= kMaxVisits) {
    run_kernels(shown, p, in);
    return 0;
  }
  const std::vector<double> small = shrink(shown, p);
  const size_t small_length = elements(small);
  lrn::Params q;
  lrn::Dims small_dims;
  if (lrn::read_geometry(small.data(), small.size(), small_length, &q, &small_dims)) {
    violation(small, small_length, "shrunk geometry rejected");
  }
  check_accepted(small, small_length, q);
  if (verbose) print_geometry("shrunk to", small, small_length);
  run_kernels(small, q, in);
  return 0;
}
