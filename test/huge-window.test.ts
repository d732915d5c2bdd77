// Windows far larger than their axis (any safe integer size) sum the whole axis: every backend
// computes them without sizing memory or loops by `size`.
import { describe, expect, it } from 'vitest';
import { lrn, lrnAsync, type LrnOptions } from '../lib/index.js';
import { forEachBackend } from './helpers/backends.js';
import { values } from './helpers/cases.js';
import { forwardError } from './helpers/tolerance.js';

type Options = LrnOptions & { shape: number[] };

/** The expected result when every window covers its whole axis: one sum per channel group. */
function wholeAxis(x: ArrayLike<number>, groupOf: (i: number) => number, a: number): Float64Array {
  const sums = new Map<number, number>();
  for (let i = 0; i < x.length; i++) sums.set(groupOf(i), (sums.get(groupOf(i)) ?? 0) + x[i]! * x[i]!);
  return Float64Array.from({ length: x.length }, (_, i) => x[i]! * (2 + a * sums.get(groupOf(i))!) ** -0.75);
}

const SIZES = [5e8, 2 ** 53 - 1, 2 ** 31 + 1];

forEachBackend(() => {
  describe.each(SIZES)('size %d', (size) => {
    it('across channels, NCHW and NHWC, float32 and float64', async () => {
      for (const dtype of ['float32', 'float64'] as const) {
        const nchw: Options = { shape: [2, 96, 3], size, alpha: 0.01 };
        const x = values({ dtype, magnitude: 'unit', seed: 3 }, 2 * 96 * 3);
        const expected = wholeAxis(x, (i) => Math.floor(i / 288) * 3 + (i % 3), 0.01);
        expect(forwardError(lrn(x, nchw), expected)).toBeNull();
        expect(forwardError(await lrnAsync(x, nchw), expected)).toBeNull();
        const nhwc: Options = { shape: [2, 3, 96], layout: 'NHWC', size, alpha: 0.01 };
        expect(forwardError(lrn(x, nhwc), wholeAxis(x, (i) => Math.floor(i / 96), 0.01))).toBeNull();
      }
    });

    it('within channel: the box covers each plane', () => {
      const o: Options = { shape: [1, 3, 5, 7], region: 'within-channel', size, alpha: 0.01 };
      const x = values({ dtype: 'float32', magnitude: 'unit', seed: 4 }, 105);
      expect(forwardError(lrn(x, o), wholeAxis(x, (i) => Math.floor(i / 35), 0.01))).toBeNull();
    });
  });
});
