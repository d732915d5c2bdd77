// Checks every kernel this CPU supports against the float64 reference (reference.h: the formula
// evaluated element by element, sharing no code with the kernels), on random shapes chosen to hit
// edges: C < n, n = 1, even n, spatial sizes that are not multiples of any vector width,
// unaligned pointers, in place, and huge, subnormal, zero, NaN and Inf values. Exit status 0 when
// every check passes.
//   kernel_test [cases-per-kernel] [seed]
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "../core/lrn.h"
#include "../core/portable.h"
#include "reference.h"

namespace {

struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  double unit() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
};

// Spread: 1e-2 .. 1e2, so that a*S/k falls on both sides of where the kernels' series
// (lrn::series) gives way to the power. Cancel: x near 1 and dy (see check) 0 on even channels,
// near +-1 on odd ones, so that the backward's window sums of t nearly cancel where term1 is 0:
// the float32 paths must notice and redo those vectors. Large: 1e8 .. 1e17, where B^(-beta-1)
// falls below float32's normal range while B is still inside the float32 power's.
enum class Values { Unit, Huge, Tiny, Mixed, Zeros, Special, Spread, Cancel, Large };
const char* kValueNames[] = {"unit", "huge", "tiny", "mixed", "zeros", "special", "spread", "cancel", "large"};

float value(Rng& r, Values kind) {
  const double sign = r.unit() < 0.5 ? -1 : 1;
  switch (kind) {
    case Values::Unit: return static_cast<float>((r.unit() * 2 - 1) * 4);
    case Values::Huge: return static_cast<float>(sign * (1 + r.unit() * 2.4) * std::pow(10.0, 38 - r.unit() * 20));
    case Values::Tiny: return static_cast<float>(sign * (1 + r.unit()) * std::pow(10.0, -45 + r.unit() * 15));
    case Values::Mixed: return static_cast<float>(sign * (1 + r.unit() * 2.4) * std::pow(10.0, -45 + r.unit() * 83));
    case Values::Zeros: return r.unit() < 0.8 ? static_cast<float>(sign * 0.0) : static_cast<float>(r.unit());
    case Values::Spread: return static_cast<float>(sign * std::pow(10.0, r.unit() * 4 - 2));
    case Values::Cancel: return static_cast<float>(1 + r.unit() * 1e-3);
    case Values::Large: return static_cast<float>(sign * std::pow(10.0, 8 + r.unit() * 9));
    case Values::Special: {
      const double u = r.unit();
      if (u < 0.04) return std::numeric_limits<float>::quiet_NaN();
      if (u < 0.08) return std::numeric_limits<float>::infinity();
      if (u < 0.12) return -std::numeric_limits<float>::infinity();
      return static_cast<float>((r.unit() * 2 - 1) * 4);
    }
  }
  return 0;
}

struct Case {
  lrn::Params p;
  std::vector<int64_t> spatial;
  Values values;
  std::string describe() const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s %s N=%" PRId64 " C=%" PRId64 " S=%" PRId64 " [-%" PRId64 ",+%" PRId64
                  "] k=%g a=%g beta=%g values=%s",
                  p.layout == lrn::Layout::NCHW ? "NCHW" : "NHWC",
                  p.region == lrn::Region::AcrossChannels ? "across" : "within", p.batch, p.channels,
                  p.spatial_size, p.before, p.after, p.k, p.a, p.beta, kValueNames[static_cast<int>(values)]);
    return buf;
  }
};

Case random_case(Rng& r) {
  Case c;
  lrn::Params& p = c.p;
  p.layout = r.below(2) ? lrn::Layout::NHWC : lrn::Layout::NCHW;
  p.region = r.below(5) == 0 ? lrn::Region::WithinChannel : lrn::Region::AcrossChannels;
  p.batch = 1 + r.below(2);
  p.channels = 1 + r.below(40);
  const int rank = p.region == lrn::Region::WithinChannel ? 1 + static_cast<int>(r.below(3)) : static_cast<int>(r.below(3));
  for (int i = 0; i < rank; ++i) c.spatial.push_back(1 + r.below(rank == 1 ? 70 : 9));
  const int64_t n = 1 + r.below(16);
  switch (r.below(3)) {  // centred, PyTorch-like and ONNX-like even windows
    case 0: p.before = p.after = n / 2; break;
    case 1: p.before = n / 2; p.after = (n - 1) / 2; break;
    default: p.before = (n - 1) / 2; p.after = n / 2; break;
  }
  const double ks[] = {0, 0.5, 1, 2};
  const double as[] = {0, 1e-4, 2e-5, 1e-2, 1, 3.5};
  const double betas[] = {0, 0.5, 0.75, 1, 0.6, 1.3, 2, 0.001, 0.25, 0.9, 0.999};
  p.k = ks[r.below(4)];
  p.a = as[r.below(6)];
  p.beta = betas[r.below(sizeof betas / sizeof betas[0])];
  c.values = static_cast<Values>(r.below(9));
  return c;
}

