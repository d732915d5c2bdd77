// Every native kernel against the TypeScript backend on random data at awkward sizes: C from 1
// to 40, n from 1 to 16, spatial sizes that are not multiples of any vector width, views at odd
// byte offsets, huge, subnormal and special values.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { backend, lrn, lrnBackward, setBackend, type LrnOptions } from '../lib/index.js';
import { values, type Magnitude } from './helpers/cases.js';
import { refBackward, refParams } from './helpers/reference.js';
import { backwardBound, backwardError, forwardError } from './helpers/tolerance.js';

const NATIVE = backend().available;
const RUNS = Number(process.env.LRN_PROPERTY_RUNS ?? 150);

const awkward = fc.record({
  preset: fc.constantFrom('alexnet', 'pytorch', 'onnx', 'cudnn', 'onednn'),
  layout: fc.constantFrom('NCHW', 'NHWC'),
  batch: fc.integer({ min: 1, max: 2 }),
  channels: fc.integer({ min: 1, max: 40 }),
  spatial: fc.constantFrom([], [1], [7], [17], [33], [3, 5], [5, 13], [2, 3, 3]),
  size: fc.integer({ min: 1, max: 16 }),
  alpha: fc.constantFrom(1e-4, 0.01, 1, 0),
  beta: fc.constantFrom(0.75, 0.5, 1, 0, 0.6, 1.3),
  k: fc.constantFrom(2, 1, 0.5, 0),
  dtype: fc.constantFrom('float32', 'float64'),
  magnitude: fc.constantFrom<Magnitude>('unit', 'huge', 'tiny', 'mixed', 'special', 'zeros', 'spread'),
  offset: fc.integer({ min: 0, max: 5 }),
  seed: fc.integer(),
});

/** A copy of `x` placed `offset` elements into a larger buffer (an odd byteOffset view). */
function view(x: Float32Array | Float64Array, offset: number): Float32Array | Float64Array {
  const Ctor = x.constructor as Float32ArrayConstructor | Float64ArrayConstructor;
  const out = new Ctor(new ArrayBuffer((x.length + offset + 3) * Ctor.BYTES_PER_ELEMENT), offset * Ctor.BYTES_PER_ELEMENT, x.length);
  out.set(x);
  return out;
}

describe.skipIf(NATIVE.length === 0)('native kernels equal the TypeScript backend', () => {
  afterAll(() => setBackend('auto'));

  it.each(NATIVE)('%s: forward and backward', (kernel) => {
    fc.assert(
      fc.property(awkward, (c) => {
        const shape = c.layout === 'NCHW' ? [c.batch, c.channels, ...c.spatial] : [c.batch, ...c.spatial, c.channels];
        const options = { shape, layout: c.layout, preset: c.preset, size: c.size, alpha: c.alpha, beta: c.beta, k: c.k } as LrnOptions & { shape: number[] };
        const length = shape.reduce((p, d) => p * d, 1);
        const x = view(values(c, length), c.offset);
        const dy = view(values({ ...c, magnitude: 'unit', seed: c.seed + 1 }, length), c.offset + 1);

        setBackend('fallback');
        const yTs = lrn(x, options);
        setBackend(kernel);
        expect(backend().kernel).toBe(kernel);
        const y = lrn(x, options);
        expect(forwardError(y, yTs)).toBeNull();

        if (c.magnitude === 'huge' || c.magnitude === 'mixed') return;
        const ref = refBackward(x, dy, refParams(options));
        const dx = lrnBackward(x, dy, options);
        expect(backwardError(dx, ref.dx, backwardBound(ref.term1, ref.term2, c.dtype === 'float32'))).toBeNull();
      }),
      { numRuns: RUNS },
    );
  });
});
