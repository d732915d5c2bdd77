// Where results go: new arrays, `out`, in place, views with a byteOffset, shared memory, and
// empty tensors. The input is never modified unless it is `out`.
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { lrn, lrnAsync, lrnBackward, type LrnOptions } from '../lib/index.js';
import { forEachBackend } from './helpers/backends.js';
import { values } from './helpers/cases.js';
import { forwardF32Error } from './helpers/tolerance.js';

type Options = LrnOptions & { shape: number[] };
const CONFIGS: Array<[string, Options]> = [
  ['alexnet NCHW', { shape: [2, 13, 5, 3] }],
  ['onnx NHWC even', { shape: [2, 3, 5, 13], layout: 'NHWC', preset: 'onnx', size: 4, alpha: 0.1 }],
  ['onednn within 2d', { shape: [2, 3, 7, 5], preset: 'onednn', region: 'within-channel', size: 3, alpha: 0.5 }],
  ['caffe within NHWC', { shape: [1, 6, 5, 4], preset: 'caffe', layout: 'NHWC', region: 'within-channel', size: 3, alpha: 2 }],
];
const DTYPES = ['float32', 'float64'] as const;
const countOf = (o: Options) => o.shape.reduce((p, d) => p * d, 1);

forEachBackend(() => {
  describe.each(DTYPES)('%s', (dtype) => {
    const make = (o: Options, seed: number) => values({ dtype, magnitude: 'unit', seed }, countOf(o));

    it.each(CONFIGS)('%s: in place equals out of place, forward and backward', (_, o) => {
      const x = make(o, 1);
      const dy = make(o, 2);
      const y = lrn(x, o);
      const dx = lrnBackward(x, dy, o);

      const inPlace = x.slice();
      expect(lrn(inPlace, { ...o, out: inPlace })).toBe(inPlace);
      expect(inPlace).toEqual(y);

      const xInPlace = x.slice();
      expect(lrnBackward(xInPlace, dy, { ...o, out: xInPlace })).toBe(xInPlace);
      expect(xInPlace).toEqual(dx);

      const dyInPlace = dy.slice();
      expect(lrnBackward(x, dyInPlace, { ...o, out: dyInPlace })).toBe(dyInPlace);
      expect(dyInPlace).toEqual(dx);
    });

    it.each(CONFIGS)('%s: views with byteOffset read and write only their own range', (_, o) => {
      const n = countOf(o);
      const x = make(o, 3);
      const expected = lrn(x, o);
      const Ctor = x.constructor as Float32ArrayConstructor | Float64ArrayConstructor;
      const memory = new Ctor(n * 2 + 7).fill(-7.25);
      const inputView = new Ctor(memory.buffer, 3 * Ctor.BYTES_PER_ELEMENT, n);
      const outView = new Ctor(memory.buffer, (n + 5) * Ctor.BYTES_PER_ELEMENT, n);
      inputView.set(x);
      expect(lrn(inputView, { ...o, out: outView })).toBe(outView);
      expect(outView).toEqual(expected);
      expect(inputView).toEqual(x);
      for (const i of [0, 1, 2, n + 3, n + 4, 2 * n + 5, 2 * n + 6]) expect(memory[i]).toBe(-7.25);
    });

    it('reads SharedArrayBuffer memory and writes a fresh array', () => {
      const o = CONFIGS[0]![1];
      const x = make(o, 4);
      const Ctor = x.constructor as Float32ArrayConstructor | Float64ArrayConstructor;
      const shared = new Ctor(new SharedArrayBuffer(x.byteLength) as unknown as ArrayBuffer);
      shared.set(x);
      const y = lrn(shared, o);
      expect(y.buffer).not.toBe(shared.buffer);
      expect(y).toEqual(lrn(x, o));
    });

    it('returns a new array of the input type when out is absent or undefined', () => {
      const o = CONFIGS[1]![1];
      const x = make(o, 5);
      const y = lrn(x, { ...o, out: undefined });
      expect(y).not.toBe(x);
      expect(y.constructor).toBe(x.constructor);
      expect(y.length).toBe(x.length);
    });
  });

  it('computes inside Node Buffer memory', () => {
    const bytes = Buffer.allocUnsafe(4 * 24 + 8);
    const offset = bytes.byteOffset + 4;
    const x = new Float32Array(bytes.buffer, offset, 24).map((_, i) => i / 3);
    const y = lrn(x, { shape: [2, 12] });
    expect(y).toEqual(lrn(Float32Array.from(x), { shape: [2, 12] }));
  });

  describe('empty tensors return empty output', () => {
    it.each([[[0, 3, 4, 4]], [[1, 0, 5]], [[2, 3, 0]], [[0, 0]], [[3, 0, 2 ** 40, 2 ** 40]]])('shape %j', async (shape) => {
      for (const region of ['across-channels', 'within-channel'] as const) {
        if (region === 'within-channel' && shape.length < 3) continue;
        const x = new Float32Array(0);
        expect(lrn(x, { shape, region })).toEqual(new Float32Array(0));
        expect(lrnBackward(x, x, { shape, region })).toEqual(new Float32Array(0));
        expect(await lrnAsync(new Float64Array(0), { shape, region })).toEqual(new Float64Array(0));
      }
    });
  });

  it('lrnAsync gives exactly the lrn result, into out when given', async () => {
    const o = CONFIGS[0]![1];
    const x = values({ dtype: 'float32', magnitude: 'unit', seed: 9 }, countOf(o));
    const out = new Float32Array(x.length);
    await expect(lrnAsync(x, { ...o, out })).resolves.toBe(out);
    expect(out).toEqual(lrn(x, o));
  });
});