void bind(Case& c) {
  c.p.spatial = c.spatial.data();
  c.p.spatial_rank = static_cast<int>(c.spatial.size());
  c.p.spatial_size = 1;
  for (int64_t d : c.spatial) c.p.spatial_size *= d;
}

// Largest float32 forward error seen (normal references), in units of 2^-24 (contract: 8).
double worst_units = 0;
// Largest float32 backward error as a fraction of the contract's bound (normal references).
double worst_backward = 0;

bool forward_ok(float y, double ref) {
  double units = 0;
  const bool ok = lrn::reference::forward_ok(y, ref, &units);
  if (ok) worst_units = std::max(worst_units, units);
  return ok;
}

struct Aligned {
  std::vector<double> storage;
  float* f32(size_t n, size_t offset) {
    storage.assign(n / 2 + 16, 0.0);
    return reinterpret_cast<float*>(storage.data()) + offset;
  }
};

int failures = 0;
void fail(const char* kernel, const char* what, const Case& c, int64_t i, double got, double want) {
  if (++failures <= 20) {
    std::printf("FAIL %s %s: %s: element %" PRId64 " got %.9g want %.9g\n", kernel, what, c.describe().c_str(), i, got, want);
  }
}

// Checks kernel k on one case's data (x and dy: its n elements, `offset` floats into their arrays).
// backward: whether the backward is checked too.
void check_data(const lrn::Kernel& k, const Case& c, float* x, float* dy, size_t offset, bool backward) {
  const lrn::Params& p = c.p;
  const int64_t n = p.length();
  Aligned ya, ga, ia;
  std::vector<double> x64(x, x + n), dy64(dy, dy + n);
  std::vector<unsigned char> work(std::max(k.workspace_bytes(p), lrn::portable::workspace_bytes(p)) + 64);
  void* w = work.data() + (64 - reinterpret_cast<uintptr_t>(work.data()) % 64) % 64;
  const std::vector<double> ref = lrn::reference::forward(p, x64.data());

  float* y = ya.f32(n + 8, offset);
  k.forward_f32(p, x, y, w);
  for (int64_t i = 0; i < n; ++i) {
    if (!forward_ok(y[i], ref[i])) { fail(k.name, "forward", c, i, y[i], ref[i]); break; }
  }
  float* inplace = ia.f32(n + 8, offset);
  std::memcpy(inplace, x, n * sizeof(float));
  k.forward_f32(p, inplace, inplace, w);
  if (std::memcmp(inplace, y, n * sizeof(float)) != 0) fail(k.name, "forward in place", c, 0, 0, 0);

  // float64 forward (values up to 3.4e38 have finite squares here).
  std::vector<double> y64(n);
  k.forward_f64(p, x64.data(), y64.data(), w);
  for (int64_t i = 0; i < n; ++i) {
    if (!lrn::reference::forward_ok(y64[i], ref[i])) { fail(k.name, "forward f64", c, i, y64[i], ref[i]); break; }
  }

  // Backward against the reference, with the bound of docs/contract.md, "Accuracy",
  // 1e-5 * (|term1| + |term2|) (float64: see reference.h).
  if (!backward) return;
  const lrn::reference::Gradient g = lrn::reference::backward(p, x64.data(), dy64.data());
  float* dx = ga.f32(n + 8, offset);
  k.backward_f32(p, x, dy, dx, w);
  for (int64_t i = 0; i < n; ++i) {
    // The contract's bound, with float64's where term2's sum cancels below its resolution.
    const double want = g.dx[i], bound = lrn::reference::backward_bound<float>(g, i);
    const bool ok = lrn::reference::backward_ok(dx[i], g, i);
    if (ok && std::isfinite(dx[i]) && std::isfinite(want) && bound > 0 && std::fabs(want) > 0x1p-126) {
      worst_backward = std::max(worst_backward, std::fabs(dx[i] - want) / bound);
    }
    if (!ok) {
      fail(k.name, "backward", c, i, dx[i], want);
      if (std::getenv("LRN_TEST_DUMP")) {
        const int64_t C = p.channels, S = p.spatial_size, q = i % S;
        for (int64_t j = 0; j < C; ++j) {
          std::printf("  c=%2lld x=%.9g dy=%.9g ref=%.9g got=%.9g\n", static_cast<long long>(j), x[j * S + q], dy[j * S + q],
                      g.dx[j * S + q], dx[j * S + q]);
        }
      }
      break;
    }
  }
  std::vector<double> dx64(n);
  k.backward_f64(p, x64.data(), dy64.data(), dx64.data(), w);
  for (int64_t i = 0; i < n; ++i) {
    if (!lrn::reference::backward_ok(dx64[i], g, i)) { fail(k.name, "backward f64", c, i, dx64[i], g.dx[i]); break; }
  }
  std::memcpy(inplace, dy, n * sizeof(float));
  k.backward_f32(p, x, inplace, inplace, w);
  if (std::memcmp(inplace, dx, n * sizeof(float)) != 0) fail(k.name, "backward in place (dy)", c, 0, 0, 0);
  std::memcpy(inplace, x, n * sizeof(float));
  k.backward_f32(p, inplace, dy, inplace, w);
  if (std::memcmp(inplace, dx, n * sizeof(float)) != 0) fail(k.name, "backward in place (x)", c, 0, 0, 0);
}

