// The scalar kernel: the portable float64 code, which runs on every CPU. It is built without
// auto-vectorization so that it stays a scalar reference.
#include "lrn.h"
#include "portable.h"

namespace lrn {
namespace {

bool always() { return true; }
void forward_f32(const Params& p, const float* x, float* y, void* w) { portable::forward(p, x, y, w); }
void forward_f64(const Params& p, const double* x, double* y, void* w) { portable::forward(p, x, y, w); }
void backward_f32(const Params& p, const float* x, const float* dy, float* dx, void* w) {
  portable::backward(p, x, dy, dx, w);
}
void backward_f64(const Params& p, const double* x, const double* dy, double* dx, void* w) {
  portable::backward(p, x, dy, dx, w);
}

}  // namespace

extern const Kernel kScalarKernel;
const Kernel kScalarKernel = {
    "scalar", always, portable::workspace_bytes, forward_f32, backward_f32, forward_f64, backward_f64,
};

}  // namespace lrn
