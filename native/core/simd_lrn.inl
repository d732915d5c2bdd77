// SIMD float32 LRN, written once over a vector-ops struct `V` and compiled once per instruction
// set: each kernel_<isa>.cpp defines V and includes this file inside its own namespace, so no
// function compiled with one ISA's flags can be picked by the linker for another.
//
// V provides: kF float lanes, F (kF floats), D (kF/2 doubles); loadf/storef (unaligned), lo/hi
// (widen each half of an F to D), narrow(D, D) -> F, setf/setd, addd/subd/muld/divd/sqrtd,
// fmad(a, b, c) = a*b + c, loadd/stored, addf/mulf/divf/sqrtf/fmaf/absf, rsqrtf (~1 ulp), scale_m075
// (x * b^-0.75, a few units of 2^-24), load_n/store_n and load_nd/store_nd (floats, doubles:
// the first n lanes only; loads zero the rest), zerof, maxf, minf, between(F, lo, hi) (all lanes inside, false for NaN), masks M with
// ge/le/lt, and_/or_, all; kStripRegisters (vector registers an NCHW strip keeps squares in) and
// kStripPrefetchBytes (inputs above it: NCHW strips prefetch their rows); kShiftInRegisters, and when true
// shift_in_low<j>(cur, prev) / shift_in_high<j>(next, cur) (lanes of two vectors shifted by j).
// For float64 exp/log: bits(D) / from_bits, and 64-bit integer lanes with seti, addi, subi, andi,
// ori, srli52, slli52.
//
// Speed: where a*S/k is small for a whole vector, B^(-beta) is a short series in S (lrn::series;
// Series below), which is also exact enough to take float32 window sums for any beta; the
// float32 backward and within-channel paths rest on it. Otherwise:
//
// Accuracy: windows of up to 8 channels sum their squares in float32 (at most 8 roundings, a few
// units in the last place at worst) when beta is 0, 0.5, 0.75 or 1, or any beta up to 1 where V
// has a float32 power (kPowF32, and the primitives scale_pow uses: mant_exp, reciprocal,
// round_nearest, times_pow2); wider windows and larger betas (which would amplify the sum's
// error by beta) sum in float64. The power is taken in float32 on the float32 path, in
// float64 vectors (exp(-beta ln B)) on the float64 one for betas up to 7, only when B is well
// inside the float32 range; every other lane (huge, tiny, NaN, Inf, beta above 7) is finished in
// float64 from the original values, so results stay within the float32 bound of docs/contract.md
// ("Accuracy": 2^-21 relative) of the float64 reference.
//
// The includer includes <cstring> and "portable.h" at global scope first. Nothing here uses
// std templates: an out-of-line copy of one, compiled with this file's ISA flags, could be the
// copy the linker keeps for the whole program. Everything below has internal linkage.

namespace {

// The parts, in order (each uses only what the ones before it define).
#include "simd_common.inl"
#include "simd_forward_f64.inl"
#include "simd_forward_f32.inl"
#include "simd_within.inl"
#include "simd_backward.inl"

// ---- the Kernel entry points ----------------------------------------------------------------

size_t workspace_bytes(const lrn::Params& p) {
  const int64_t C = p.channels;
  const int64_t block = block_positions(p);
  const Padded px = padded_of(p, p.before), pt = padded_of(p, p.after);
  const size_t nchw = (2 * C * block + 2 * C) * sizeof(double);  // also covers the in-place forward copy
  const size_t nhwc = (pt.width + C + kF) * sizeof(double) + (2 * (px.width + p.after) + C + 2 * kF) * sizeof(float);
  const size_t nhwc_back = nhwc_back_d_doubles(p) * sizeof(double) + (nhwc_back_d_floats(p) + nhwc_back_f32_floats(p)) * sizeof(float);
  const size_t within = static_cast<size_t>(within_workspace_doubles(p)) * sizeof(double);
  const size_t nhwc_wide = static_cast<size_t>(2 * nhwc_squares_width(p)) * sizeof(double) + nhwc_series_floats(p) * sizeof(float);
  const size_t strip_copy = (2 * C * kF + strip_terms_floats(p)) * sizeof(float);  // backward_nchw_walk
  size_t simd = nchw > nhwc ? nchw : nhwc;
  simd = simd > strip_copy ? simd : strip_copy;
  simd = simd > nhwc_back ? simd : nhwc_back;
  simd = simd > within ? simd : within;
  simd = simd > nhwc_wide ? simd : nhwc_wide;
  const size_t portable = lrn::portable::workspace_bytes(p);
  return simd > portable ? simd : portable;
}


// Windows of up to kFloatRows sum in float32 where the float32 power takes beta
// (float32_power). Not where only the series would (as the backward does): the choice would
// depend on the data, and lrnAsync's parts must give exactly the bytes of the whole call.
bool float_sums(const lrn::Params& p) {
  return p.before + p.after + 1 <= kFloatRows && float32_power(p.beta);
}

// The float32-sum series is usable for these parameters (windows of up to kFloatRows).
bool series_takes(const lrn::Params& p) {
  return lrn::series::small_sum_series(p.k, p.a, p.beta, 0x1p-24, static_cast<int>(p.before + p.after + 2)).usable;
}

void forward_f32(const lrn::Params& p, const float* x, float* y, void* work) {
  if (p.length() == 0) return;
  if (p.region == lrn::Region::WithinChannel) forward_within(p, x, y, static_cast<double*>(work));
  else if (!float_sums(p)) {
    if (p.layout == lrn::Layout::NCHW && p.before + p.after + 1 <= kFloatRows) kForwardNchwD[p.before + p.after](p, x, y);
    else if (p.layout == lrn::Layout::NCHW) forward_nchw_wide(p, x, y, static_cast<float*>(work));
    else if (p.before + p.after + 1 <= kFloatRows && series_takes(p)) kForwardNhwcSeries[p.before + p.after](p, x, y, static_cast<double*>(work));
    else forward_nhwc_wide(p, x, y, static_cast<double*>(work));
  } else {
    kForwardFast[p.before + p.after](p, x, y, static_cast<float*>(work));
  }
}

void backward_f32(const lrn::Params& p, const float* x, const float* dy, float* dx, void* work) {
  if (p.length() == 0) return;
  if (p.region == lrn::Region::WithinChannel) lrn::portable::backward(p, x, dy, dx, work);
  // The float32 backward where its series (B^(-beta-1)) or the float32 power takes the data.
  else if (p.layout == lrn::Layout::NCHW && p.before + p.after + 1 <= kFloatRows &&
           (float32_power(p.beta) || series_fits_sample(p, p.beta + 1, x))) {
    kBackwardNchw[p.before + p.after](p, x, dy, dx, static_cast<float*>(work));
  }
  else if (p.layout == lrn::Layout::NCHW) backward_nchw(p, x, dy, dx, static_cast<double*>(work));
  else backward_nhwc(p, x, dy, dx, work);
}

void forward_f64(const lrn::Params& p, const double* x, double* y, void* work) {
  lrn::portable::forward(p, x, y, work);
}

void backward_f64(const lrn::Params& p, const double* x, const double* dy, double* dx, void* work) {
  lrn::portable::backward(p, x, dy, dx, work);
}

}  // namespace

#undef LRN_INLINE
#undef LRN_UNROLL