void check(const lrn::Kernel& k, Case& c, Rng& r) {
  bind(c);
  const lrn::Params& p = c.p;
  const int64_t n = p.length();
  const size_t offset = static_cast<size_t>(r.below(4));  // unaligned on purpose
  Aligned xa, da;
  float* x = xa.f32(n + 8, offset);
  float* dy = da.f32(n + 8, offset);
  for (int64_t i = 0; i < n; ++i) x[i] = value(r, c.values);
  // Sparse gradients (most dy zero, as behind a max pool) meet the zeros of x (ReLU).
  const Values dy_values = c.values == Values::Zeros ? Values::Zeros : Values::Unit;
  for (int64_t i = 0; i < n; ++i) dy[i] = value(r, dy_values);
  if (c.values == Values::Cancel) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t channel = p.layout == lrn::Layout::NHWC ? i % p.channels : i / p.spatial_size % p.channels;
      dy[i] = channel % 2 == 0 ? 0.0f : static_cast<float>((channel / 2 % 2 == 0 ? 1 : -1) * (1 + r.unit() * 1e-3));
    }
  }
  check_data(k, c, x, dy, offset, c.values != Values::Huge && c.values != Values::Mixed);
}

// ---- fixed cases: each family a class of wrong result once found (docs/float32-ranges.md) ----

// One fixed case: across channels, `positions` positions of C channels, window [-before, +after];
// x and dy from fill(element, channel).
template <class Fill>
void check_fixed(const lrn::Kernel& k, lrn::Layout layout, int64_t C, int64_t before, int64_t after, double kk, double a,
                 double beta, Fill fill) {
  Case c;
  c.p.layout = layout;
  c.p.batch = 1;
  c.p.channels = C;
  c.spatial = {5};
  c.p.before = std::min(before, C - 1);
  c.p.after = std::min(after, C - 1);
  c.p.k = kk;
  c.p.a = a;
  c.p.beta = beta;
  c.values = Values::Special;
  bind(c);
  const int64_t n = c.p.length();
  for (size_t offset = 0; offset < 2; ++offset) {
    Aligned xa, da;
    float* x = xa.f32(n + 8, offset);
    float* dy = da.f32(n + 8, offset);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t channel = layout == lrn::Layout::NHWC ? i % C : i / c.p.spatial_size % C;
      fill(i, channel, &x[i], &dy[i]);
    }
    check_data(k, c, x, dy, offset, true);
  }
}

constexpr float kFloatMax = std::numeric_limits<float>::max();

