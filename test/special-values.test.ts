// docs/contract.md's rules for NaN, infinities, zeros and extreme magnitudes ("NaN, Infinity
// and zero", "Accuracy").
import { describe, expect, it } from 'vitest';
import { lrn } from '../lib/index.js';
import { forEachBackend } from './helpers/backends.js';
import { refForward, refParams } from './helpers/reference.js';
import { forwardError } from './helpers/tolerance.js';

/** A [1, C, 1] tensor of ones with the given channels replaced. */
function channels(C: number, set: Record<number, number>, Ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array) {
  const x = new Ctor(C).fill(1);
  for (const [c, v] of Object.entries(set)) x[Number(c)] = v;
  return x;
}

forEachBackend(() => {
  describe.each([Float32Array, Float64Array])('%o', (Ctor) => {
    it('NaN makes exactly the outputs whose window holds it NaN', () => {
      const y = lrn(channels(9, { 4: NaN }, Ctor), { shape: [1, 9, 1] });
      expect(Array.from(y, Number.isNaN)).toEqual([false, false, true, true, true, true, true, false, false]);
    });

    it('NaN follows the even window of each preset', () => {
      const x = channels(8, { 4: NaN }, Ctor);
      const nanAt = (preset: 'pytorch' | 'onnx' | 'onednn') =>
        Array.from(lrn(x, { shape: [1, 8], preset, size: 4 }), Number.isNaN).flatMap((b, i) => (b ? [i] : []));
      expect(nanAt('pytorch')).toEqual([3, 4, 5, 6]); // window [c-2, c+1]
      expect(nanAt('onnx')).toEqual([2, 3, 4, 5]); // window [c-1, c+2]
      expect(nanAt('onednn')).toEqual([3, 4, 5]); // window [c-1, c+1]
    });

    it('Infinity gives NaN at its own position and signed zeros beside it', () => {
      const y = lrn(channels(7, { 3: Infinity, 4: -2 }, Ctor), { shape: [1, 7, 1], size: 3 });
      expect(Number.isNaN(y[3])).toBe(true);
      expect(Object.is(y[2], 0)).toBe(true);
      expect(Object.is(y[4], -0)).toBe(true);
      expect(y[0]! > 0 && y[6]! > 0 && Number.isFinite(y[0]!)).toBe(true);
      expect(Number.isNaN(lrn(channels(3, { 1: -Infinity }, Ctor), { shape: [1, 3] })[1])).toBe(true);
    });

    it('beta = 0 returns x unchanged, NaN windows included', () => {
      const x = channels(6, { 1: NaN, 2: -0, 3: 1e30, 4: Infinity }, Ctor);
      const y = lrn(x, { shape: [1, 6], beta: 0 });
      expect(Array.from(y).map(String)).toEqual(Array.from(x).map(String));
      expect(Object.is(y[2], -0)).toBe(true);
    });

    it('k = 0 over an all-zero window is NaN (0 * Infinity); zeros elsewhere stay signed zeros', () => {
      const x = new Ctor([0, -0, 0, 0, 0, 0, 0, 5]);
      const y = lrn(x, { shape: [1, 8], k: 0, size: 3 });
      expect(Array.from(y.subarray(0, 6), Number.isNaN)).toEqual([true, true, true, true, true, true]);
      expect(Object.is(y[6], 0)).toBe(true);
      expect(y[7]).toBeGreaterThan(0);
      const z = lrn(new Ctor([0, -0, 0]), { shape: [1, 3] });
      expect([Object.is(z[0], 0), Object.is(z[1], -0), Object.is(z[2], 0)]).toEqual([true, true, true]);
    });
  });

  it('float32 inputs near the largest float32 give finite, non-zero, accurate results', () => {
    const big = 3.4028234663852886e38;
    const x = new Float32Array([big, -big, big, 1, -3e38, 2.5e38, 1e-45, 0]);
    for (const preset of ['alexnet', 'pytorch', 'tensorflow'] as const) {
      const options = { shape: [1, 8], preset, size: 3 };
      const y = lrn(x, options);
      expect(forwardError(y, refForward(x, refParams(options)))).toBeNull();
      // Where |x| is huge the true result is a normal float32: never 0, Infinity or NaN.
      for (const i of [0, 1, 2, 4, 5]) expect(Number.isFinite(y[i]) && y[i] !== 0).toBe(true);
    }
  });

  it('subnormal float32 inputs with k = 0 stay accurate', () => {
    const x = new Float32Array([1e-45, 3e-42, -1e-40, 2e-39, 1e-38, 7e-44]);
    const options = { shape: [1, 6], k: 0, alpha: 1, size: 3 };
    expect(forwardError(lrn(x, options), refForward(x, refParams(options)))).toBeNull();
  });

  it('float64 inputs up to 1e150 keep 1e-12 relative accuracy', () => {
    const x = new Float64Array([1e150, -3e149, 1e-150, 7, -1e100, 2e120]);
    const options = { shape: [1, 6, 1], preset: 'onnx' as const, size: 3, alpha: 0.5 };
    expect(forwardError(lrn(x, options), refForward(x, refParams(options)))).toBeNull();
  });
});
