// Forward across-channels LRN: y = x * (k + a * sum of x^2 over channels [c-before, c+after])^(-beta).
// One kernel serves both layouts: it computes `count` outputs whose windows are `rows` values
// `rowStride` apart in `src`, squaring them on the fly, so no separate squares pass is needed.
// Windows of 3 and 5 (the presets' usual sizes) have unrolled loops; V8 runs a fixed sum about
// 1.5x faster than the generic inner loop.
import type { Plan } from '../options.js';
import type { FloatArray } from '../types.js';
import { positionsPerBlock } from './geometry.js';
import { timesInvPow } from './power.js';

/**
 * y[out + p] = src[center + p] * (k + a * sum_{j < rows} src[first + p + j*rowStride]^2)^(-beta)
 * for p in [0, count). Each square is formed in float64 (exact for float32 inputs).
 */
function normalize(
  src: FloatArray, first: number, rows: number, rowStride: number, center: number,
  y: FloatArray, out: number, count: number, k: number, a: number, beta: number,
): void {
  if (rows === 5) {
    const r1 = first + rowStride, r2 = r1 + rowStride, r3 = r2 + rowStride, r4 = r3 + rowStride;
    for (let p = 0; p < count; p++) {
      const v0 = src[first + p]!, v1 = src[r1 + p]!, v2 = src[r2 + p]!, v3 = src[r3 + p]!, v4 = src[r4 + p]!;
      y[out + p] = timesInvPow(src[center + p]!, k + a * (v0 * v0 + v1 * v1 + v2 * v2 + v3 * v3 + v4 * v4), beta);
    }
  } else if (rows === 3) {
    const r1 = first + rowStride, r2 = r1 + rowStride;
    for (let p = 0; p < count; p++) {
      const v0 = src[first + p]!, v1 = src[r1 + p]!, v2 = src[r2 + p]!;
      y[out + p] = timesInvPow(src[center + p]!, k + a * (v0 * v0 + v1 * v1 + v2 * v2), beta);
    }
  } else {
    const span = rows * rowStride;
    for (let p = 0; p < count; p++) {
      let s = 0;
      for (let j = first + p, end = first + p + span; j < end; j += rowStride) {
        const v = src[j]!;
        s += v * v;
      }
      y[out + p] = timesInvPow(src[center + p]!, k + a * s, beta);
    }
  }
}

/** The clipped window of channel c: its first channel and how many channels it has. */
function windowOf(c: number, channels: number, before: number, after: number): [number, number] {
  const lo = c - before > 0 ? c - before : 0;
  const hi = c + after < channels - 1 ? c + after : channels - 1;
  return [lo, hi - lo + 1];
}

/** copy[to..to + count) = x[from..from + count), by index: x's own methods (subarray) could be
 *  replaced on the instance. */
function copyRun(x: FloatArray, from: number, copy: FloatArray, to: number, count: number): void {
  for (let i = 0; i < count; i++) copy[to + i] = x[from + i]!;
}

/**
 * NCHW: channel c of batch b is a row of V positions. Out of place, whole rows are read straight
 * from x. In place, a block of positions of all channels is first copied to `copy`, as writing
 * row c would otherwise destroy values that channels c+1..c+before still need.
 */
export function forwardChannelRows(plan: Plan, x: FloatArray, y: FloatArray, copy: FloatArray | null): void {
  const { channels: C, spatialSize: V, before, after, k, a, beta } = plan;
  const block = copy === null ? V : positionsPerBlock(plan);
  for (let b = 0; b < plan.batch; b++) {
    for (let p0 = 0; p0 < V; p0 += block) {
      const count = Math.min(block, V - p0);
      const start = b * C * V + p0;
      let src = x;
      let base = start;
      let stride = V;
      if (copy !== null) {
        for (let c = 0; c < C; c++) copyRun(x, start + c * V, copy, c * count, count);
        src = copy;
        base = 0;
        stride = count;
      }
      for (let c = 0; c < C; c++) {
        const [lo, rows] = windowOf(c, C, before, after);
        normalize(src, base + lo * stride, rows, stride, base + c * stride, y, start + c * V, count, k, a, beta);
      }
    }
  }
}

/**
 * NHWC: the C channels of a position are contiguous. Channels whose window is not clipped by
 * the edges share one call; the edge channels get one call each.
 */
export function forwardChannelRuns(plan: Plan, x: FloatArray, y: FloatArray, copy: FloatArray | null): void {
  const { channels: C, before, after, k, a, beta } = plan;
  const positions = plan.batch * plan.spatialSize;
  const inner = Math.max(0, C - before - after); // channels with a whole window
  const firstInner = inner > 0 ? before : C;
  for (let p = 0, base = 0; p < positions; p++, base += C) {
    let src = x;
    let at = base;
    if (copy !== null) {
      copyRun(x, base, copy, 0, C);
      src = copy;
      at = 0;
    }
    if (inner > 0) normalize(src, at, before + after + 1, 1, at + before, y, base + before, inner, k, a, beta);
    for (let c = 0; c < C; c++) {
      if (c === firstInner) c += inner;
      if (c >= C) break;
      const [lo, rows] = windowOf(c, C, before, after);
      normalize(src, at + lo, rows, 1, at + c, y, base + c, 1, k, a, beta);
    }
  }
}
