// local-response-norm/tfjs (docs/tfjs.md): tf.localResponseNormalization and its gradient through
// tf.grad, on tfjs-backend-cpu and -wasm, with tfjs's own kernels and with this package's, against
// the float64 reference and each other at the tolerance of docs/contract.md, "Accuracy"; tfjs's
// own kernels back exactly after unregistering; no tensor leaked.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerTfjsKernels, unregisterTfjsKernels, type Tfjs, type TfjsKernelConfig } from '../lib/tfjs.js';
import { forEachBackend } from './helpers/backends.js';
import { GOLDEN_CASES, GOLDEN_DIR, type GoldenCase } from './helpers/golden.js';
import { readNpy } from './helpers/npy.js';
import { refBackward, refForward, refParams } from './helpers/reference.js';
import { backwardBound, backwardError, forwardF32Error } from './helpers/tolerance.js';

const TF_BACKENDS = ['cpu', 'wasm'] as const;

interface Case {
  name: string;
  /** The tensor's shape as tfjs gets it: NHWC, or [H, W, C]. */
  shape: number[];
  depthRadius: number; bias: number; alpha: number; beta: number;
  x: Float32Array; dy: Float32Array;
  /** float64 reference: y, dx and the backward bound of the contract. */
  y64: ArrayLike<number>; dx64: ArrayLike<number>; bound: ArrayLike<number>;
}

function random(seed: number, length: number, scale: number): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 2 ** 32 * 2 - 1) * scale;
  }
  return out;
}

/** A case with the reference computed by test/helpers/reference.ts; `golden` replaces parts. */
function makeCase(name: string, shape: number[], attrs: { depthRadius: number; bias: number; alpha: number; beta: number },
  x: Float32Array, dy: Float32Array, golden: Partial<Pick<Case, 'y64' | 'dx64' | 'bound'>> = {}): Case {
  const nhwc = shape.length === 3 ? [1, ...shape] : shape;
  const p = refParams({ shape: nhwc, preset: 'tensorflow', size: 2 * attrs.depthRadius + 1, alpha: attrs.alpha, beta: attrs.beta, k: attrs.bias });
  const { dx, term1, term2 } = refBackward(x, dy, p);
  return { name, shape, ...attrs, x, dy, y64: refForward(x, p), dx64: dx, bound: backwardBound(term1, term2, true), ...golden };
}

/** NCHW to NHWC, for the golden case stored as NCHW. */
function toNhwc(a: ArrayLike<number>, [n, c, h, w]: number[]): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < n!; i++) for (let j = 0; j < c!; j++) for (let k = 0; k < h! * w!; k++) {
    out[(i * h! * w! + k) * c! + j] = a[(i * c! + j) * h! * w! + k]!;
  }
  return out;
}

const golden = (name: string) => GOLDEN_CASES.find((c) => c.name === name)!;
const load = (file: string) => readNpy(join(GOLDEN_DIR, file));
const attrsOf = (g: GoldenCase) =>
  ({ depthRadius: (g.resolved.size - 1) / 2, bias: g.resolved.k, alpha: g.resolved.alpha, beta: g.resolved.beta });
const count = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

const CASES: Case[] = (() => {
  const list: Case[] = [];
  // The golden cases of the tensorflow preset, with their stored float64 references.
  for (const name of ['tensorflow_defaults_nhwc', 'tensorflow_s1_rank3_nhwc']) {
    const g = golden(name);
    const x = load(g.files.input!) as Float32Array;
    list.push(makeCase(`golden ${name}`, g.shape, attrsOf(g), x, random(7, x.length, 1), { y64: load(g.files.ref64!) }));
  }
  {
    const g = golden('tensorflow_s5_nchw');
    const [n, c, h, w] = g.shape as [number, number, number, number];
    const x = Float32Array.from(toNhwc(load(g.files.input!), g.shape));
    list.push(makeCase('golden tensorflow_s5_nchw (as NHWC)', [n, h, w, c], attrsOf(g), x, random(8, x.length, 1),
      { y64: toNhwc(load(g.files.ref64!), g.shape) }));
  }
  {
    const g = golden('backward_tensorflow_nhwc');
    const x = load(g.files.input!) as Float32Array;
    list.push(makeCase('golden backward_tensorflow_nhwc', g.shape, attrsOf(g), x, load(g.files.gradOutput!) as Float32Array,
      { dx64: load(g.files.ref64!), bound: load(g.files.bound!) }));
  }
  const more: Array<[string, number[], number, number, number, number, number]> = [
    // name, shape, depthRadius, bias, alpha, beta, input scale
    ['odd C, AlexNet parameters', [2, 3, 5, 7], 2, 2, 1e-4, 0.75, 3],
    ['even C, beta 0.6', [1, 4, 6, 16], 3, 1, 0.5, 0.6, 1],
    ['C < n (C 3, n 11), tfjs defaults', [3, 2, 2, 3], 5, 1, 1, 0.5, 2],
    ['C 96, large values', [2, 5, 5, 96], 2, 2, 1e-4, 0.75, 100],
    ['even C 32, n 1', [2, 3, 4, 32], 0, 1.5, 0.2, 0.75, 2],
    ['C 33, beta 1', [2, 3, 3, 33], 4, 0.5, 0.01, 1, 3],
    ['one element', [1, 1, 1, 1], 1, 1, 1, 0.5, 2],
  ];
  more.forEach(([name, shape, depthRadius, bias, alpha, beta, scale], i) => {
    list.push(makeCase(name, shape, { depthRadius, bias, alpha, beta },
      random(100 + i, count(shape), scale), random(200 + i, count(shape), 1)));
  });
  return list;
})();