// dy * x * B^(-beta-1) past float32's largest while dx is finite: small k and beta, dy near the
// top of float32's range, x of both signs, C below and above the vector widths, every window
// placement (the one-pass NHWC backward once returned infinities here).
int overflowing_t(const lrn::Kernel& k) {
  const int before = failures;
  const int64_t channels[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17};
  const int64_t windows[][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 1}, {1, 2}, {2, 2}};
  const double ks[] = {1e-4, 2e-5, 0.1};
  const double betas[] = {1e-8, 1e-4, 0.6, 0.75};
  const float dys[] = {1.7e35f, -4.2e34f, 0.9f * kFloatMax, 2.0f};
  for (const lrn::Layout layout : {lrn::Layout::NHWC, lrn::Layout::NCHW})
    for (const int64_t C : channels)
      for (const auto& w : windows)
        for (const double kk : ks)
          for (const double beta : betas)
            for (int pattern = 0; pattern < 5; ++pattern) {
              check_fixed(k, layout, C, w[0], w[1], kk, 1e-4, beta, [&](int64_t i, int64_t ch, float* x, float* dy) {
                const float sign = pattern >= 1 && (i + ch) % 2 ? -1.0f : 1.0f;
                *x = sign * (ch % 3 == 0 ? -2.0f : -1.375f);
                if (pattern == 3) *dy = (ch % 2 ? -1.0f : 1.0f) * (i % 3 == 0 ? 2.0f : dys[i % 2 * 2]);
                // Two neighbours whose t are equal and opposite, past float32's largest.
                else if (pattern == 4) *dy = (ch % 2 ? -1.0f : 1.0f) * (i % 3 == 0 ? 2.0f : dys[0]);
                else *dy = pattern == 2 ? dys[(i + ch) % 4] : dys[pattern] * (ch % 2 ? 1.0f : -1.0f);
              });
            }
  return failures - before;
}

// cx = 2*a*beta*x rounded to a float32 subnormal or to 0 while term2 is far above the subnormals:
// a tiny x among neighbours whose t is large, its own dy 0 (so dx is term2 alone).
int subnormal_cx(const lrn::Kernel& k) {
  const int before = failures;
  const float tiny_x[] = {1e-40f, -3e-44f, 1e-45f, 1e-38f, 5e-36f};
  const float big_dy[] = {1e30f, 3e35f, 1e20f};
  for (const lrn::Layout layout : {lrn::Layout::NHWC, lrn::Layout::NCHW})
    for (const int64_t C : {3, 5, 9, 17})
      for (const float tx : tiny_x)
        for (const float dyv : big_dy)
          for (const double beta : {0.75, 0.6, 1e-4}) {
            check_fixed(k, layout, C, 2, 2, 2, 1e-4, beta, [&](int64_t, int64_t ch, float* x, float* dy) {
              *x = ch % 2 ? tx : 1.5f;
              *dy = ch % 2 ? 0.0f : dyv;
            });
          }
  return failures - before;
}

// k, a or 2*a*beta that float32 cannot hold within its precision (subnormal, 0 or infinite when
// rounded), on data reaching every route: the float32 paths must not use them.
int inexact_params(const lrn::Kernel& k) {
  const int before = failures;
  const double params[][3] = {{1e30, 1e39, 0.75}, {1e30, 1e39, 0.6}, {0x1p-90, 1e-45, 0.75}, {1, 1e-45, 0.5},
                              {0x1p-89, 3e-44, 0.6}, {2, 1e-30, 1e-10}, {1e-4, 1e-38, 1e-8}, {1, 1e-40, 1}};
  const float xs[] = {1.3e-5f, 1e-3f, 1.0f, 1e10f, 1e19f, 3e38f};
  for (const lrn::Layout layout : {lrn::Layout::NHWC, lrn::Layout::NCHW})
    for (const int64_t C : {1, 5, 9})
      for (const auto& q : params)
        for (const float xv : xs) {
          check_fixed(k, layout, C, 2, 2, q[0], q[1], q[2], [&](int64_t i, int64_t ch, float* x, float* dy) {
            *x = (i + ch) % 2 ? xv : -0.5f * xv;
            *dy = ch % 2 ? 1e30f : 1.0f;
          });
        }
  return failures - before;
}

