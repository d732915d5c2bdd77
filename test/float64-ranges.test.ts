// Powers of B that leave float64's normal range while the results do not (docs/float64-ranges.md):
// B near float64's largest (a huge alpha) makes B^(-beta) and B^(-beta-1) subnormal or 0, B near
// 0 with a large beta makes them infinite. Every float64 evaluation (the fallback, the scalar
// kernel, the SIMD kernels' float64 paths and redos) once lost the results they scale there: the
// float32 gradient by up to 67%, the float64 output entirely. Checked on every backend, float32 and
// float64, against the float64 reference and docs/contract.md's bounds.
import { describe, expect, it } from 'vitest';
import { lrn, lrnBackward, type LrnOptions } from '../lib/index.js';
import { forEachBackend } from './helpers/backends.js';
import { refBackward, refForward, refParams } from './helpers/reference.js';
import { backwardBound, backwardError, forwardError } from './helpers/tolerance.js';

type FloatArray = Float32Array | Float64Array;
type Options = LrnOptions<FloatArray> & { shape: number[] };

/** Forward and backward of (x, dy) against the reference; null when both are within bounds. The
 *  backward's bound adds float64's 1e-12 of everything summed and what each t loses below float64's
 *  normal range (|2 a beta x| 2^-1074 per t summed; docs/contract.md, "Accuracy"). */
function check(x: FloatArray, dy: FloatArray, options: Options): string | null {
  const p = refParams(options);
  const forward = forwardError(lrn(x, options as LrnOptions<typeof x>), refForward(x, p));
  if (forward !== null) return `forward: ${forward}`;
  const ref = refBackward(x, dy, p);
  const magnitudes = refBackward(x.map(Math.abs), dy.map(Math.abs), p);
  const window = p.L + p.R + 1;
  const bound = backwardBound(ref.term1, ref.term2, x instanceof Float32Array).map(
    (b, i) =>
      b + 1e-12 * (Math.abs(magnitudes.term1[i]!) + Math.abs(magnitudes.term2[i]!)) +
      Math.abs(2 * p.a * p.beta * x[i]!) * window * 2 ** -1074,
  );
  const backward = backwardError(lrnBackward(x, dy as typeof x, options as LrnOptions<typeof x>), ref.dx, bound);
  return backward === null ? null : `backward: ${backward}`;
}

interface Family {
  name: string;
  k: number;
  alpha: number;
  beta: number;
  x: number;
  dy: number;
}

// alexnet's preset takes alpha as a; a window of 5.
const FAMILIES: Family[] = [
  { name: 'B near 1e300, beta 1.1: B^-beta subnormal, y about 1e-292', k: 1, alpha: 1e224, beta: 1.1, x: 1e38, dy: 1e38 },
  { name: 'B near 1e300, beta 1.3', k: 1, alpha: 1e224, beta: 1.3, x: 3e37, dy: 1 },
  { name: 'B near 1e300, beta 0.75 (square roots)', k: 1, alpha: 1e220, beta: 0.75, x: 1e38, dy: 1e30 },
  { name: 'B near 1e300, beta 0.5', k: 1, alpha: 1e226, beta: 0.5, x: 1e37, dy: 2 },
  { name: 'B near 2^1022, beta 0.2: B^(-beta-1) rounds to 0, t and dx normal', k: 2, alpha: 2 ** 900, beta: 0.2, x: 2 ** 60, dy: 2 ** 127 },
  { name: 'B near 2^1022, beta 0.05', k: 1, alpha: 2 ** 880, beta: 0.05, x: 2 ** 70, dy: 1e30 },
  { name: 'B near 1e-160, beta 2: B^-beta past float64\'s largest, y about 1e275', k: 1e-160, alpha: 1e-300, beta: 2, x: 1e-45, dy: 1e-45 },
  { name: 'B near 1e-300, beta 1.1', k: 1e-300, alpha: 1e-300, beta: 1.1, x: 1e-40, dy: 3e-38 },
];

