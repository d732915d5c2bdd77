// Turns user arguments into a checked Plan. Every rule of SPEC section 6 lives here, so all
// backends see only valid, fully resolved parameters, and nothing is computed (or written to
// `out`) when an argument is wrong.
import { describe, rangeError, typeError, typedArrayName } from './errors.js';
import { PRESETS, scaleAlpha } from './presets.js';
import type { FloatArray, Layout, PresetName, Region } from './types.js';

/** Everything a backend needs to compute one call. */
export interface Plan {
  readonly preset: PresetName;
  readonly layout: Layout;
  readonly region: Region;
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  /** The k in effect (Caffe within-channel forces 1). */
  readonly k: number;
  /** Scale of the sum of squares after the preset's mapping. */
  readonly a: number;
  /** Window offsets: positions [i - before, i + after] along each windowed axis. */
  readonly before: number;
  readonly after: number;
  readonly batch: number;
  readonly channels: number;
  readonly spatial: readonly number[];
  /** Product of the spatial dimensions. */
  readonly spatialSize: number;
  /** Total number of elements. */
  readonly length: number;
}

const OPTION_NAMES = new Set(['shape', 'layout', 'preset', 'size', 'alpha', 'beta', 'k', 'region', 'out']);
const LAYOUTS: readonly string[] = ['NCHW', 'NHWC'];
const REGIONS: readonly string[] = ['across-channels', 'within-channel'];
const PRESET_NAMES = Object.keys(PRESETS);
const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');

/** Checks that `value` is a Float32Array or Float64Array and returns it typed. */
export function checkFloatArray(fn: string, name: string, value: unknown): FloatArray {
  const tag = typedArrayName(value);
  if (tag !== 'Float32Array' && tag !== 'Float64Array') {
    throw typeError(fn, name, 'a Float32Array or Float64Array', value);
  }
  return value as FloatArray;
}

/** Checks that `value` has the same element type and length as `input`. */
export function checkCompanion(fn: string, name: string, value: unknown, input: FloatArray): FloatArray {
  const tag = typedArrayName(value);
  const inputTag = typedArrayName(input)!;
  if (tag !== inputTag) throw typeError(fn, name, `a ${inputTag} (the input's type)`, value);
  const array = value as FloatArray;
  if (array.length !== input.length) {
    throw rangeError(fn, name, `length ${input.length} (the input's length)`, value);
  }
  return array;
}

/** True when two arrays share any byte of memory. */
export function overlaps(a: FloatArray, b: FloatArray): boolean {
  return a.buffer === b.buffer && a.byteLength > 0 && b.byteLength > 0 &&
    a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** True when two arrays are exactly the same memory (an in-place call). */
export function sameMemory(a: FloatArray, b: FloatArray): boolean {
  return a === b || (a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength);
}

/** `out` may be the input itself (in place) but must not partly overlap it. */
export function checkNoPartialOverlap(fn: string, out: FloatArray, name: string, other: FloatArray, otherName: string): void {
  if (overlaps(out, other) && !sameMemory(out, other)) {
    throw new RangeError(
      `${fn}: expected options.out to be ${otherName} itself (in place) or memory apart from it, ` +
      `but it partly overlaps ${otherName} (${name} bytes ${out.byteOffset}..${out.byteOffset + out.byteLength}, ` +
      `${otherName} bytes ${other.byteOffset}..${other.byteOffset + other.byteLength} of the same buffer)`,
    );
  }
}

function checkShape(fn: string, value: unknown, length: number): readonly number[] {
  if (!Array.isArray(value)) throw typeError(fn, 'options.shape', 'an array of integers', value);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'number') {
      throw typeError(fn, `options.shape[${i}]`, 'a non-negative integer', value[i]);
    }
  }
  const dims = value as number[];
  if (dims.length < 2) {
    throw rangeError(fn, 'options.shape', 'at least 2 dimensions ([N, C, ...spatial] or [N, ...spatial, C])', value);
  }
  dims.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw rangeError(fn, `options.shape[${i}]`, 'a non-negative safe integer', d);
    }
  });
  // The product grows monotonically once zeros are ruled out, so stop as soon as it passes the
  // length: the comparison stays exact and nothing overflows.
  let product = dims.includes(0) ? 0 : 1;
  for (let i = 0; product !== 0 && i < dims.length && product <= length; i++) product *= dims[i]!;
  if (product !== length) {
    throw new RangeError(
      `${fn}: expected options.shape to describe ${length} elements (the input's length) ` +
      `but received ${describe(value)}, whose product is ${product > length ? `more than ${length}` : product}`,
    );
  }
  return dims.slice();
}

