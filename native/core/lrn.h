// Local Response Normalization kernel core: plain C++17 over pointers and sizes, no Node.
// y = x * (k + a * S)^(-beta), S = sum of x^2 over the window: docs/contract.md, "Operation".
#pragma once
#include <cstddef>
#include <cstdint>

namespace lrn {

enum class Layout : int { NCHW = 0, NHWC = 1 };
enum class Region : int { AcrossChannels = 0, WithinChannel = 1 };

// One call's shape and resolved parameters (the preset mapping is done by the caller).
struct Params {
  Layout layout = Layout::NCHW;
  Region region = Region::AcrossChannels;
  int64_t batch = 0;
  int64_t channels = 0;
  const int64_t* spatial = nullptr;  // spatial dimensions, `spatial_rank` of them
  int spatial_rank = 0;
  int64_t spatial_size = 1;          // product of the spatial dimensions
  int64_t before = 0;                // window [i - before, i + after] on each windowed axis
  int64_t after = 0;
  double k = 2;
  double a = 1e-4;
  double beta = 0.75;

  int64_t length() const { return batch * channels * spatial_size; }
};

// A set of kernels for one instruction set. Outputs may alias inputs exactly (in place):
// forward y == x; backward dx == x or dx == dy. Any other overlap is not allowed.
// `work` is scratch memory of at least workspace_bytes(params) bytes, 64-byte aligned.
struct Kernel {
  const char* name;
  bool (*supported)();  // CPU and OS can run it
  size_t (*workspace_bytes)(const Params&);
  void (*forward_f32)(const Params&, const float* x, float* y, void* work);
  void (*backward_f32)(const Params&, const float* x, const float* dy, float* dx, void* work);
  void (*forward_f64)(const Params&, const double* x, double* y, void* work);
  void (*backward_f64)(const Params&, const double* x, const double* dy, double* dx, void* work);
};

// Every kernel compiled into this build, best first (including ones this CPU cannot run).
const Kernel* const* all_kernels(size_t* count);

// The kernel named `name` if compiled in and supported here, else nullptr.
const Kernel* find_kernel(const char* name);

// The best supported kernel (never null: the scalar kernel runs everywhere).
const Kernel* best_kernel();

}  // namespace lrn