function tensor(make: (n: number) => FloatArray, layout: 'NCHW' | 'NHWC', C: number, f: Family, pattern: number) {
  const positions = 5;
  const x = make(C * positions);
  const dy = make(C * positions);
  for (let i = 0; i < x.length; i++) {
    const c = layout === 'NHWC' ? i % C : Math.floor(i / positions) % C;
    x[i] = pattern === 1 && (i + c) % 3 === 0 ? 0 : (i + c) % 2 ? -f.x : f.x * (pattern === 2 ? 0.5 : 1);
    dy[i] = c % 2 ? f.dy : -0.75 * f.dy;
  }
  return { x, dy, shape: layout === 'NHWC' ? [1, positions, C] : [1, C, positions] };
}

forEachBackend(() => {
  for (const [type, make] of [['Float32Array', (n: number) => new Float32Array(n)], ['Float64Array', (n: number) => new Float64Array(n)]] as const) {
    describe(type, () => {
      it.each(FAMILIES)('$name', (f) => {
        const failures: string[] = [];
        for (const layout of ['NHWC', 'NCHW'] as const) {
          for (const C of [1, 3, 5, 9, 17]) {
            for (let pattern = 0; pattern < 3; pattern++) {
              const { x, dy, shape } = tensor(make, layout, C, f, pattern);
              const error = check(x, dy, { shape, layout, preset: 'alexnet', alpha: f.alpha, k: f.k, beta: f.beta });
              if (error !== null) failures.push(`${layout} C ${C} pattern ${pattern}: ${error}`);
            }
          }
        }
        expect(failures).toEqual([]);
      });
    });
  }

  it('float64: y = 1e38 * (1 + 1e300)^-1.1 is about 1e-292, not 0', () => {
    const y = lrn(new Float64Array([1e38]), { shape: [1, 1, 1], preset: 'alexnet', size: 1, alpha: 1e224, k: 1, beta: 1.1 });
    const third = Math.pow(1 + 1e224 * (1e38 * 1e38), -1.1 / 3); // a normal float64, unlike its cube
    expect(Math.abs(y[0]! / (1e38 * third * third * third) - 1)).toBeLessThan(1e-12);
    expect(y[0]).toBeGreaterThan(1e-293);
  });

  it('float32: the gradient where B^(-beta-1) rounds to 0 in float64 keeps its second term', () => {
    // One channel: dx = dy B^-beta (1 - 2 beta a x^2 / B), here 1 - 0.4 * a x^2 / B.
    const options = { shape: [1, 1, 1], preset: 'alexnet', size: 1, alpha: 2 ** 900, k: 2, beta: 0.2 } as const;
    const dx = lrnBackward(new Float32Array([2 ** 60]), new Float32Array([2 ** 127]), options);
    const B = 2 + 2 ** 1020;
    const want = 2 ** 127 * Math.pow(2, -0.2 * 1020) * (1 - (0.4 * 2 ** 1020) / B);
    expect(Math.abs(dx[0]! - want)).toBeLessThan(1e-5 * 2 ** 127 * Math.pow(2, -0.2 * 1020) * 1.4);
  });

  it('float64: dy * x past float64\'s largest while t is not (t = 1e-100 from dy 1e200, x 1e150)', () => {
    const options: Options = { shape: [1, 1, 1], preset: 'alexnet', size: 1, alpha: 1, k: 1, beta: 0.5 };
    const x = new Float64Array([1e150]);
    const dy = new Float64Array([1e200]);
    expect(check(x, dy, options)).toBeNull();
    // dx = dy B^-beta (1 - 2 beta a x^2 / B): term1 and term2 1e50 each, cancelling to about 1e-250.
    expect(Math.abs(lrnBackward(x, dy, options)[0]!)).toBeLessThan(1e39);
  });

  it('x = 0 with B^-beta past float64\'s largest (B positive) gives 0, not NaN', () => {
    const y = lrn(new Float64Array([0, 1e-45]), { shape: [1, 2, 1], preset: 'alexnet', size: 1, alpha: 1e-300, k: 1e-160, beta: 2 });
    expect(Object.is(y[0], 0)).toBe(true);
    expect(Math.abs(y[1]! / 1e275 - 1)).toBeLessThan(1e-12);
  });
});
