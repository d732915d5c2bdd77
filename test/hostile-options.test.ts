// Arguments that run code or share memory in unusual ways: options behind getters and Proxies
// (read exactly once, so what is checked is what is computed), arrays detached or resized by
// that code, and SharedArrayBuffer objects that alias one block of memory.
import { describe, expect, it } from 'vitest';
import { lrn, lrnAsync, lrnBackward } from '../lib/index.js';
import { forEachBackend } from './helpers/backends.js';

const SHAPE = [1, 6, 2, 2];
const input = () => Float32Array.from({ length: 24 }, (_, i) => (i - 11.5) / 4);
const grad = () => Float32Array.from({ length: 24 }, (_, i) => Math.sin(i));
const PLAIN = { shape: SHAPE, preset: 'onnx', size: 3, alpha: 0.5, beta: 0.75, k: 1, layout: 'NCHW', region: 'across-channels' } as const;

type Counts = Record<string, number>;
const bump = (counts: Counts, key: PropertyKey) => { counts[String(key)] = (counts[String(key)] ?? 0) + 1; };

/** A Proxy over `target` that counts each trap by property. */
function counted<T extends object>(target: T, counts: Counts): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      bump(counts, key);
      return Reflect.get(t, key, receiver);
    },
    ownKeys(t) {
      bump(counts, 'ownKeys()');
      return Reflect.ownKeys(t);
    },
  });
}

/** An options object whose every property is a getter that counts its calls. */
function getters(values: Record<string, unknown>, counts: Counts): Record<string, unknown> {
  const o = {};
  for (const [key, value] of Object.entries(values)) {
    Object.defineProperty(o, key, { enumerable: true, get: () => (bump(counts, key), value) });
  }
  return o;
}

type Call = 'lrn' | 'lrnBackward' | 'lrnAsync';
const CALLS: Call[] = ['lrn', 'lrnBackward', 'lrnAsync'];

/** Runs one of the three calls on fresh data, returning its result (or the error it gave). */
async function run(call: Call, options: unknown, x = input(), dy = grad()): Promise<Float32Array> {
  if (call === 'lrn') return lrn(x, options as never);
  if (call === 'lrnBackward') return lrnBackward(x, dy, options as never);
  return lrnAsync(x, options as never);
}

/** What a call gives with plain options: the reference for the hostile ones. */
const expected = (call: Call, options: Record<string, unknown> = PLAIN) => run(call, { ...options });