function checkEnum<T extends string>(fn: string, name: string, value: unknown, allowed: readonly string[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw typeError(fn, name, `one of ${quoted(allowed)}`, value);
  }
  return value as T;
}

function checkNumber(fn: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(fn, name, 'a finite number >= 0', value);
  if (!Number.isFinite(value) || value < 0) throw rangeError(fn, name, 'a finite number >= 0', value);
  return value;
}

/** A thread count: a positive integer up to 1024. */
export function checkThreads(fn: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(fn, name, 'an integer from 1 to 1024', value);
  if (!Number.isInteger(value) || value < 1 || value > 1024) throw rangeError(fn, name, 'an integer from 1 to 1024', value);
  return value;
}

function checkSize(fn: string, value: unknown, fallback: number, oddOnly: boolean, preset: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(fn, 'options.size', 'a positive integer', value);
  if (!Number.isSafeInteger(value) || value < 1) throw rangeError(fn, 'options.size', 'a positive integer', value);
  if (oddOnly && value % 2 === 0) {
    throw rangeError(fn, 'options.size', `an odd integer (preset '${preset}' has only odd window sizes)`, value);
  }
  return value;
}

/** Validates `options` against `input` and resolves the preset; throws TypeError/RangeError.
 *  `extra` names options the caller handles itself (lrnAsync's `threads`). */
export function makePlan(fn: string, input: FloatArray, options: unknown, extra: readonly string[] = []): Plan {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw typeError(fn, 'options', 'an object with at least a shape', options);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_NAMES.has(key) && !extra.includes(key)) {
      throw typeError(fn, 'an option name', `one of ${quoted([...OPTION_NAMES, ...extra])}`, key);
    }
  }
  const shape = checkShape(fn, o.shape, input.length);
  const presetName = checkEnum<PresetName>(fn, 'options.preset', o.preset, PRESET_NAMES, 'alexnet');
  const preset = PRESETS[presetName];
  const layout = checkEnum<Layout>(fn, 'options.layout', o.layout, LAYOUTS, preset.layout);
  const region = checkEnum<Region>(fn, 'options.region', o.region, REGIONS, 'across-channels');
  const size = checkSize(fn, o.size, preset.size, preset.oddSizeOnly, presetName);
  const alpha = checkNumber(fn, 'options.alpha', o.alpha, preset.alpha);
  const beta = checkNumber(fn, 'options.beta', o.beta, preset.beta);
  let k = checkNumber(fn, 'options.k', o.k, preset.k);

  const rank = shape.length;
  const batch = shape[0]!;
  const channels = layout === 'NCHW' ? shape[1]! : shape[rank - 1]!;
  const spatial = layout === 'NCHW' ? shape.slice(2) : shape.slice(1, rank - 1);
  let scale = preset.across;
  if (region === 'within-channel') {
    if (preset.within === null) {
      throw rangeError(fn, 'options.region', `'across-channels' (preset '${presetName}' defines no within-channel LRN)`, region);
    }
    if (spatial.length === 0) {
      throw rangeError(fn, 'options.shape', 'at least one spatial axis for within-channel LRN', o.shape);
    }
    scale = preset.within;
    if (preset.withinK !== null) k = preset.withinK;
  }
  const { before, after } = preset.window(size);
  return {
    preset: presetName, layout, region, size, alpha, beta, k,
    a: scaleAlpha(scale, alpha, size, spatial.length),
    before, after, batch, channels, spatial,
    spatialSize: spatial.reduce((p, d) => p * d, 1),
    length: input.length,
  };
}
