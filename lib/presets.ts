import type { Layout, PresetName } from './types.js';

/**
 * How a preset turns `alpha` into the scale `a` of the sum of squares, for window size n:
 * `'alpha'` (a = alpha), `'alpha/n'`, `'alpha/n^2'` (Caffe within a channel) or `'alpha/n^d'`
 * (oneDNN within a channel, d the number of spatial axes).
 *
 * @group Presets
 */
export type AlphaScale = 'alpha' | 'alpha/n' | 'alpha/n^2' | 'alpha/n^d';

/**
 * One framework's convention: its defaults, how it scales `alpha` and where its window sits
 * ([docs/contract.md, Presets](https://github.com/local-response-norm/local-response-norm/blob/main/docs/contract.md#presets)). Frozen.
 *
 * @group Presets
 */
export interface Preset {
  /** The preset's name, its key in {@link PRESETS}. */
  readonly name: PresetName;
  /** Default window size n, used when the options give no `size`. */
  readonly size: number;
  /** Default `alpha`, before the scaling that {@link Preset.across} or {@link Preset.within} says. */
  readonly alpha: number;
  /** Default `beta`, the exponent. */
  readonly beta: number;
  /** Default `k`, the additive constant. */
  readonly k: number;
  /** Default layout: `'NHWC'` for `tensorflow`, `'NCHW'` for the others. */
  readonly layout: Layout;
  /** The framework can only express odd window sizes; an even size is a RangeError. */
  readonly oddSizeOnly: boolean;
  /** How `alpha` becomes `a` for across-channels LRN. */
  readonly across: AlphaScale;
  /**
   * How `alpha` becomes `a` for within-channel LRN (d = number of spatial axes), or null when the
   * framework has no within-channel LRN (asking for it is then a RangeError).
   */
  readonly within: AlphaScale | null;
  /** A `k` that within-channel LRN always uses whatever the options say (Caffe: 1), else null. */
  readonly withinK: number | null;
  /**
   * Where the window sits for window size n: it sums channels (or, within a channel, positions
   * along each spatial axis) `c - before` to `c + after`. For odd n every preset centres it
   * (`before = after = (n - 1) / 2`); for even n they differ.
   */
  readonly window: (size: number) => {
    /** L: how far before c the window reaches, in channels (positions, within a channel). */
    readonly before: number;
    /** R: how far after c the window reaches. */
    readonly after: number
  };
}

const half = (n: number) => Math.floor(n / 2);
const halfBelow = (n: number) => Math.floor((n - 1) / 2);
const halfAbove = (n: number) => Math.ceil((n - 1) / 2);

const centred = (n: number) => ({ before: half(n), after: half(n) });

function preset(p: Preset): Preset {
  return Object.freeze(p);
}

/**
 * The framework conventions, by name, each a frozen {@link Preset}. A preset fixes how `size`
 * and `alpha` map onto the window and the scale `a`; given `size`, `alpha`, `beta`, `k` and
 * `layout` replace only its defaults. For odd n every preset centres the window, so presets
 * differ only in `a` and their defaults.
 *
 * | preset | a (across) | a (within, d spatial axes) | window for even n | defaults n, alpha, beta, k | layout |
 * |---|---|---|---|---|---|
 * | `alexnet` | alpha | alpha | [c-n/2, c+n/2] (n+1 channels) | 5, 1e-4, 0.75, 2 | NCHW |
 * | `pytorch` | alpha/n | none | [c-n/2, c+n/2-1] | 5, 1e-4, 0.75, 1 | NCHW |
 * | `onnx` | alpha/n | none | [c-n/2+1, c+n/2] | 5, 1e-4, 0.75, 1 | NCHW |
 * | `cudnn` | alpha/n | none | [c-n/2+1, c+n/2] | 5, 1e-4, 0.75, 2 | NCHW |
 * | `caffe` | alpha/n | alpha/n^2, k forced to 1 | odd n only | 5, 1, 0.75, 1 | NCHW |
 * | `tensorflow` | alpha | none | odd n only (n = 2 depth_radius + 1) | 11, 1, 0.5, 1 | NHWC |
 * | `onednn` | alpha/n | alpha/n^d | [c-n/2+1, c+n/2-1] (n-1 channels) | 5, 1e-4, 0.75, 1 | NCHW |
 *
 * Mind the scale when porting: ONNX's `alpha` is TensorFlow's times n, and Caffe's AlexNet
 * (alpha 1e-4 divided by 5, k = 1) is not the paper's (`alexnet`: alpha 1e-4, k = 2).
 *
 * @example
 * ```ts
 * import { PRESETS } from 'local-response-norm';
 * PRESETS.pytorch.window(4); // { before: 2, after: 1 }
 * PRESETS.tensorflow.layout; // 'NHWC'
 * ```
 *
 * @group Presets
 */
export const PRESETS: Readonly<Record<PresetName, Preset>> = Object.freeze({
  alexnet: preset({
    name: 'alexnet', size: 5, alpha: 1e-4, beta: 0.75, k: 2, layout: 'NCHW', oddSizeOnly: false,
    across: 'alpha', within: 'alpha', withinK: null, window: centred,
  }),
  pytorch: preset({
    name: 'pytorch', size: 5, alpha: 1e-4, beta: 0.75, k: 1, layout: 'NCHW', oddSizeOnly: false,
    across: 'alpha/n', within: null, withinK: null,
    window: (n) => ({ before: half(n), after: halfBelow(n) }),
  }),
  onnx: preset({
    name: 'onnx', size: 5, alpha: 1e-4, beta: 0.75, k: 1, layout: 'NCHW', oddSizeOnly: false,
    across: 'alpha/n', within: null, withinK: null,
    window: (n) => ({ before: halfBelow(n), after: halfAbove(n) }),
  }),
  cudnn: preset({
    name: 'cudnn', size: 5, alpha: 1e-4, beta: 0.75, k: 2, layout: 'NCHW', oddSizeOnly: false,
    across: 'alpha/n', within: null, withinK: null,
    window: (n) => ({ before: halfBelow(n), after: halfAbove(n) }),
  }),
  caffe: preset({
    name: 'caffe', size: 5, alpha: 1, beta: 0.75, k: 1, layout: 'NCHW', oddSizeOnly: true,
    across: 'alpha/n', within: 'alpha/n^2', withinK: 1, window: centred,
  }),
  tensorflow: preset({
    name: 'tensorflow', size: 11, alpha: 1, beta: 0.5, k: 1, layout: 'NHWC', oddSizeOnly: true,
    across: 'alpha', within: null, withinK: null, window: centred,
  }),
  onednn: preset({
    name: 'onednn', size: 5, alpha: 1e-4, beta: 0.75, k: 1, layout: 'NCHW', oddSizeOnly: false,
    across: 'alpha/n', within: 'alpha/n^d', withinK: null,
    window: (n) => ({ before: halfBelow(n), after: halfBelow(n) }),
  }),
});

/** The scale `a` for a given alpha, window size and number of spatial axes. */
export function scaleAlpha(scale: AlphaScale, alpha: number, size: number, spatialAxes: number): number {
  switch (scale) {
    case 'alpha': return alpha;
    case 'alpha/n': return alpha / size;
    case 'alpha/n^2': return alpha / (size * size);
    case 'alpha/n^d': return alpha / size ** spatialAxes;
  }
}