forEachBackend(() => {
  describe('large new outputs', () => {
    const shape = [4, 96, 55, 55]; // 4.6 MB, the size from which the native backend once mapped outputs itself
    const x = values({ dtype: 'float32', magnitude: 'unit', seed: 5 }, 4 * 96 * 55 * 55) as Float32Array;
    // This backend's result into `out`, the reference for its new outputs (made in each test: the
    // backend is chosen before each describe block's tests run, after it is collected).
    const reference = () => lrn(x, { shape, out: new Float32Array(x.length) });
    const same = (y: Float32Array, expected: Float32Array) =>
      y.length === x.length && Buffer.from(y.buffer, y.byteOffset, y.byteLength).equals(Buffer.from(expected.buffer));

    it('equal the out result, start at byteOffset 0, and meet the float64 result', () => {
      const expected = reference();
      for (let i = 0; i < 3; i++) {
        const y = lrn(x, { shape });
        expect(y).toBeInstanceOf(Float32Array);
        expect([y.byteOffset, y.length]).toEqual([0, x.length]);
        expect(same(y, expected)).toBe(true);
        expect(structuredClone(y)[1234]).toBe(expected[1234]);
      }
      const y64 = lrn(Float64Array.from(x), { shape });
      expect(y64).toBeInstanceOf(Float64Array);
      // The float64 result is the reference the float32 one must meet within the contract's bound.
      expect(forwardF32Error(expected, y64)).toBeNull();
    });

    it('are ordinary buffers: structuredClone and postMessage with a transfer list move them', () => {
      const expected = reference();
      const y = lrn(x, { shape });
      const cloned = structuredClone(y.buffer, { transfer: [y.buffer as ArrayBuffer] });
      expect([y.length, y.buffer.byteLength]).toEqual([0, 0]);
      expect(same(new Float32Array(cloned), expected)).toBe(true);

      const { port1, port2 } = new MessageChannel();
      try {
        const z = lrn(x, { shape });
        const buffer = z.buffer as ArrayBuffer;
        port1.postMessage(buffer, [buffer]);
        expect([z.length, buffer.byteLength]).toEqual([0, 0]);
        const received = receiveMessageOnPort(port2)?.message as ArrayBuffer;
        expect(same(new Float32Array(received), expected)).toBe(true);
      } finally {
        port1.close();
      }
    });

    type Transferable = ArrayBuffer & { transfer?(): ArrayBuffer };
    it.runIf(typeof (ArrayBuffer.prototype as Transferable).transfer === 'function')('are ordinary buffers: transfer() moves them', () => {
      const expected = reference();
      const y = lrn(x, { shape });
      const moved = (y.buffer as Transferable).transfer!();
      expect([y.length, y.buffer.byteLength]).toEqual([0, 0]);
      expect(same(new Float32Array(moved), expected)).toBe(true);
    });
  });
});