/** tf.localResponseNormalization of a case and its gradient through tf.grad, as plain arrays. */
function run(c: Case): { y: Float32Array; dx: Float32Array } {
  const f = lrnOf(c);
  const x = tensor(c.x, c.shape);
  const dy = tensor(c.dy, c.shape);
  const y = f(x);
  const dx = tf.grad(f)(x, dy);
  expect(y.shape).toEqual(c.shape);
  expect(dx.shape).toEqual(c.shape);
  tf.dispose([x, dy]);
  return { y: dataOf(y), dx: dataOf(dx) };
}

/** A float32 tensor of any rank, typed as the 4-D one tf.localResponseNormalization takes. */
function tensor(values: Float32Array, shape: number[]): tf.Tensor4D {
  const t: tf.Tensor = tf.tensor(values, shape, 'float32');
  return t as tf.Tensor4D;
}

/** tf.localResponseNormalization with a case's attrs, typed for tf.grad. */
const lrnOf = (c: Case) => (t: tf.Tensor): tf.Tensor =>
  tf.localResponseNormalization(t as tf.Tensor4D, c.depthRadius, c.bias, c.alpha, c.beta);

/** A tensor's values, the tensor disposed (not through tf.tidy, which walks a returned array). */
function dataOf(t: tf.Tensor): Float32Array {
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return data;
}

const getKernel = (name: string, backend: string) => tf.getKernel(name, backend) as unknown as TfjsKernelConfig;

let originals: Map<string, TfjsKernelConfig>;

beforeAll(async () => {
  // tfjs-core's Node bundle registers no gradients; tfjs's own LRN gradient (which runs the
  // LRNGrad kernel with x, y and dy), and Reshape's for 3-D inputs, are loaded from their modules.
  const { lrnGradConfig } = await import('@tensorflow/tfjs-core/dist/gradients/LRN_grad.js');
  const { reshapeGradConfig } = await import('@tensorflow/tfjs-core/dist/gradients/Reshape_grad.js');
  tf.registerGradient(lrnGradConfig);
  tf.registerGradient(reshapeGradConfig);
  // tfjs-backend-cpu's one-time banner about tfjs-node, printed on the first tensor.
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  await tf.setBackend('cpu');
  tf.tensor([0]).dispose();
  warn.mockRestore();
  originals = new Map();
  for (const backend of TF_BACKENDS) for (const name of ['LRN', 'LRNGrad']) originals.set(`${backend} ${name}`, getKernel(name, backend));
});

afterAll(() => unregisterTfjsKernels(tf));

