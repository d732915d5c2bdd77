// Turns user arguments into a checked Plan. Every rule of docs/contract.md's "Bad input" lives
// here, so all backends see only valid, fully resolved parameters, and nothing is computed (or
// written to `out`) when an argument is wrong.
import { types } from 'node:util';
import {
  bufferOf, byteLengthOf, byteOffsetOf, describe, isDetached, lengthOf, rangeError, typeError, typedArrayName,
} from './errors.js';
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

const OPTION_NAMES: readonly string[] = ['shape', 'layout', 'preset', 'size', 'alpha', 'beta', 'k', 'region', 'out'];
const OPTION_SET = new Set(OPTION_NAMES);
const NO_EXTRA: readonly string[] = [];
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
  const length = lengthOf(input);
  if (lengthOf(array) !== length) {
    if (isDetached(array)) throw typeError(fn, name, `a ${inputTag} over attached memory`, value);
    throw rangeError(fn, name, `length ${length} (the input's length)`, value);
  }
  return array;
}

// Memory identity. Two arrays share memory when they view the same buffer, or two
// SharedArrayBuffer objects over one block (structuredClone or postMessage of a
// SharedArrayBuffer gives a second object over all of the same memory, from its byte 0).
const sharedByteLength = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')!.get!;

/** An array's memory and its byte range [start, end) in it. */
interface Span { readonly buffer: ArrayBufferLike; readonly start: number; readonly end: number }

function spanOf(a: FloatArray): Span {
  const start = byteOffsetOf(a);
  return { buffer: bufferOf(a), start, end: start + byteLengthOf(a) };
}

/** Whether two buffers can be one memory: the same object, or two SharedArrayBuffer objects
 *  (which `aliased` tells apart). Most calls stop here. */
function mayShare(a: ArrayBufferLike, b: ArrayBufferLike): boolean {
  return a === b || (types.isSharedArrayBuffer(a) && types.isSharedArrayBuffer(b));
}

/**
 * True when `mine` and `other`, distinct SharedArrayBuffer objects, are the same memory. Found by
 * probing: two different markers written in turn, with Atomics, into the first byte of `mine`'s
 * range (an output's range, which the call overwrites anyway) must each show at the same offset
 * of `other`; the byte is then restored unless another thread has written it meanwhile.
 */
function aliased(mine: Span, other: Span): boolean {
  const at = mine.start;
  if (at >= (sharedByteLength.call(other.buffer) as number)) return false;
  const probe = new Uint8Array(mine.buffer, at, 1);
  const seen = new Uint8Array(other.buffer, at, 1);
  const original = Atomics.load(probe, 0);
  let marker = original;
  let same = true;
  for (const flip of [0x5a, 0xa5]) {
    marker = original ^ flip;
    Atomics.store(probe, 0, marker);
    if (Atomics.load(seen, 0) !== marker) {
      same = false;
      break;
    }
  }
  Atomics.compareExchange(probe, 0, marker, original);
  return same;
}

/** True when two arrays are exactly the same memory (an in-place call); may probe `out`'s first
 *  byte (see `aliased`), so `out` is the array being written. */
export function sameMemory(out: FloatArray, other: FloatArray): boolean {
  if (out === other) return true;
  if (!mayShare(bufferOf(out), bufferOf(other))) return false;
  const a = spanOf(out);
  const b = spanOf(other);
  return a.start === b.start && a.end === b.end && (a.buffer === b.buffer || aliased(a, b));
}

/** `out` may be the input itself (in place) but must not partly overlap it. Empty arrays
 *  overlap nothing. */
export function checkNoPartialOverlap(fn: string, out: FloatArray, name: string, other: FloatArray, otherName: string): void {
  if (out === other || !mayShare(bufferOf(out), bufferOf(other))) return;
  const a = spanOf(out);
  const b = spanOf(other);
  // Byte ranges first: only ranges that meet without being equal need the memories compared.
  if (a.start === a.end || b.start === b.end || a.start >= b.end || b.start >= a.end) return;
  if (a.start === b.start && a.end === b.end) return;
  const memory = a.buffer === b.buffer ? 'buffer' : aliased(a, b) ? 'memory' : null;
  if (memory === null) return;
  throw new RangeError(
    `${fn}: expected options.out to be ${otherName} itself (in place) or memory apart from it, ` +
    `but it partly overlaps ${otherName} (${name} bytes ${a.start}..${a.end}, ` +
    `${otherName} bytes ${b.start}..${b.end} of the same ${memory})`,
  );
}

/** An array argument and its length when the call first saw it. */
interface Seen { readonly array: ArrayBufferView; readonly name: string; readonly length: number }

