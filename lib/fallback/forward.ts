// Forward LRN in float64 (docs/contract.md, "Operation"): y = x * (k + a * S)^(-beta).
import type { Plan } from '../options.js';
import type { FloatArray } from '../types.js';
import { sameMemory } from '../options.js';
import { forwardChannelRows, forwardChannelRuns } from './across.js';
import { geometry, positionsPerBlock } from './geometry.js';
import { timesInvPow } from './power.js';
import { scratch, scratchLike } from './scratch.js';
import { boxSum } from './window.js';

/** Writes LRN of `x` into `y`; `y` may be `x` itself. */
export function forward(plan: Plan, x: FloatArray, y: FloatArray): void {
  if (plan.length === 0) return;
  if (plan.region === 'within-channel') {
    forwardWithin(plan, x, y);
    return;
  }
  const nchw = plan.layout === 'NCHW';
  const copy = sameMemory(y, x)
    ? scratchLike(x, nchw ? plan.channels * positionsPerBlock(plan) : plan.channels)
    : null;
  if (nchw) forwardChannelRows(plan, x, y, copy);
  else forwardChannelRuns(plan, x, y, copy);
}

/** Squares of `count` elements of x from `start`, `stride` apart, into sq[to..]. */
export function squares(x: FloatArray, start: number, stride: number, count: number, sq: Float64Array, to: number): void {
  for (let p = 0, j = start; p < count; p++, j += stride) {
    const v = x[j]!;
    sq[to + p] = v * v;
  }
}

/** y = x * (k + a * sums)^(-beta) for `count` elements from `start`, `stride` apart. */
function scaleBySums(
  x: FloatArray, y: FloatArray, start: number, stride: number, sums: Float64Array, count: number, plan: Plan,
): void {
  const { k, a, beta } = plan;
  for (let i = 0, j = start; i < count; i++, j += stride) {
    y[j] = timesInvPow(x[j]!, k + a * sums[i]!, beta);
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
      squares(x, start, g.positionStride, V, sq, 0);
      const sums = boxSum(sq, tmp, plan.spatial, plan.before, plan.after);
      scaleBySums(x, y, start, g.positionStride, sums, V, plan);
    }
  }
}
