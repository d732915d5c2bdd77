// SPEC section 5, as checks that return the first violation (or null) so a failing test says
// where and by how much.

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

/** float32 forward: `ref` is the float64 reference. */
export function forwardF32Error(y: ArrayLike<number>, ref: ArrayLike<number>): string | null {
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const v = y[i]!;
    const s = special(v, r, Math.fround(r));
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

/** Backward: `|dx - ref| <= bound` per element, NaN exactly where the reference is NaN, the same
 *  infinity where the reference rounded to dx's type is infinite. */
export function backwardError(dx: Float32Array | Float64Array, ref: ArrayLike<number>, bound: ArrayLike<number>): string | null {
  const round = dx instanceof Float32Array ? Math.fround : (v: number) => v;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const v = dx[i]!;
    const ok = special(v, r, round(r)) ?? Math.abs(v - r) <= bound[i]!;
    if (!ok) return `element ${i}: got ${v}, reference ${r}, bound ${bound[i]}, error ${Math.abs(v - r)}`;
  }
  return null;
}

/** The SPEC section 5 backward bound from the two terms. */
export function backwardBound(term1: ArrayLike<number>, term2: ArrayLike<number>, float32: boolean): Float64Array {
  const factor = float32 ? 1e-5 : 1e-12;
  return Float64Array.from({ length: term1.length }, (_, i) => factor * (Math.abs(term1[i]!) + Math.abs(term2[i]!)));
}
