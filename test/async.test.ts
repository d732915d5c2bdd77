// lrnAsync: the same numbers as lrn, split across threads, with the event loop left free and
// the arrays kept alive until the promise settles.
import { afterAll, describe, expect, it } from 'vitest';
import { backend, concurrency, lrn, lrnAsync, type LrnOptions } from '../lib/index.js';
import { split } from '../lib/native.js';
import { makePlan } from '../lib/options.js';
import { forEachBackend } from './helpers/backends.js';
import { childJson, runChild } from './helpers/child.js';
import { values, type Magnitude } from './helpers/cases.js';

/** Same bytes (NaN-safe, and much faster than a deep equality on large arrays). */
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const LARGE: Array<[string, LrnOptions & { shape: number[] }, Magnitude?]> = [
  ['NCHW across, batch 5', { shape: [5, 24, 31, 29] }],
  ['NHWC across, one image', { shape: [1, 61, 59, 24], layout: 'NHWC', preset: 'onnx', size: 4, alpha: 0.1 }],
  ['NCHW within', { shape: [3, 8, 67, 71], region: 'within-channel', size: 3, alpha: 0.5 }],
  ['beta 0.6', { shape: [4, 17, 37, 41], beta: 0.6, alpha: 0.3 }],
  // Values from 1e-2 to 1e2: positions on both sides of the native kernels' series range.
  ['NHWC beta 1.3, spread values', { shape: [1, 97, 89, 24], layout: 'NHWC', beta: 1.3 }, 'spread'],
  ['NCHW beta 1.3, spread values', { shape: [4, 24, 37, 41], beta: 1.3 }, 'spread'],
];

forEachBackend(() => {
  describe('lrnAsync', () => {
    it.each(LARGE)('%s: equals lrn for 1 to 5 threads, in place too', async (_, options, magnitude = 'unit') => {
      const length = options.shape.reduce((p, d) => p * d, 1);
      const x = values({ dtype: 'float32', magnitude, seed: length }, length);
      const expected = lrn(x, options);
      for (const threads of [1, 2, 3, 5]) {
        expect(sameBytes(await lrnAsync(x, { ...options, threads }), expected)).toBe(true);
      }
      const inPlace = x.slice();
      await lrnAsync(inPlace, { ...options, out: inPlace, threads: 3 });
      expect(sameBytes(inPlace, expected)).toBe(true);
    });
  });
});

describe('threads and concurrency()', () => {
  afterAll(() => concurrency(2));

  it('rejects a bad threads option; lrn has no threads option', async () => {
    const x = new Float32Array(8);
    await expect(lrnAsync(x, { shape: [2, 4], threads: 0 })).rejects.toThrow(new RangeError('lrnAsync: expected an integer from 1 to 1024 for options.threads but received 0 of type number'));
    await expect(lrnAsync(x, { shape: [2, 4], threads: 1.5 })).rejects.toThrow(RangeError);
    await expect(lrnAsync(x, { shape: [2, 4], threads: '2' as never })).rejects.toThrow(TypeError);
    expect(() => lrn(x, { shape: [2, 4], threads: 2 } as never)).toThrow(/for an option name but received "threads"/);
  });

  it('concurrency() gets and sets the default, checking the value', () => {
    const initial = concurrency();
    expect(Number.isInteger(initial) && initial >= 1).toBe(true);
    expect(concurrency(3)).toBe(3);
    expect(concurrency()).toBe(3);
    expect(() => concurrency(0)).toThrow(RangeError);
    expect(() => concurrency(Number.NaN)).toThrow(RangeError);
    expect(() => concurrency('4' as never)).toThrow(TypeError);
    expect(concurrency()).toBe(3);
  });

  it('splits by batch, or by position for NHWC across channels, never below 64K elements a part', () => {
    const plan = (shape: number[], layout: 'NCHW' | 'NHWC' = 'NCHW') =>
      makePlan('test', new Float32Array(shape.reduce((p, d) => p * d, 1)), { shape, layout });
    const nchw = split(plan([32, 96, 55, 55]), 4);
    expect(nchw.map((p) => p.plan.batch)).toEqual([8, 8, 8, 8]);
    expect(nchw.map((p) => p.offset)).toEqual([0, 8, 16, 24].map((b) => b * 96 * 3025));
    expect(split(plan([1, 96, 55, 55]), 4)).toHaveLength(1); // one batch item: no split
    const nhwc = split(plan([1, 55, 55, 96], 'NHWC'), 3);
    expect(nhwc.map((p) => p.plan.spatialSize).reduce((a, b) => a + b)).toBe(3025);
    expect(nhwc.every((p) => p.plan.length === p.plan.spatialSize * 96 && p.offset % 96 === 0)).toBe(true);
    expect(split(plan([4, 8, 8, 8]), 4)).toHaveLength(1); // 2048 elements
  });
});

describe.skipIf(backend().available.length === 0)('native lrnAsync off the main thread', () => {
  // The jobs wait at the test gate (LRN_TEST_HOOKS=1) until the test opens it, so they are in
  // flight for as long as the test needs, on any machine.
  it('leaves the event loop turning: timers and I/O run while the job is in flight', () => {
    const r = runChild(`
      binding.testGate(true);
      const shape = [8, 96, 21, 21];
      const x = Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.cos(i));
      const expected = m.lrn(x, { shape, beta: 0.6 });
      const order = [];
      const pending = m.lrnAsync(x, { shape, beta: 0.6, threads: 2 }).then((y) => {
        order.push('settled');
        return y.every((v, i) => v === expected[i]);
      });
      setTimeout(() => order.push('timer'), 1);
      require('node:fs').stat(process.execPath, () => order.push('io'));
      (async () => {
        await waitAtGate(2);
        while (order.length < 2) await new Promise((r) => setTimeout(r, 1));
        order.push('gate opened');
        binding.testGate(false);
        const exact = await pending;
        console.log(JSON.stringify({ order: [...order.slice(0, 2).sort(), ...order.slice(2)], exact }));
      })();`, { LRN_TEST_HOOKS: '1' });
    expect(childJson(r)).toEqual({ order: ['io', 'timer', 'gate opened', 'settled'], exact: true });
  });

  it('keeps its arrays alive while the job runs, with nothing else holding them', () => {
    const r = runChild(`
      binding.testGate(true);
      const shape = [8, 96, 21, 21];
      const n = shape.reduce((a, b) => a * b);
      const make = () => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
      const expected = m.lrn(make(), { shape, beta: 0.6 });
      const pending = m.lrnAsync(make(), { shape, beta: 0.6, threads: 2 });
      (async () => {
        await waitAtGate(2);
        for (let i = 0; i < 5; i++) { globalThis.gc(); new Float32Array(n).fill(7); }
        binding.testGate(false);
        const y = await pending;
        console.log(JSON.stringify(y.every((v, i) => v === expected[i])));
      })();`, { LRN_TEST_HOOKS: '1' });
    expect(childJson(r)).toBe(true);
  });
});
