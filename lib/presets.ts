import type { Layout, PresetName } from './types.js';

/** How a preset turns `alpha` into the scale `a` of the sum of squares. */
export type AlphaScale = 'alpha' | 'alpha/n' | 'alpha/n^2' | 'alpha/n^d';

/** One framework's convention (docs/contract.md, "Presets"). */
export interface Preset {
  readonly name: PresetName;
  /** Defaults for the options the user leaves out. */
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
  readonly layout: Layout;
  /** The framework can only express odd window sizes; an even size is a RangeError. */
  readonly oddSizeOnly: boolean;
  /** `a` for across-channels LRN. */
  readonly across: AlphaScale;
  /** `a` for within-channel LRN (d = number of spatial axes), or null when the framework has none. */
  readonly within: AlphaScale | null;
  /** A `k` that within-channel LRN always uses whatever the options say (Caffe: 1). */
  readonly withinK: number | null;
  /** Channels summed before and after position c for window size n: `[c - before, c + after]`. */
  readonly window: (size: number) => { readonly before: number; readonly after: number };
}

const half = (n: number) => Math.floor(n / 2);
const halfBelow = (n: number) => Math.floor((n - 1) / 2);
const halfAbove = (n: number) => Math.ceil((n - 1) / 2);

const centred = (n: number) => ({ before: half(n), after: half(n) });

function preset(p: Preset): Preset {
  return Object.freeze(p);
}

/**
 * The framework conventions, by name. Each fixes how `size` and `alpha` map onto the window and
 * the scale; user-given `size`, `alpha`, `beta`, `k` override only the defaults.
 *
 * | preset | a (across) | window for even n | defaults (n, alpha, beta, k) |
 * |---|---|---|---|
 * | alexnet | alpha | [c-n/2, c+n/2] | 5, 1e-4, 0.75, 2 |
 * | pytorch | alpha/n | [c-n/2, c+n/2-1] | 5, 1e-4, 0.75, 1 |
 * | onnx, cudnn | alpha/n | [c-n/2+1, c+n/2] | 5, 1e-4, 0.75, 1 (cudnn: k 2) |
 * | caffe | alpha/n | odd n only | 5, 1, 0.75, 1 |
 * | tensorflow | alpha | odd n only | 11, 1, 0.5, 1, NHWC |
 * | onednn | alpha/n | [c-n/2+1, c+n/2-1] | 5, 1e-4, 0.75, 1 |
 *
 * @example
 * ```ts
 * import { PRESETS } from 'local-response-norm';
 * PRESETS.pytorch.window(4); // { before: 2, after: 1 }
 * PRESETS.tensorflow.layout; // 'NHWC'
 * ```
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
