import type { Plan } from '../options.js';

/** Element (b, c, p) of the tensor sits at `b * batchStride + c * channelStride + p * positionStride`,
 *  p being the flat spatial index. */
export interface Geometry {
  readonly batchStride: number;
  readonly channelStride: number;
  readonly positionStride: number;
}

export function geometry(plan: Plan): Geometry {
  const batchStride = plan.channels * plan.spatialSize;
  return plan.layout === 'NCHW'
    ? { batchStride, channelStride: plan.spatialSize, positionStride: 1 }
    : { batchStride, channelStride: 1, positionStride: plan.channels };
}

/** Spatial positions handled together in across-channels LRN: all channels of a block of
 *  positions fit in about 128 KiB of float64 scratch. */
export function positionsPerBlock(plan: Plan): number {
  return Math.max(1, Math.min(plan.spatialSize, Math.floor(16384 / Math.max(1, plan.channels))));
}
