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

void check(const lrn::Kernel& k, Case& c, Rng& r) {
  bind(c);
  const lrn::Params& p = c.p;
  const int64_t n = p.length();
  const size_t offset = static_cast<size_t>(r.below(4));  // unaligned on purpose
  Aligned xa, ya, da, ga, ia;
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
  if (c.values == Values::Huge || c.values == Values::Mixed) return;
  const lrn::reference::Gradient g = lrn::reference::backward(p, x64.data(), dy64.data());
  float* dx = ga.f32(n + 8, offset);
  k.backward_f32(p, x, dy, dx, w);
  for (int64_t i = 0; i < n; ++i) {
    const double want = g.dx[i], bound = 1e-5 * g.terms[i];  // the contract's, for worst_backward
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
