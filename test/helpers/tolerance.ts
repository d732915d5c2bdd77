// docs/contract.md, "Accuracy", as checks that return the first violation (or null) so a failing
// test says where and by how much.

const F32_REL = 2 ** -21;
const F32_NORMAL_MIN = 2 ** -126;
const F32_ABS_SUBNORMAL = 4 * 2 ** -149;
const F64_REL = 1e-12;

function special(y: number, ref: number, rounded: number): boolean | undefined {
  if (Number.isNaN(ref)) return Number.isNaN(y);
  if (Number.isNaN(y)) return false;
  if (!Number.isFinite(rounded)) return y === rounded;
  return undefined;
}

/** float32 forward: `ref` is the float64 reference. Near float32's largest, an infinity is right
 *  where it is the rounding of a value within the bound, and float32's largest where it is within
 *  the bound of a reference past it (the rounding is monotonic: both sides of the boundary). */
export function forwardF32Error(y: ArrayLike<number>, ref: ArrayLike<number>): string | null {
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const v = y[i]!;
    let s: boolean | undefined;
    if (Number.isNaN(r) || Number.isNaN(v)) s = Number.isNaN(r) && Number.isNaN(v);
    else if (!Number.isFinite(v)) s = Math.fround(v > 0 ? r + F32_REL * Math.abs(r) : r - F32_REL * Math.abs(r)) === v;
    else if (!Number.isFinite(r)) s = false;
    const ok = s ?? (Math.abs(r) >= F32_NORMAL_MIN
      ? Math.abs(v - r) <= F32_REL * Math.abs(r)
      : Math.abs(v - r) <= F32_ABS_SUBNORMAL);
    if (!ok) return `element ${i}: got ${v}, reference ${r} (relative error ${Math.abs(v - r) / Math.abs(r)})`;
  }
  return null;
}

/** float64 forward. */
export function forwardF64Error(y: ArrayLike<number>, ref: ArrayLike<number>): string | null {
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const v = y[i]!;
    const ok = special(v, r, r) ?? Math.abs(v - r) <= F64_REL * Math.abs(r);
    if (!ok) return `element ${i}: got ${v}, reference ${r} (relative error ${Math.abs(v - r) / Math.abs(r)})`;
  }
  return null;
}

export function forwardError(y: Float32Array | Float64Array, ref: ArrayLike<number>): string | null {
  return y instanceof Float32Array ? forwardF32Error(y, ref) : forwardF64Error(y, ref);
}

/** Backward: dx is the rounding to its type of some value within `bound` of the reference
 *  (contract: `|dx - ref| <= bound`, where dx's type can hold the value), NaN exactly where the
 *  reference is NaN, the same infinity where the reference itself is infinite. Rounding is
 *  monotonic, so the acceptable results are every value from round(ref - bound) to
 *  round(ref + bound): where the terms cancel, the bound can reach past the float32 range and
 *  then an infinity of either sign is as right as a finite value. */
export function backwardError(dx: Float32Array | Float64Array, ref: ArrayLike<number>, bound: ArrayLike<number>): string | null {
  const round = dx instanceof Float32Array ? Math.fround : (v: number) => v;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const v = dx[i]!;
    const b = bound[i]!;
    let ok: boolean;
    if (Number.isNaN(r)) ok = Number.isNaN(v);
    else if (Number.isNaN(v)) ok = false;
    else if (!Number.isFinite(r)) ok = v === r;
    else ok = round(r - b) <= v && v <= round(r + b);
    if (!ok) return `element ${i}: got ${v}, reference ${r}, bound ${b}, error ${Math.abs(v - r)}`;
  }
  return null;
}

/** The backward bound of docs/contract.md, "Accuracy", from the two terms. */
export function backwardBound(term1: ArrayLike<number>, term2: ArrayLike<number>, float32: boolean): Float64Array {
  const factor = float32 ? 1e-5 : 1e-12;
  return Float64Array.from({ length: term1.length }, (_, i) => factor * (Math.abs(term1[i]!) + Math.abs(term2[i]!)));
}
