// Backward LRN in float64 (docs/contract.md, "Backward"):
//   dx[i] = dy[i] * B[i]^(-beta) - 2*a*beta * x[i] * sum_{c : i in W(c)} dy[c] * x[c] * B[c]^(-beta-1)
// The c with i in W(c) = [c - before, c + after] are [i - after, i + before]: the mirrored window.
import type { Plan } from '../options.js';
import type { FloatArray } from '../types.js';
import { squares } from './forward.js';
import { geometry, positionsPerBlock } from './geometry.js';
import { gradientTerms } from './power.js';
import { scratch } from './scratch.js';
import { boxSum, windowSum } from './window.js';

/** Writes the gradient of LRN at `x` for output gradient `dy` into `dx` (which may be x or dy). */
export function backward(plan: Plan, x: FloatArray, dy: FloatArray, dx: FloatArray): void {
  if (plan.length === 0) return;
  if (plan.region === 'across-channels') backwardAcross(plan, x, dy, dx);
  else backwardWithin(plan, x, dy, dx);
}

/**
 * Turns window sums S into the two per-element factors, with B = k + a*S: `sums[i]` becomes
 * term1 = dy * B^(-beta) and `t[i]` becomes dy * x * B^(-beta-1), for `count` elements `stride` apart.
 */
function factors(
  plan: Plan, x: FloatArray, dy: FloatArray, start: number, stride: number,
  sums: Float64Array, t: Float64Array, from: number, count: number,
): void {
  const { k, a, beta } = plan;
  for (let i = from, j = start; i < from + count; i++, j += stride) {
    gradientTerms(dy[j]!, x[j]!, k + a * sums[i]!, beta, sums, t, i);
  }
}

/** dx = term1 - 2*a*beta * x * tSums for `count` elements. */
function combine(
  plan: Plan, x: FloatArray, dx: FloatArray, start: number, stride: number,
  term1: Float64Array, tSums: Float64Array, from: number, count: number,
): void {
  const twoABeta = 2 * plan.a * plan.beta;
  for (let i = from, j = start; i < from + count; i++, j += stride) {
    dx[j] = term1[i]! - twoABeta * x[j]! * tSums[i]!;
  }
}

function backwardAcross(plan: Plan, x: FloatArray, dy: FloatArray, dx: FloatArray): void {
  const g = geometry(plan);
  const C = plan.channels;
  const block = positionsPerBlock(plan);
  const sq = scratch(0, C * block);
  const sums = scratch(1, C * block);
  const t = scratch(2, C * block);
  for (let b = 0; b < plan.batch; b++) {
    for (let p0 = 0; p0 < plan.spatialSize; p0 += block) {
      const count = Math.min(block, plan.spatialSize - p0);
      const start = b * g.batchStride + p0 * g.positionStride;
      for (let c = 0; c < C; c++) squares(x, start + c * g.channelStride, g.positionStride, count, sq, c * count);
      windowSum(sq, sums, 1, C, count, plan.before, plan.after);
      for (let c = 0; c < C; c++) {
        factors(plan, x, dy, start + c * g.channelStride, g.positionStride, sums, t, c * count, count);
      }
      windowSum(t, sq, 1, C, count, plan.after, plan.before);
      for (let c = 0; c < C; c++) {
        combine(plan, x, dx, start + c * g.channelStride, g.positionStride, sums, sq, c * count, count);
      }
    }
  }
}

function backwardWithin(plan: Plan, x: FloatArray, dy: FloatArray, dx: FloatArray): void {
  const g = geometry(plan);
  const V = plan.spatialSize;
  const sq = scratch(0, V);
  const tmp = scratch(1, V);
  const t = scratch(2, V);
  for (let b = 0; b < plan.batch; b++) {
    for (let c = 0; c < plan.channels; c++) {
      const start = b * g.batchStride + c * g.channelStride;
      squares(x, start, g.positionStride, V, sq, 0);
      const sums = boxSum(sq, tmp, plan.spatial, plan.before, plan.after);
      factors(plan, x, dy, start, g.positionStride, sums, t, 0, V);
      // boxSum hands back either of its two arrays; the other one is free for the second sum.
      const tSums = boxSum(t, sums === sq ? tmp : sq, plan.spatial, plan.after, plan.before);
      combine(plan, x, dx, start, g.positionStride, sums, tSums, 0, V);
    }
  }
}