/** Throws when an option's getter or a Proxy trap detached or resized the array after it was
 *  first seen: a backend must never see other memory than was checked. */
function checkIntact(fn: string, seen: Seen): void {
  const now = lengthOf(seen.array);
  if (now === seen.length) return;
  const what = isDetached(seen.array) ? 'detached' : `resized to ${now} elements`;
  throw new TypeError(
    `${fn}: expected ${seen.name} to stay attached, with its ${seen.length} elements, while the options were read, but it was ${what}`,
  );
}

/** The options as read: each property once (own or inherited), `shape` copied element by
 *  element, frozen. Getters and Proxy traps run only while it is made. */
export interface OptionValues {
  readonly out: unknown;
  readonly shape: unknown;
  readonly layout: unknown;
  readonly preset: unknown;
  readonly size: unknown;
  readonly alpha: unknown;
  readonly beta: unknown;
  readonly k: unknown;
  readonly region: unknown;
  /** The options named in `extra`. */
  readonly [name: string]: unknown;
}

function readOptions(fn: string, options: unknown, extra: readonly string[], seen: Seen[]): OptionValues {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw typeError(fn, 'options', 'an object with at least a shape', options);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_SET.has(key) && !extra.includes(key)) {
      throw typeError(fn, 'an option name', `one of ${quoted([...OPTION_NAMES, ...extra])}`, key);
    }
  }
  // out first, its length noted, so that a later getter that detaches or resizes it is seen.
  const out = o.out;
  if (typedArrayName(out) !== undefined) {
    seen.push({ array: out as ArrayBufferView, name: 'options.out', length: lengthOf(out as ArrayBufferView) });
  }
  const values: Record<string, unknown> = {
    out, shape: readShape(fn, o.shape), layout: o.layout, preset: o.preset, size: o.size,
    alpha: o.alpha, beta: o.beta, k: o.k, region: o.region,
  };
  for (const name of extra) values[name] = o[name];
  return Object.freeze(values) as OptionValues;
}

/** A copy of an array shape, its length and each element read once; each element's kind is
 *  checked as it is read, so a long sparse array stops at its first hole. */
function readShape(fn: string, value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  const length: unknown = value.length;
  const dims: number[] = [];
  for (let i = 0; typeof length === 'number' && i < length; i++) {
    const d: unknown = value[i];
    if (typeof d !== 'number') throw typeError(fn, `options.shape[${i}]`, 'a non-negative integer', d);
    dims.push(d);
  }
  return dims;
}

/** Checks a shape as read by `readShape` (a copy whose elements are numbers). */
function checkShape(fn: string, value: unknown, length: number): readonly number[] {
  if (!Array.isArray(value)) throw typeError(fn, 'options.shape', 'an array of integers', value);
  const dims = value as readonly number[];
  if (dims.length < 2) {
    throw rangeError(fn, 'options.shape', 'at least 2 dimensions ([N, C, ...spatial] or [N, ...spatial, C])', dims);
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
      `but received ${describe(dims)}, whose product is ${product > length ? `more than ${length}` : product}`,
    );
  }
  return dims;
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

/** A checked call: its Plan and the options as read. */
export interface Checked {
  readonly plan: Plan;
  readonly options: OptionValues;
}

/**
 * Reads `options` once, checks that the array arguments (`arrays`: [array, name], input first)
 * kept their length meanwhile, then validates the options as read against the input and
 * resolves the preset; throws TypeError/RangeError. `extra` names options the caller handles
 * itself (lrnAsync's `threads`).
 */
export function checkCall(
  fn: string, arrays: ReadonlyArray<readonly [FloatArray, string]>, options: unknown, extra = NO_EXTRA,
): Checked {
  const seen: Seen[] = arrays.map(([array, name]) => ({ array, name, length: lengthOf(array) }));
  const o = readOptions(fn, options, extra, seen);
  // Every getter and trap has run: from here on only the snapshot and the arrays are used.
  for (const s of seen) checkIntact(fn, s);
  return { plan: planOf(fn, seen[0]!.length, o), options: o };
}

/** The Plan for `input` and `options` (see `checkCall`). */
export function makePlan(fn: string, input: FloatArray, options: unknown, extra = NO_EXTRA): Plan {
  return checkCall(fn, [[input, 'input']], options, extra).plan;
}

function planOf(fn: string, length: number, o: OptionValues): Plan {
  const shape = checkShape(fn, o.shape, length);
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
      throw rangeError(fn, 'options.shape', 'at least one spatial axis for within-channel LRN', shape);
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
    length,
  };
}
