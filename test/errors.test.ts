// docs/contract.md, "Bad input": each bad input gets its error class, a message naming the option,
// what was expected and what was received, and `out` is left untouched.
import { describe, expect, it } from 'vitest';
import { lrn, lrnAsync, lrnBackward } from '../lib/index.js';
import { forEachBackend } from './helpers/backends.js';

const SENTINEL = 42.5;
const x = () => Float32Array.from({ length: 24 }, (_, i) => i - 11.5);
const shape = [1, 6, 2, 2];

/** A Float32Array of 24 elements whose buffer has been transferred away. */
const detached = () => {
  const a = new Float32Array(24).fill(SENTINEL);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
};

type Row = [string, () => Record<string, unknown>, typeof TypeError | typeof RangeError, RegExp];

// [what, options (an `out` is added when absent), error class, message pattern]
const OPTION_ROWS: Row[] = [
  ['options not an object', () => null as unknown as Record<string, unknown>, TypeError, /expected an object with at least a shape for options but received null/],
  ['unknown option', () => ({ shape, sise: 5 }), TypeError, /expected one of .*'size'.* for an option name but received "sise"/],
  ['shape missing', () => ({}), TypeError, /options\.shape but received undefined/],
  ['shape not an array', () => ({ shape: '1,6,2,2' }), TypeError, /an array of integers for options\.shape but received "1,6,2,2" of type string/],
  ['shape entry not a number', () => ({ shape: [1, '6', 2, 2] }), TypeError, /options\.shape\[1\] but received "6" of type string/],
  ['rank 1', () => ({ shape: [24] }), RangeError, /at least 2 dimensions .* for options\.shape but received \[24\]/],
  ['negative dim', () => ({ shape: [1, -6, 2, -2] }), RangeError, /non-negative safe integer for options\.shape\[1\] but received -6/],
  ['fractional dim', () => ({ shape: [1, 6, 2.5, 2] }), RangeError, /options\.shape\[2\] but received 2\.5/],
  ['NaN dim', () => ({ shape: [1, 6, NaN, 2] }), RangeError, /options\.shape\[2\] but received NaN/],
  ['product too small', () => ({ shape: [1, 6, 2, 1] }), RangeError, /describe 24 elements .* whose product is 12/],
  ['product too large', () => ({ shape: [1, 6, 2, 3] }), RangeError, /whose product is more than 24/],
  ['product overflows', () => ({ shape: [2 ** 40, 2 ** 40, 2 ** 40, 0.5 + 0.5] }), RangeError, /whose product is more than 24/],
  ['unknown preset', () => ({ shape, preset: 'keras' }), TypeError, /one of 'alexnet', .* for options\.preset but received "keras"/],
  ['unknown layout', () => ({ shape, layout: 'nchw' }), TypeError, /one of 'NCHW', 'NHWC' for options\.layout but received "nchw"/],
  ['unknown region', () => ({ shape, region: 'within' }), TypeError, /options\.region but received "within"/],
  ['size not a number', () => ({ shape, size: '5' }), TypeError, /positive integer for options\.size but received "5" of type string/],
  ['size 0', () => ({ shape, size: 0 }), RangeError, /positive integer for options\.size but received 0 of type number/],
  ['size fractional', () => ({ shape, size: 2.5 }), RangeError, /options\.size but received 2\.5/],
  ['even size under caffe', () => ({ shape, preset: 'caffe', size: 4 }), RangeError, /odd integer \(preset 'caffe'.*options\.size but received 4/],
  ['even size under tensorflow', () => ({ shape, preset: 'tensorflow', layout: 'NCHW', size: 2 }), RangeError, /preset 'tensorflow'.*received 2/],
  ['alpha negative', () => ({ shape, alpha: -1 }), RangeError, /finite number >= 0 for options\.alpha but received -1/],
  ['alpha NaN', () => ({ shape, alpha: NaN }), RangeError, /options\.alpha but received NaN/],
  ['alpha string', () => ({ shape, alpha: '1e-4' }), TypeError, /options\.alpha but received "1e-4" of type string/],
  ['beta infinite', () => ({ shape, beta: Infinity }), RangeError, /options\.beta but received Infinity/],
  ['beta negative', () => ({ shape, beta: -0.75 }), RangeError, /options\.beta but received -0\.75/],
  ['k negative', () => ({ shape, k: -2 }), RangeError, /options\.k but received -2/],
  ['k bigint', () => ({ shape, k: 2n }), TypeError, /options\.k but received 2n of type bigint/],
  ['within-channel under pytorch', () => ({ shape, preset: 'pytorch', region: 'within-channel' }), RangeError, /preset 'pytorch' defines no within-channel LRN/],
  ['within-channel without spatial axes', () => ({ shape: [4, 6], region: 'within-channel' }), RangeError, /at least one spatial axis/],
  ['out of another type', () => ({ shape, out: new Float64Array(24).fill(SENTINEL) }), TypeError, /a Float32Array \(the input's type\) for options\.out but received a Float64Array of length 24/],
  ['out not a typed array', () => ({ shape, out: new Array(24).fill(SENTINEL) }), TypeError, /options\.out but received an Array of length 24/],
  ['out of another length', () => ({ shape, out: new Float32Array(25).fill(SENTINEL) }), RangeError, /length 24 \(the input's length\) for options\.out but received a Float32Array of length 25/],
  ['out detached', () => ({ shape, out: detached() }), TypeError, /^lrn: expected a Float32Array over attached memory for options\.out but received a detached Float32Array$/],
];

describe('input of the wrong kind is a TypeError', () => {
  it.each([
    ['an Array', [1, 2, 3, 4]],
    ['a Uint8Array', new Uint8Array(4)],
    ['a Buffer', Buffer.alloc(16)],
    ['an Int32Array', new Int32Array(4)],
    ['null', null],
    ['a number', 4],
  ])('%s', (_, input) => {
    expect(() => lrn(input as unknown as Float32Array, { shape: [1, 4] })).toThrow(TypeError);
    expect(() => lrn(input as unknown as Float32Array, { shape: [1, 4] }))
      .toThrow(/^lrn: expected a Float32Array or Float64Array for input but received /);
  });
});

forEachBackend(() => {
  describe('bad options', () => {
    it.each(OPTION_ROWS)('%s', (_, options, ErrorClass, message) => {
      const input = x();
      const opts = options();
      const out = (opts?.out ?? new Float32Array(24).fill(SENTINEL)) as Float32Array | number[];
      const withOut = opts === null ? null : { ...opts, out };
      const call = () => lrn(input, withOut as never);
      expect(call).toThrow(ErrorClass);
      expect(call).toThrow(message);
      expect(Array.prototype.every.call(out, (v) => v === SENTINEL)).toBe(true); // (a detached out reads as empty)
      expect(input).toEqual(x());
    });
  });

  describe('overlap between out and the inputs', () => {
    it('out partly overlapping the input is a RangeError, nothing written', () => {
      const memory = new Float32Array(30).fill(SENTINEL);
      const input = memory.subarray(0, 24);
      input.set(x());
      const out = memory.subarray(4, 28);
      const snapshot = memory.slice();
      expect(() => lrn(input, { shape, out })).toThrow(RangeError);
      expect(() => lrn(input, { shape, out })).toThrow(/options\.out .* partly overlaps input/);
      expect(memory).toEqual(snapshot);
    });

    it('a different view of exactly the input memory is in place', () => {
      const input = x();
      const alias = new Float32Array(input.buffer);
      const expected = lrn(x(), { shape });
      expect(lrn(input, { shape, out: alias })).toBe(alias);
      expect(input).toEqual(expected);
    });

    it('backward: out partly overlapping gradOutput is a RangeError', () => {
      const memory = new Float32Array(48);
      const dy = memory.subarray(0, 24);
      const out = memory.subarray(12, 36);
      expect(() => lrnBackward(x(), dy, { shape, out })).toThrow(/partly overlaps gradOutput/);
    });
  });

  describe('lrnBackward arguments', () => {
    it('gradOutput of another type is a TypeError', () => {
      expect(() => lrnBackward(x(), new Float64Array(24) as never, { shape }))
        .toThrow(new TypeError("lrnBackward: expected a Float32Array (the input's type) for gradOutput but received a Float64Array of length 24"));
    });
    it('gradOutput of another length is a RangeError', () => {
      expect(() => lrnBackward(x(), new Float32Array(23), { shape }))
        .toThrow(new RangeError("lrnBackward: expected length 24 (the input's length) for gradOutput but received a Float32Array of length 23"));
    });
    it('bad options are checked as in lrn', () => {
      const out = new Float32Array(24).fill(SENTINEL);
      expect(() => lrnBackward(x(), x(), { shape, size: 0, out })).toThrow(RangeError);
      expect(out.every((v) => v === SENTINEL)).toBe(true);
    });
  });

  describe('lrnAsync', () => {
    it('rejects bad input with the same errors instead of throwing', async () => {
      const promise = lrnAsync(x(), { shape: [2, 2] });
      await expect(promise).rejects.toThrow(RangeError);
      await expect(lrnAsync(x(), { shape, preset: 'keras' as never })).rejects.toThrow(TypeError);
    });
  });
});