describe.each(TF_BACKENDS)('tfjs-backend-%s', (backendName) => {
  let own: Map<string, { y: Float32Array; dx: Float32Array }>;

  beforeAll(async () => {
    expect(await tf.setBackend(backendName)).toBe(true);
    await tf.ready();
    own = new Map(CASES.map((c) => [c.name, run(c)]));
  });

  it.each(CASES.map((c) => [c.name, c] as const))("tfjs's own kernels meet the contract: %s", (_, c) => {
    const { y, dx } = own.get(c.name)!;
    expect(forwardF32Error(y, c.y64)).toBeNull();
    expect(backwardError(dx, c.dx64, c.bound)).toBeNull();
  });

  forEachBackend(() => {
    beforeAll(() => registerTfjsKernels(tf, { backends: [backendName] }));
    afterAll(() => unregisterTfjsKernels(tf));

    it.each(CASES.map((c) => [c.name, c] as const))('registered: equal to the reference and to tfjs: %s', (_, c) => {
      expect(getKernel('LRN', backendName)).not.toBe(originals.get(`${backendName} LRN`));
      const { y, dx } = run(c);
      const theirs = own.get(c.name)!;
      expect(forwardF32Error(y, c.y64)).toBeNull();
      expect(forwardF32Error(y, theirs.y)).toBeNull();
      expect(backwardError(dx, c.dx64, c.bound)).toBeNull();
      expect(backwardError(dx, theirs.dx, c.bound)).toBeNull();
    });
  });

  it("unregistering restores tfjs's own kernels and their exact outputs", () => {
    registerTfjsKernels(tf, { backends: [backendName] });
    unregisterTfjsKernels(tf);
    for (const name of ['LRN', 'LRNGrad']) expect(getKernel(name, backendName)).toBe(originals.get(`${backendName} ${name}`));
    for (const c of CASES) {
      const { y, dx } = run(c);
      expect(y).toEqual(own.get(c.name)!.y);
      expect(dx).toEqual(own.get(c.name)!.dx);
    }
  });

  it('leaks no tensor or data', () => {
    const c = CASES.find((k) => k.name.startsWith('C 96'))!;
    const x = tensor(c.x, c.shape);
    const dy = tensor(c.dy, c.shape);
    const f = lrnOf(c);
    const step = () => {
      f(x).dispose();
      tf.grad(f)(x, dy).dispose();
      tf.tidy(() => { tf.grad(f)(f(x), dy); });
    };
    step();
    const before = { ...tf.memory(), dataIds: tf.engine().backend.numDataIds() };
    registerTfjsKernels(tf, { backends: [backendName] });
    expect(tf.memory().numTensors).toBe(before.numTensors);
    step();
    step();
    unregisterTfjsKernels(tf);
    step();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(tf.engine().backend.numDataIds()).toBe(before.dataIds);
    x.dispose();
    dy.dispose();
  });

  describe('registered', () => {
    beforeAll(() => registerTfjsKernels(tf, { backends: [backendName] }));
    afterAll(() => unregisterTfjsKernels(tf));
    const attrs = { depthRadius: 2, bias: 1, alpha: 0.1, beta: 0.75 };

    it("leaves calls outside the contract to tfjs's kernel: negative alpha, negative depthRadius, int32", () => {
      const x = tf.tensor4d(random(5, 2 * 3 * 3 * 7, 2), [2, 3, 3, 7]);
      const outside = [
        () => tf.localResponseNormalization(x, 2, 1, -0.01, 0.75),
        () => tf.localResponseNormalization(x, -1, 1, 0.1, 0.75),
        () => tf.localResponseNormalization(tf.cast(x, 'int32') as tf.Tensor4D, 2, 1, 0.1, 0.75),
      ];
      const outcome = (f: () => tf.Tensor) => {
        try {
          return tf.tidy(() => Array.from(f().dataSync()));
        } catch (error) {
          return String(error);
        }
      };
      const ours = outside.map(outcome);
      unregisterTfjsKernels(tf);
      const theirs = outside.map(outcome);
      registerTfjsKernels(tf, { backends: [backendName] });
      expect(ours).toEqual(theirs);
      x.dispose();
    });

    it('an empty tensor gives an empty result', () => {
      const y = tf.localResponseNormalization(tf.zeros([0, 3, 3, 5]) as tf.Tensor4D, 2);
      expect(y.shape).toEqual([0, 3, 3, 5]);
      tf.dispose(y);
    });

    it('a kernel input that is not 4-D is a clear error', () => {
      const x = tf.ones([3, 5]);
      expect(() => tf.engine().runKernel('LRN', { x }, attrs)).toThrow(/LRN expects a 4-D NHWC tensor for x but received shape \[3, 5\]/);
      expect(() => tf.engine().runKernel('LRNGrad', { x, y: x, dy: x }, attrs)).toThrow(/LRNGrad expects a 4-D NHWC tensor/);
      const x4 = tf.ones([1, 2, 2, 3]);
      expect(() => tf.engine().runKernel('LRNGrad', { x: x4, y: x4, dy: tf.ones([1, 2, 3, 2]) }, attrs))
        .toThrow(/LRNGrad expects dy of x's shape \[1, 2, 2, 3\] but received \[1, 2, 3, 2\]/);
      // tf.localResponseNormalization itself takes rank 3 or 4 only.
      expect(() => tf.localResponseNormalization(x as tf.Tensor3D, 2)).toThrow(/rank 3 or 4/);
      tf.dispose([x, x4]);
    });
  });
});

describe('tfjs-backend-wasm heap', () => {
  beforeAll(() => tf.setBackend('wasm'));

  it('right when allocating the output grows the heap (detaching older views)', () => {
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
    // An input as large as the heap: the output cannot fit in the heap the input left.
    const channels = 96;
    const positions = Math.ceil(heap().byteLength / 4 / channels);
    const x = tensor(random(9, positions * channels, 3), [1, positions, 1, channels]);
    const f = (t: tf.Tensor4D) => tf.localResponseNormalization(t, 2, 2, 1e-4, 0.75);
    const before = heap();
    registerTfjsKernels(tf, { backends: ['wasm'] });
    const ours = dataOf(f(x));
    unregisterTfjsKernels(tf);
    expect(heap()).not.toBe(before);
    const theirs = dataOf(f(x));
    expect(forwardF32Error(ours, theirs)).toBeNull();
    x.dispose();
  });
});

describe('registration', () => {
  beforeAll(() => tf.setBackend('cpu'));
  afterAll(() => unregisterTfjsKernels(tf));

  it('is idempotent, and unregistering restores the very configs tfjs had, without warnings', () => {
    const warn = vi.spyOn(console, 'warn');
    registerTfjsKernels(tf);
    const ours = getKernel('LRN', 'cpu');
    expect(ours).not.toBe(originals.get('cpu LRN'));
    expect(getKernel('LRN', 'wasm')).toBe(originals.get('wasm LRN'));
    registerTfjsKernels(tf);
    registerTfjsKernels(tf, { backends: ['cpu', 'wasm'] });
    expect(getKernel('LRN', 'cpu')).toBe(ours);
    expect(getKernel('LRN', 'wasm')).not.toBe(originals.get('wasm LRN'));
    // Backend setup and teardown stay those of tfjs's kernel (the wasm one binds its function there).
    expect(getKernel('LRN', 'wasm').setupFunc).toBe(originals.get('wasm LRN')!.setupFunc);
    unregisterTfjsKernels(tf);
    for (const key of originals.keys()) {
      const [backend, name] = key.split(' ') as [string, string];
      expect(getKernel(name, backend)).toBe(originals.get(key));
    }
    unregisterTfjsKernels(tf);
    expect(getKernel('LRN', 'cpu')).toBe(originals.get('cpu LRN'));
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('rejects bad arguments and then registers nothing', () => {
    const bad: Array<[unknown, unknown, ErrorConstructor, RegExp]> = [
      [{}, undefined, TypeError, /^registerTfjsKernels: expected the tfjs namespace .* for tf but received an object$/],
      [tf, null, TypeError, /for options but received null/],
      [tf, { backends: 'cpu' }, TypeError, /for options\.backends but received "cpu"/],
      [tf, { backends: [] }, RangeError, /at least one backend name/],
      [tf, { backends: ['cpu', 'webgl'] }, RangeError, /names among 'cpu', 'wasm'/],
      // Kernels run synchronously, so lrnAsync's threads are no option.
      [tf, { threads: 2 }, TypeError, /expected one of 'backends' for an option name but received "threads"/],
    ];
    for (const [namespace, options, type, message] of bad) {
      const call = () => registerTfjsKernels(namespace as Tfjs, options as undefined);
      expect(call).toThrow(type);
      expect(call).toThrow(message);
      expect(getKernel('LRN', 'cpu')).toBe(originals.get('cpu LRN'));
    }
  });

  it('says to import the backend package when its kernels are missing', () => {
    const registry = new Map<string, TfjsKernelConfig>();
    const fake: Tfjs = {
      getKernel: (name, backend) => registry.get(`${backend} ${name}`),
      registerKernel: (config) => void registry.set(`${config.backendName} ${config.kernelName}`, config),
      unregisterKernel: (name, backend) => void registry.delete(`${backend} ${name}`),
    };
    for (const name of ['LRN', 'LRNGrad']) registry.set(`cpu ${name}`, getKernel(name, 'cpu'));
    expect(() => registerTfjsKernels(fake, { backends: ['cpu', 'wasm'] }))
      .toThrow("registerTfjsKernels: no 'LRN' kernel is registered for tfjs backend 'wasm'; import '@tensorflow/tfjs-backend-wasm' before registering");
    expect(registry.get('cpu LRN')).toBe(originals.get('cpu LRN'));
  });

  it('the subpath export loads without tfjs, and import and require share one instance', () => {
    const script = `
      const cjs = require('local-response-norm/tfjs');
      const loaded = Object.keys(require.cache).some((f) => f.includes('@tensorflow'));
      import('local-response-norm/tfjs').then((esm) => {
        const tf = require('@tensorflow/tfjs-core');
        require('@tensorflow/tfjs-backend-cpu');
        const original = tf.getKernel('LRN', 'cpu');
        esm.registerTfjsKernels(tf);
        const replaced = tf.getKernel('LRN', 'cpu') !== original;
        cjs.unregisterTfjsKernels(tf);
        console.log(JSON.stringify({ loaded, same: esm.default === cjs && esm.registerTfjsKernels === cjs.registerTfjsKernels,
          replaced, restored: tf.getKernel('LRN', 'cpu') === original }));
      });`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: join(__dirname, '..'), encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ loaded: false, same: true, replaced: true, restored: true });
  });
});
