// The portable float64 implementation. It is the `scalar` kernel, the float64 path of every
// kernel, and the fallback of the SIMD kernels for rare values (huge, tiny, NaN, Inf) and for
// the few elements at the end of a row that do not fill a vector.
#pragma once
#include <cstddef>
#include <cstdint>

#include "lrn.h"
#include "power.h"

namespace lrn::portable {

// Forward and backward over whole tensors, computed in float64; y/dx may alias as in Kernel.
size_t workspace_bytes(const Params& p);
void forward(const Params& p, const float* x, float* y, void* work);
void forward(const Params& p, const double* x, double* y, void* work);
void backward(const Params& p, const float* x, const float* dy, float* dx, void* work);
void backward(const Params& p, const double* x, const double* dy, double* dx, void* work);

}  // namespace lrn::portable
