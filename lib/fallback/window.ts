// Window sums by direct addition. A running (add-one, subtract-one) sum would be O(1) per element
// but loses small windows next to large ones (catastrophic cancellation); every term here is a
// square (>= 0) or, for backward, summed only over the window, so direct sums keep the error at
// a few float64 ulps of the true sum.

/**
 * For `src` viewed as `[outer][m][stride]`, writes into `dst` the sum along the middle axis over
 * `[i - before, i + after]`, clipped to `[0, m)`. `src` and `dst` must not be the same array.
 */
export function windowSum(
  src: Float64Array, dst: Float64Array,
  outer: number, m: number, stride: number, before: number, after: number,
): void {
  const plane = m * stride;
  for (let o = 0; o < outer; o++) {
    const base = o * plane;
    for (let i = 0; i < m; i++) {
      const lo = i - before > 0 ? i - before : 0;
      const hi = i + after < m - 1 ? i + after : m - 1;
      const row = base + i * stride;
      let from = base + lo * stride;
      for (let s = 0; s < stride; s++) dst[row + s] = src[from + s]!;
      for (let j = lo + 1; j <= hi; j++) {
        from = base + j * stride;
        for (let s = 0; s < stride; s++) dst[row + s] = dst[row + s]! + src[from + s]!;
      }
    }
  }
}

/**
 * Box sum over every axis of `dims` (row-major), done one axis at a time (a box sum is
 * separable). Reads `data`, uses `tmp` as scratch, and returns whichever holds the result.
 */
export function boxSum(
  data: Float64Array, tmp: Float64Array, dims: readonly number[], before: number, after: number,
): Float64Array {
  let src = data;
  let dst = tmp;
  let outer = 1;
  let inner = dims.reduce((p, d) => p * d, 1);
  for (const m of dims) {
    inner /= m;
    windowSum(src, dst, outer, m, inner, before, after);
    outer *= m;
    [src, dst] = [dst, src];
  }
  return src;
}