/** The call's error, as thrown or as the Promise's rejection. */
async function failure(f: () => unknown): Promise<Error> {
  try {
    await f();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

forEachBackend((name) => {
  describe('options are read exactly once', () => {
    it.each(CALLS)('%s: a Proxy shape has its length and each element read once', async (call) => {
      const counts: Counts = {};
      const y = await run(call, { ...PLAIN, shape: counted([...SHAPE], counts) });
      expect(y).toEqual(await expected(call));
      expect(counts).toEqual({ length: 1, 0: 1, 1: 1, 2: 1, 3: 1 });
    });

    it.each(CALLS)('%s: each getter of the options object runs once', async (call) => {
      const counts: Counts = {};
      const out = new Float32Array(24);
      const values: Record<string, unknown> = { ...PLAIN, out, ...(call === 'lrnAsync' ? { threads: 2 } : {}) };
      expect(await run(call, getters(values, counts))).toBe(out);
      expect(out).toEqual(await expected(call));
      expect(Object.values(counts).every((n) => n === 1)).toBe(true);
      expect(Object.keys(counts).sort()).toEqual(Object.keys(values).sort());
    });

    it.each(CALLS)('%s: a Proxy options object has its keys listed once and each option read once', async (call) => {
      const counts: Counts = {};
      const out = new Float32Array(24);
      await run(call, counted({ ...PLAIN, out, ...(call === 'lrnAsync' ? { threads: 1 } : {}) }, counts));
      expect(counts['ownKeys()']).toBe(1);
      expect(Object.entries(counts).filter(([, n]) => n !== 1)).toEqual([]);
      expect(out).toEqual(await expected(call));
    });

    it.each(CALLS)('%s: a shape whose elements change after their first read computes with the values first read', async (call) => {
      const reads: Counts = {};
      // The first read of each element gives the real dimension, later reads another one.
      const fickle = new Proxy([...SHAPE], {
        get(t, key, receiver) {
          if (typeof key === 'string' && /^\d+$/.test(key)) {
            bump(reads, key);
            return reads[key] === 1 ? Reflect.get(t, key, receiver) : 3;
          }
          return Reflect.get(t, key, receiver);
        },
      });
      expect(await run(call, { ...PLAIN, shape: fickle })).toEqual(await expected(call));
    });

    it.each(CALLS)('%s: getters that rewrite the shape array after it was read do not change the call', async (call) => {
      const shape = [...SHAPE];
      // Reading the last element, or the preset, rewrites the elements already read.
      Object.defineProperty(shape, 3, { enumerable: true, get: () => ((shape[1] = 3), 2) });
      const options = { ...PLAIN, shape, get preset() { shape[0] = 2; shape[2] = 1; return 'onnx' as const; } };
      expect(await run(call, options)).toEqual(await expected(call));
    });
  });

  describe('arrays detached or resized while the options are read', () => {
    const detach = (a: Float32Array) => { structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] }); };
    // Resizable ArrayBuffers (ES2024, Node 20) are newer than the lib these tests are typed with,
    // and than Node 18, where only the detach cases run.
    const RESIZABLE = typeof (ArrayBuffer.prototype as { resize?: unknown }).resize === 'function';
    type Resizable = ArrayBuffer & { resize(bytes: number): void };
    const Resizable = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => Resizable;
    const resizable = () => {
      const a = RESIZABLE ? new Float32Array(new Resizable(96, { maxByteLength: 192 })) : new Float32Array(24);
      a.set(input());
      return a;
    };
    type Growable = SharedArrayBuffer & { grow(bytes: number): void };
    const Growable = SharedArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => Growable;
    const resize = (a: Float32Array, bytes: number) => (a.buffer as Resizable).resize(bytes);
    const shrink = (a: Float32Array) => resize(a, 0);
    const grow = (a: Float32Array) => resize(a, 192);
    const CHANGES: Array<[string, (a: Float32Array) => void, RegExp]> = [
      ['detached', detach, /but it was detached$/],
      ...(RESIZABLE ? [
        ['shrunk', shrink, /but it was resized to 0 elements$/],
        ['grown', grow, /but it was resized to 48 elements$/],
      ] as Array<[string, (a: Float32Array) => void, RegExp]> : []),
    ];
    const ROWS: Array<[Call, 'input' | 'gradOutput' | 'options.out', string, (a: Float32Array) => void, RegExp]> = [];
    for (const call of CALLS) {
      for (const which of ['input', 'gradOutput', 'options.out'] as const) {
        if (which === 'gradOutput' && call !== 'lrnBackward') continue;
        for (const [how, change, message] of CHANGES) ROWS.push([call, which, how, change, message]);
      }
    }

    it.each(ROWS)('%s: %s %s by a getter is a TypeError naming it', async (call, which, _how, change, message) => {
      const x = which === 'input' ? resizable() : input();
      const dy = which === 'gradOutput' ? resizable() : grad();
      const out = which === 'options.out' ? resizable() : new Float32Array(24);
      const victim = { input: x, gradOutput: dy, 'options.out': out }[which];
      const options = { ...PLAIN, out, get preset() { change(victim); return 'onnx' as const; } };
      const error = await failure(() => run(call, options, x, dy));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(new RegExp(`^${call}: expected ${which} to stay attached, with its 24 elements, while the options were read, `));
      expect(error.message).toMatch(message);
    });

    it.each(CALLS)('%s: an input detached by a shape element getter is a TypeError', async (call) => {
      const x = input();
      const shape = [...SHAPE];
      Object.defineProperty(shape, 2, { enumerable: true, get: () => (detach(x), 2) });
      const error = await failure(() => run(call, { shape }, x));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(new RegExp(`^${call}: expected input to stay attached.* but it was detached$`));
    });

    it('lrnAsync: out detached by the threads getter is a TypeError', async () => {
      const out = new Float32Array(24);
      const options = { shape: SHAPE, out, get threads() { detach(out); return 2; } };
      await expect(lrnAsync(input(), options)).rejects.toThrow(TypeError);
      // A getter that detaches some other array leaves the call alone. (Spreading `options` would
      // run the getter again on `out`, whose buffer is already detached: a DataCloneError from
      // Node 22 on.)
      const other = new Float32Array(24);
      const unrelated = { shape: SHAPE, out: new Float32Array(24).fill(1), get threads() { detach(other); return 2; } };
      await expect(lrnAsync(input(), unrelated)).resolves.toHaveLength(24);
      expect(other.length).toBe(0);
    });

    // The native backend's arrays changing while its jobs run are tested with its test gate.
    it.runIf(name === 'fallback' && RESIZABLE)('lrnAsync: arrays changed before the work runs: the input as called, out rejected when its length changed', async () => {
      const x = input();
      const pending = lrnAsync(x, PLAIN);
      detach(x);
      expect(await pending).toEqual(await expected('lrn'));
      const rejection = {
        code: 'ERR_LRN_OUTPUT_DETACHED',
        message: 'lrnAsync: options.out was detached or resized while lrnAsync ran; its contents are unspecified',
      };
      for (const change of [shrink, grow]) {
        const out = resizable();
        const rejected = lrnAsync(input(), { ...PLAIN, out });
        change(out);
        await expect(rejected).rejects.toMatchObject(rejection);
      }
      const shared = new Float32Array(new Growable(96, { maxByteLength: 192 }) as unknown as ArrayBuffer);
      const grown = lrnAsync(input(), { ...PLAIN, out: shared });
      (shared.buffer as unknown as Growable).grow(192);
      await expect(grown).rejects.toMatchObject(rejection);
      // A fixed-length view over a buffer grown meanwhile keeps its length: computed normally.
      const fixed = new Float32Array(new Resizable(96, { maxByteLength: 192 }), 0, 24);
      const kept = lrnAsync(input(), { ...PLAIN, out: fixed });
      resize(fixed, 192);
      expect(await kept).toEqual(await expected('lrn'));
    });

    it.runIf(RESIZABLE)('a resizable buffer resized and restored before the call ends computes normally', async () => {
      const x = resizable();
      const options = { ...PLAIN, get preset() { shrink(x); grow(x); resize(x, 96); x.set(input()); return 'onnx' as const; } };
      expect(lrn(x, options)).toEqual(await expected('lrn'));
    });
  });

  describe('own properties on the arrays do not change what is checked or computed', () => {
    const lying = <T extends Float32Array | Float64Array>(a: T): T => {
      Object.defineProperties(a, {
        length: { value: 12 },
        byteLength: { value: 48 },
        byteOffset: { value: 8 },
        BYTES_PER_ELEMENT: { value: 4 },
        buffer: { get: () => { throw new Error('own buffer getter read'); } },
        subarray: { value: () => { throw new Error('own subarray called'); } },
      });
      return a;
    };

    it.each(['float32', 'float64'])('%s: lrn and lrnBackward, in place and not', (dtype) => {
      const make = (f: () => Float32Array) => (dtype === 'float32' ? f() : Float64Array.from(f()));
      const y = lrn(make(input), PLAIN);
      const dx = lrnBackward(make(input), make(grad), PLAIN);
      expect(lrn(lying(make(input)), PLAIN)).toEqual(y);
      const inPlace = lying(make(input));
      expect(lrn(inPlace, { ...PLAIN, out: inPlace })).toEqual(y);
      expect(lrnBackward(lying(make(input)), lying(make(grad)), { ...PLAIN, out: lying(make(grad)) })).toEqual(dx);
    });
  });

  describe('SharedArrayBuffer objects over the same memory', () => {
    const F = 4; // bytes per float32

    /** A float32 view of `count` elements at element `at` of `buffer`, filled with `fill`. */
    const view = (buffer: SharedArrayBuffer, at: number, count: number, fill?: () => Float32Array) => {
      const a = new Float32Array(buffer as unknown as ArrayBuffer, at * F, count);
      if (fill) a.set(fill());
      return a;
    };
    const bytes = (buffer: SharedArrayBuffer) => new Uint8Array(buffer).slice();

    it.each(CALLS)('%s: out partly overlapping the input through an alias is a RangeError, nothing written', async (call) => {
      const memory = new SharedArrayBuffer(40 * F);
      const alias = structuredClone(memory);
      const x = view(memory, 0, 24, input);
      const out = view(alias, 4, 24);
      const before = bytes(memory);
      const error = await failure(() => run(call, { ...PLAIN, out }, x));
      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toBe(
        `${call}: expected options.out to be input itself (in place) or memory apart from it, but it partly overlaps input ` +
        '(options.out bytes 16..112, input bytes 0..96 of the same memory)',
      );
      expect(bytes(memory)).toEqual(before);
    });

    it.each([1, 2])('lrnAsync with %i threads on a tensor large enough to split rejects a partial overlap through an alias', async (threads) => {
      const shape = [4, 96, 55, 55];
      const n = shape.reduce((p, d) => p * d, 1);
      const memory = new SharedArrayBuffer((n + 96) * F);
      const alias = structuredClone(memory);
      const x = new Float32Array(memory as unknown as ArrayBuffer, 0, n).fill(0.5);
      const out = new Float32Array(alias as unknown as ArrayBuffer, 96 * F, n);
      await expect(lrnAsync(x, { shape, out, threads })).rejects.toThrow(/partly overlaps input .* of the same memory\)$/);
      expect(x.every((v) => v === 0.5)).toBe(true);
      expect(out.subarray(n - 96).every((v) => v === 0)).toBe(true);
    });

    it('lrnBackward: out partly overlapping input or gradOutput through an alias is a RangeError', async () => {
      const memory = new SharedArrayBuffer(80 * F);
      const alias = structuredClone(memory);
      const x = view(memory, 0, 24, input);
      const dy = view(memory, 40, 24, grad);
      const before = bytes(memory);
      expect(() => lrnBackward(x, dy, { ...PLAIN, out: view(alias, 12, 24) })).toThrow(/partly overlaps input .*of the same memory\)$/);
      expect(() => lrnBackward(x, dy, { ...PLAIN, out: view(alias, 50, 24) })).toThrow(/partly overlaps gradOutput .*of the same memory\)$/);
      // Probed against input (apart), then against gradOutput (overlapping): the bytes are all restored.
      expect(() => lrnBackward(x, dy, { ...PLAIN, out: view(alias, 30, 24) })).toThrow(RangeError);
      expect(bytes(memory)).toEqual(before);
    });

    it.each(CALLS)('%s: out exactly the input memory through an alias computes in place', async (call) => {
      const memory = new SharedArrayBuffer(30 * F);
      const x = view(memory, 2, 24, input);
      const out = view(structuredClone(memory), 2, 24);
      expect(await run(call, { ...PLAIN, out }, x)).toBe(out);
      expect(Array.from(x)).toEqual(Array.from(await expected(call)));
    });

    it('lrnBackward: out exactly the gradOutput memory through an alias computes in place', () => {
      const memory = new SharedArrayBuffer(24 * F);
      const dy = view(memory, 0, 24, grad);
      const out = view(structuredClone(memory), 0, 24);
      expect(lrnBackward(input(), dy, { ...PLAIN, out })).toBe(out);
      expect(dy).toEqual(lrnBackward(input(), grad(), PLAIN));
    });

    it.each(CALLS)('%s: distinct SharedArrayBuffers at overlapping offsets compute normally and the probe changes nothing', async (call) => {
      const xMemory = new SharedArrayBuffer(40 * F);
      const outMemory = new SharedArrayBuffer(40 * F);
      const x = view(xMemory, 0, 24, input);
      const dy = view(xMemory, 12, 24, grad); // overlaps x; both are only read
      // The byte the probe writes first holds one of its markers in the other memory already.
      new Uint8Array(xMemory)[4 * F] = 0x5a;
      const xBytes = bytes(xMemory);
      const out = view(outMemory, 4, 24);
      expect(await run(call, { ...PLAIN, out }, x, dy)).toBe(out);
      expect(bytes(xMemory)).toEqual(xBytes);
      expect(out).toEqual(await run(call, PLAIN, x.slice(), dy.slice()));
    });

    it('empty arrays over aliased memory overlap nothing', () => {
      const memory = new SharedArrayBuffer(8 * F);
      const x = view(memory, 2, 0);
      const out = view(structuredClone(memory), 1, 0);
      expect(lrn(x, { shape: [0, 3], out })).toBe(out);
      expect(lrnBackward(x, view(memory, 1, 0), { shape: [0, 3], out })).toBe(out);
    });
  });
});
