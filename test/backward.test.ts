// lrnBackward against a finite-difference gradient of lrn, computed through the public API.
import { describe, expect, it } from 'vitest';
import { lrn, lrnBackward, type LrnOptions } from '../lib/index.js';
import { forEachBackend } from './helpers/backends.js';
import { values } from './helpers/cases.js';

/** d/dx_i of sum(dy * lrn(x)) by central differences, in float64. */
function numericGradient(x: Float64Array, dy: Float64Array, options: LrnOptions<Float64Array>): Float64Array {
  const grad = new Float64Array(x.length);
  const probe = x.slice();
  const loss = () => lrn(probe, options).reduce((s, y, i) => s + y * dy[i]!, 0);
  for (let i = 0; i < x.length; i++) {
    const h = 1e-5 * Math.max(1, Math.abs(x[i]!));
    probe[i] = x[i]! + h;
    const up = loss();
    probe[i] = x[i]! - h;
    const down = loss();
    probe[i] = x[i]!;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

const CASES: Array<[string, LrnOptions<Float64Array>]> = [
  ['alexnet NCHW n=5', { shape: [2, 7, 3, 2] }],
  ['pytorch even n=4', { shape: [1, 9, 2, 3], preset: 'pytorch', size: 4, alpha: 0.5 }],
  ['onnx even n=2 NHWC', { shape: [1, 3, 2, 6], preset: 'onnx', layout: 'NHWC', size: 2, alpha: 0.3 }],
  ['onednn even n=6, beta 1.3', { shape: [1, 8, 5], preset: 'onednn', size: 6, alpha: 0.9, beta: 1.3 }],
  ['cudnn C < n', { shape: [2, 3, 4], preset: 'cudnn', size: 7, alpha: 2 }],
  ['tensorflow NHWC rank 2', { shape: [3, 12], preset: 'tensorflow', size: 5, alpha: 0.1 }],
  ['alexnet within 2d', { shape: [1, 2, 5, 4], region: 'within-channel', size: 3, alpha: 0.2 }],
  ['caffe within 2d', { shape: [1, 2, 4, 5], preset: 'caffe', region: 'within-channel', size: 3, alpha: 2 }],
  ['onednn within 3d NHWC, even n', { shape: [1, 3, 3, 4, 2], preset: 'onednn', layout: 'NHWC', region: 'within-channel', size: 2, alpha: 0.5 }],
  ['beta 0.5, k 0.5', { shape: [1, 6, 3], preset: 'pytorch', alpha: 1, beta: 0.5, k: 0.5 }],
  ['beta 1', { shape: [1, 6, 3], preset: 'onnx', alpha: 1, beta: 1 }],
];

forEachBackend(() => {
  describe('lrnBackward equals the finite-difference gradient', () => {
    it.each(CASES)('%s', (_, options) => {
      const length = options.shape.reduce((p, d) => p * d, 1);
      const x = values({ dtype: 'float64', magnitude: 'unit', seed: length * 7 + 1 }, length) as Float64Array;
      const dy = values({ dtype: 'float64', magnitude: 'unit', seed: length * 13 + 5 }, length) as Float64Array;
      const dx = lrnBackward(x, dy, options);
      const numeric = numericGradient(x, dy, options);
      const scale = Math.max(...numeric.map(Math.abs));
      for (let i = 0; i < length; i++) expect(Math.abs(dx[i]! - numeric[i]!)).toBeLessThan(1e-6 * scale);
    });
  });

  it('float32 backward agrees with float64 backward', () => {
    const options = { shape: [2, 11, 3, 3], preset: 'pytorch' as const, alpha: 0.5 };
    const x = values({ dtype: 'float32', magnitude: 'unit', seed: 3 }, 198) as Float32Array;
    const dy = values({ dtype: 'float32', magnitude: 'unit', seed: 4 }, 198) as Float32Array;
    const dx32 = lrnBackward(x, dy, options);
    const dx64 = lrnBackward(Float64Array.from(x), Float64Array.from(dy), options);
    const scale = Math.max(...dx64.map(Math.abs));
    dx64.forEach((v, i) => expect(Math.abs(dx32[i]! - v)).toBeLessThanOrEqual(1e-5 * scale));
  });
});
