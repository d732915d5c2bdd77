// Forward LRN in float64 (SPEC section 1): y = x * (k + a * S)^(-beta).
import type { Plan } from '../options.js';
import type { FloatArray } from '../types.js';
import { geometry, positionsPerBlock, type Geometry } from './geometry.js';
import { invPow } from './power.js';
import { scratch } from './scratch.js';
import { boxSum, windowSum } from './window.js';

/** Writes LRN of `x` into `y`; `y` may be `x` itself. */
export function forward(plan: Plan, x: FloatArray, y: FloatArray): void {
  if (plan.length === 0) return;
  if (plan.region === 'across-channels') forwardAcross(plan, x, y);
  else forwardWithin(plan, x, y);
}

/** Squares of x at (c, p0 + p) for all channels and `count` positions, as rows [c][p]. */
export function gatherSquares(
  x: FloatArray, start: number, g: Geometry, channels: number, count: number, sq: Float64Array,
): void {
  for (let c = 0; c < channels; c++) {
    let j = start + c * g.channelStride;
    const row = c * count;
    for (let p = 0; p < count; p++, j += g.positionStride) {
      const v = x[j]!;
      sq[row + p] = v * v;
    }
  }
}

/** y = x * (k + a * sums)^(-beta) for `count` elements from `start`, `stride` apart. */
export function scaleBySums(
  x: FloatArray, y: FloatArray, start: number, stride: number,
  sums: Float64Array, from: number, count: number, plan: Plan,
): void {
  const { k, a, beta } = plan;
  for (let i = 0, j = start; i < count; i++, j += stride) {
    y[j] = x[j]! * invPow(k + a * sums[from + i]!, beta);
  }
}

function forwardAcross(plan: Plan, x: FloatArray, y: FloatArray): void {
  const g = geometry(plan);
  const C = plan.channels;
  const block = positionsPerBlock(plan);
  const sq = scratch(0, C * block);
  const sums = scratch(1, C * block);
  for (let b = 0; b < plan.batch; b++) {
    for (let p0 = 0; p0 < plan.spatialSize; p0 += block) {
      const count = Math.min(block, plan.spatialSize - p0);
      const start = b * g.batchStride + p0 * g.positionStride;
      gatherSquares(x, start, g, C, count, sq);
      windowSum(sq, sums, 1, C, count, plan.before, plan.after);
      for (let c = 0; c < C; c++) {
        scaleBySums(x, y, start + c * g.channelStride, g.positionStride, sums, c * count, count, plan);
      }
    }
  }
}

function forwardWithin(plan: Plan, x: FloatArray, y: FloatArray): void {
  const g = geometry(plan);
  const V = plan.spatialSize;
  const sq = scratch(0, V);
  const tmp = scratch(1, V);
  for (let b = 0; b < plan.batch; b++) {
    for (let c = 0; c < plan.channels; c++) {
      const start = b * g.batchStride + c * g.channelStride;
      gatherSquares(x, start, g, 1, V, sq);
      const sums = boxSum(sq, tmp, plan.spatial, plan.before, plan.after);
      scaleBySums(x, y, start, g.positionStride, sums, 0, V, plan);
    }
  }
}
