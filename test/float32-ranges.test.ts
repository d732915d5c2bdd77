// Intermediates that leave float32's range while the result does not (docs/float32-ranges.md):
// each family is a class of wrong result the float32 paths once returned, checked through the
// public API on every backend against the float64 reference and docs/contract.md's bounds.
import { describe, expect, it } from 'vitest';
import { lrn, lrnBackward, type LrnOptions } from '../lib/index.js';
import { forEachBackend } from './helpers/backends.js';
import { refBackward, refForward, refParams } from './helpers/reference.js';
import { backwardBound, backwardError, forwardError } from './helpers/tolerance.js';

type Options = LrnOptions<Float32Array> & { shape: number[] };

const FLOAT32_MAX = 3.4028234663852886e38;

/** Checks lrn and lrnBackward on (x, dy) against the reference; null when both are within bounds:
 *  the float32 backward's, or where term2's sum cancels below float64's resolution (neighbours' t
 *  of 1e40 around one of 1e5: the reference itself loses the small one), float64's 1e-12 of
 *  everything summed (docs/contract.md, "Accuracy"). */
function check(x: Float32Array, dy: Float32Array, options: Options): string | null {
  const p = refParams(options);
  const forward = forwardError(lrn(x, options), refForward(x, p));
  if (forward !== null) return `forward: ${forward}`;
  const ref = refBackward(x, dy, p);
  // |term1| + |2 a beta x| * sum |t|: the reference on |x| and |dy| (B depends on x^2 only).
  const magnitudes = refBackward(x.map(Math.abs), dy.map(Math.abs), p);
  const bound = backwardBound(ref.term1, ref.term2, true).map(
    (b, i) => b + 1e-12 * (Math.abs(magnitudes.term1[i]!) + Math.abs(magnitudes.term2[i]!)),
  );
  const backward = backwardError(lrnBackward(x, dy, options), ref.dx, bound);
  return backward === null ? null : `backward: ${backward}`;
}

/** A tensor of `positions` positions of C channels, filled by fill(element, channel). */
function tensor(layout: 'NCHW' | 'NHWC', C: number, positions: number, fill: (i: number, c: number) => [number, number]) {
  const x = new Float32Array(C * positions);
  const dy = new Float32Array(C * positions);
  for (let i = 0; i < x.length; i++) {
    const c = layout === 'NHWC' ? i % C : Math.floor(i / positions) % C;
    [x[i], dy[i]] = fill(i, c);
  }
  return { x, dy, shape: layout === 'NHWC' ? [1, positions, C] : [1, C, positions] };
}

forEachBackend(() => {
  it('dy * x * B^(-beta-1) past float32 with a finite gradient (one NHWC channel)', () => {
    const x = new Float32Array(16).fill(-2);
    const dy = new Float32Array(16).fill(1.7e35);
    const options: Options = { shape: [1, 16, 1], layout: 'NHWC', preset: 'pytorch', size: 5, alpha: 5e-4, k: 1e-4, beta: 1e-4 };
    const dx = lrnBackward(x, dy, options);
    expect(Math.abs(dx[8]! - 1.7010205282945976e35)).toBeLessThan(1e-5 * 1.71e35);
    expect(check(x, dy, options)).toBeNull();
  });

  describe('t overflowing float32: few channels, small k and beta, dy near the top of float32, x of both signs', () => {
    const windows: Array<Pick<Options, 'preset' | 'size'>> = [
      { preset: 'alexnet', size: 1 },
      { preset: 'alexnet', size: 5 },
      { preset: 'pytorch', size: 4 },
      { preset: 'onnx', size: 2 },
    ];
    for (const layout of ['NHWC', 'NCHW'] as const) {
      for (const C of [1, 3, 7, 13]) {
        it(`${layout}, C = ${C}`, () => {
          const failures: string[] = [];
          for (const window of windows) {
            for (const [k, beta] of [[1e-4, 1e-4], [2e-5, 1e-8], [0.1, 0.6], [1e-4, 0.75]] as const) {
              for (const dyTop of [1.7e35, 0.9 * FLOAT32_MAX]) {
                const { x, dy, shape } = tensor(layout, C, 5, (i, c) => [
                  ((i + c) % 2 ? -1 : 1) * (c % 3 === 0 ? 2 : 1.375),
                  (c % 2 ? -1 : 1) * (i % 3 === 0 ? 2 : dyTop),
                ]);
                const options: Options = { shape, layout, ...window, alpha: 1e-4 * (window.preset === 'alexnet' ? 1 : window.size!), k, beta };
                const error = check(x, dy, options);
                if (error !== null) failures.push(`${JSON.stringify({ ...options, shape: undefined })}: ${error}`);
              }
            }
          }
          expect(failures).toEqual([]);
        });
      }
    }
  });

  it('2 * a * beta * x rounding to a float32 subnormal while term2 is not small', () => {
    const failures: string[] = [];
    for (const layout of ['NHWC', 'NCHW'] as const) {
      for (const tiny of [1e-40, -3e-44, 1e-45, 5e-36]) {
        for (const beta of [0.75, 0.6, 1e-4]) {
          // The tiny x's own dy is 0: its gradient is term2 alone, from large neighbours.
          const { x, dy, shape } = tensor(layout, 9, 4, (_, c) => (c % 2 ? [tiny, 0] : [1.5, 1e30]));
          const error = check(x, dy, { shape, layout, preset: 'alexnet', alpha: 1e-4, k: 2, beta });
          if (error !== null) failures.push(`${layout} x ${tiny} beta ${beta}: ${error}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('squares below float32\'s normal range with an alpha large enough that what they lose moves B', () => {
    const failures: string[] = [];
    for (const layout of ['NHWC', 'NCHW'] as const) {
      for (const alpha of [1e38, 1e33, 1e27]) {
        for (const beta of [0.5, 0.75, 0.6, 1]) {
          for (const tiny of [1.58e-23, -1.36e-23, 1e-20]) {
            const { x, dy, shape } = tensor(layout, 3, 4, (i, c) => [(i + c) % 3 === 0 ? -1.58e-38 : tiny, 0]);
            // AlexNet's window of 5 reaches every channel of three.
            const error = check(x, dy, { shape, layout, preset: 'alexnet', size: 5, alpha, k: 0.001, beta });
            if (error !== null) failures.push(`${layout} alpha ${alpha} beta ${beta} x ${tiny}: ${error}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('k, alpha or 2 * alpha * beta that float32 rounds to a subnormal, 0 or infinity', () => {
    const failures: string[] = [];
    const params = [
      { k: 1e30, alpha: 1e39, beta: 0.75 },
      { k: 2 ** -90, alpha: 1e-45, beta: 0.75 },
      { k: 1, alpha: 1e-45, beta: 0.5 },
      { k: 2, alpha: 1e-30, beta: 1e-10 },
      { k: 1, alpha: 1e-40, beta: 1 },
    ];
    for (const layout of ['NHWC', 'NCHW'] as const) {
      for (const q of params) {
        for (const v of [1.3e-5, 1, 1e19, 3e38]) {
          const { x, dy, shape } = tensor(layout, 5, 4, (i, c) => [(i + c) % 2 ? v : -0.5 * v, c % 2 ? 1e30 : 1]);
          const error = check(x, dy, { shape, layout, preset: 'alexnet', ...q });
          if (error !== null) failures.push(`${layout} ${JSON.stringify(q)} x ${v}: ${error}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
