// fast-check generators for whole LRN calls: options, shapes and values that stress the edges.
import fc from 'fast-check';
import type { LrnOptions } from '../../lib/index.js';
import type { RefPreset } from './reference.js';

// spread: 1e-2 .. 1e2, so that a*S/k falls on both sides of where the native kernels' series
// gives way to the power (and their float32 backward to float64).
export type Magnitude = 'unit' | 'tiny' | 'huge' | 'mixed' | 'zeros' | 'special' | 'spread';

export interface Case {
  options: LrnOptions & { shape: number[]; preset: RefPreset; layout: 'NCHW' | 'NHWC'; region: 'across-channels' | 'within-channel' };
  dtype: 'float32' | 'float64';
  magnitude: Magnitude;
  seed: number;
}

const PRESETS: RefPreset[] = ['alexnet', 'pytorch', 'onnx', 'cudnn', 'caffe', 'tensorflow', 'onednn'];
const WITHIN: RefPreset[] = ['alexnet', 'caffe', 'onednn'];

/** A deterministic stream of doubles in [0, 1) (xorshift), so values come from the case's seed. */
function random(seed: number): () => number {
  let s = (seed >>> 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

/** Values of the given magnitude class; float32 ones are representable in float32. */
export function values(c: Pick<Case, 'dtype' | 'magnitude' | 'seed'>, length: number): Float32Array | Float64Array {
  const next = random(c.seed);
  const f32 = c.dtype === 'float32';
  const [lo, hi] = f32 ? [-45, 38] : [-100, 150];
  const out = f32 ? new Float32Array(length) : new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const sign = next() < 0.5 ? -1 : 1;
    let v: number;
    switch (c.magnitude) {
      case 'unit': v = (next() * 2 - 1) * 10; break;
      case 'tiny': v = sign * (1 + next()) * 10 ** (lo + next() * 12); break;
      case 'huge': v = sign * (1 + next() * 2.4) * 10 ** (hi - next() * 8); break;
      case 'mixed': v = sign * (1 + next() * 2.4) * 10 ** (lo + next() * (hi - lo)); break;
      case 'zeros': v = next() < 0.7 ? (sign > 0 ? 0 : -0) : sign * next(); break;
      case 'spread': v = sign * 10 ** (next() * 4 - 2); break;
      case 'special': {
        const u = next();
        v = u < 0.05 ? NaN : u < 0.1 ? Infinity : u < 0.15 ? -Infinity : (next() * 2 - 1) * 10;
        break;
      }
    }
    out[i] = v;
  }
  return out;
}

export const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    region: fc.constantFrom('across-channels', 'within-channel', 'across-channels'),
    layout: fc.constantFrom('NCHW', 'NHWC'),
    rank: fc.integer({ min: 2, max: 5 }),
    batch: fc.integer({ min: 1, max: 2 }),
    channels: fc.integer({ min: 1, max: 9 }),
    spatial: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 3, maxLength: 3 }),
    presetIndex: fc.nat(),
    size: fc.integer({ min: 1, max: 8 }),
    alpha: fc.constantFrom(0, 1e-4, 1e-2, 1, 3.5),
    beta: fc.constantFrom(0, 0.5, 0.75, 1, 0.6, 1.3, 2),
    k: fc.constantFrom(0, 0.5, 1, 2),
    dtype: fc.constantFrom('float32', 'float64'),
    magnitude: fc.constantFrom<Magnitude>('unit', 'tiny', 'huge', 'mixed', 'zeros', 'special', 'spread'),
    seed: fc.integer(),
  })
  .map((r) => {
    const within = r.region === 'within-channel';
    const rank = within ? Math.max(3, Math.min(r.rank, 4)) : r.rank;
    const candidates = within ? WITHIN : PRESETS;
    const preset = candidates[r.presetIndex % candidates.length]!;
    const size = preset === 'caffe' || preset === 'tensorflow' ? r.size | 1 : r.size;
    const spatial = r.spatial.slice(0, rank - 2);
    const shape = r.layout === 'NCHW' ? [r.batch, r.channels, ...spatial] : [r.batch, ...spatial, r.channels];
    return {
      options: { shape, preset, layout: r.layout, region: r.region, size, alpha: r.alpha, beta: r.beta, k: r.k },
      dtype: r.dtype, magnitude: r.magnitude, seed: r.seed,
    } as Case;
  });