// Squares below float32's normal range (rounded to a subnormal or to 0) with a large enough that
// what they lose moves B: the float32 window sum must not be trusted there.
int subnormal_squares(const lrn::Kernel& k) {
  const int before = failures;
  const float tiny_x[] = {1.58e-23f, -1.36e-23f, 1.6e-38f, 3e-30f, 1e-20f};
  for (const lrn::Layout layout : {lrn::Layout::NHWC, lrn::Layout::NCHW})
    for (const int64_t C : {2, 3, 9})
      for (const double a : {1e38, 1e33, 1e27})
        for (const double beta : {0.5, 0.75, 0.6, 1.0})
          for (const float tx : tiny_x) {
            check_fixed(k, layout, C, 0, 2, 0.001, a, beta, [&](int64_t i, int64_t ch, float* x, float* dy) {
              *x = (i + ch) % 3 == 0 ? -1.58e-38f : tx;
              *dy = 0;
            });
          }
  return failures - before;
}

// B^(-beta) or B^(-beta-1) outside float64's normal range while what they multiply is not: B near
// float64's largest (a huge a) with x near float32's, B near 0 with large beta, and B huge with
// small beta where t = dy*x*B^(-beta-1) stays in range. float64 once rounded those powers to
// subnormals or 0 (or infinity), losing the results they scale (docs/float64-ranges.md).
int powers_out_of_range(const lrn::Kernel& k) {
  const int before = failures;
  struct Family {
    double k, a, beta;
    float x, dy;
  };
  const Family families[] = {
      {1, 1e224, 1.1, 1e38f, 1e38f}, {1, 1e224, 1.3, 3e37f, 1.0f},  {1, 1e220, 0.75, 1e38f, 1e30f},
      {1, 1e226, 0.5, 1e37f, 2.0f},  {2, 0x1p900, 0.2, 0x1p60f, 0x1p127f}, {1, 0x1p880, 0.05, 0x1p70f, 1e30f},
      {1, 0x1p898, 0.6, 0x1p61f, 0x1p120f}, {1e-160, 1e-300, 2, 1e-45f, 1e-45f}, {1e-300, 1e-300, 1.1, 1e-40f, 3e-38f},
      {1e-200, 0, 1.6, 1e-44f, 1.0f},
  };
  for (const lrn::Layout layout : {lrn::Layout::NHWC, lrn::Layout::NCHW})
    for (const int64_t C : {1, 3, 5, 9, 17})
      for (const Family& f : families)
        for (int pattern = 0; pattern < 3; ++pattern) {
          check_fixed(k, layout, C, 2, 2, f.k, f.a, f.beta, [&](int64_t i, int64_t ch, float* x, float* dy) {
            *x = pattern == 1 && (i + ch) % 3 == 0 ? 0.0f : ((i + ch) % 2 ? -f.x : f.x * (pattern == 2 ? 0.5f : 1.0f));
            *dy = ch % 2 ? f.dy : -0.75f * f.dy;
          });
        }
  return failures - before;
}

}  // namespace

int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 3000;
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0x5eed;
  size_t count = 0;
  const lrn::Kernel* const* kernels = lrn::all_kernels(&count);
  int tested = 0;
  for (size_t i = 0; i < count; ++i) {
    const lrn::Kernel& k = *kernels[i];
    if (!k.supported()) {
      std::printf("skip %s: not supported on this CPU\n", k.name);
      continue;
    }
    Rng r{seed};
    const int before = failures;
    worst_units = 0;
    worst_backward = 0;
    const int overflowing = overflowing_t(k), subnormal = subnormal_cx(k), inexact = inexact_params(k),
              squares = subnormal_squares(k), powers = powers_out_of_range(k);
    std::printf("%s %s: fixed cases: overflowing t %d failures, subnormal cx %d, inexact k/a/2ab %d, subnormal squares %d, "
                "powers past float64 %d\n",
                overflowing + subnormal + inexact + squares + powers == 0 ? "ok  " : "FAIL", k.name, overflowing, subnormal,
                inexact, squares, powers);
    for (int j = 0; j < cases; ++j) {
      Case c = random_case(r);
      check(k, c, r);
    }
    std::printf("%s %s: %d random cases; worst float32 forward error %.2f x 2^-24 (the contract allows 8), backward %.3f of its bound\n",
                failures == before ? "ok  " : "FAIL", k.name, cases, worst_units, worst_backward);
    ++tested;
  }
  std::printf("best kernel: %s; %d kernels tested, %d failures\n", lrn::best_kernel()->name, tested, failures);
  return failures == 0 && tested > 0 ? 0 : 1;
}
