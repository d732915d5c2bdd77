// Public API of local-response-norm (docs/contract.md, "Names").
/**
 * Local Response Normalization for Node.js, exact to each framework's convention (see
 * {@link PRESETS}): forward ({@link lrn}, {@link lrnAsync}) and backward ({@link lrnBackward}),
 * on `Float32Array` and `Float64Array`, NCHW and NHWC. `import` and `require` load the same
 * functions and share one state ({@link setBackend}, {@link concurrency}).
 *
 * @example
 * ```ts
 * import { lrn } from 'local-response-norm';
 * const x = new Float32Array([10, 20, 30, 40, 50, 60]);
 * // NCHW, N=1, C=3, H=1, W=2; AlexNet's LRN: n=5, alpha=1e-4, beta=0.75, k=2.
 * const y = lrn(x, { shape: [1, 3, 1, 2] });
 * ```
 *
 * @module local-response-norm
 */
import { activeBackend, backendInfo, selectBackend } from './backend.js';
import { lengthOf, typedArrayName } from './errors.js';
import { checkCall, checkCompanion, checkFloatArray, checkNoPartialOverlap, checkThreads } from './options.js';
import { concurrency } from './concurrency.js';
import type { BackendInfo, FloatArray, LrnAsyncOptions, LrnOptions } from './types.js';

export { PRESETS } from './presets.js';
export type { AlphaScale, Preset } from './presets.js';
export type { BackendInfo, FloatArray, Layout, LrnAsyncOptions, LrnOptions, PresetName, Region } from './types.js';
export { concurrency };

type Arrays = ReadonlyArray<readonly [FloatArray, string]>;

/** The output array: `options.out` checked against the inputs it must not partly overlap, or a
 *  new one (from the backend's allocator when it has one for this size). */
function output(fn: string, out: unknown, arrays: Arrays): FloatArray {
  const input = arrays[0]![0];
  if (out === undefined) {
    const float64 = typedArrayName(input) === 'Float64Array';
    const length = lengthOf(input);
    const fresh = activeBackend(fn).allocate?.(float64, length);
    if (fresh !== undefined) return fresh;
    return float64 ? new Float64Array(length) : new Float32Array(length);
  }
  const checked = checkCompanion(fn, 'options.out', out, input);
  for (const [other, name] of arrays) checkNoPartialOverlap(fn, checked, 'options.out', other, name);
  return checked;
}

/**
 * Local Response Normalization, forward: each element divided by a power of the activity in its
 * window, `y[c] = x[c] * (k + a * (sum of x[j]^2 for j in [c - L, c + R]))^(-beta)`, at every
 * batch item and position, channels past either edge counting as zero.
 *
 * The preset (default `'alexnet'`, the paper's) fixes how `alpha` becomes `a` and where the
 * window `[c - L, c + R]` sits (see {@link PRESETS}); `size`, `alpha`, `beta` and `k` replace only
 * its defaults. float32 results are within 2^-21 relative of the formula evaluated in float64
 * (float64 results: 1e-12). The input is never written to unless it is `options.out`. Reusing an
 * `out` from call to call saves allocating and first touching new memory, which on some machines
 * costs more than the computation. The full contract: [docs/contract.md](https://github.com/local-response-norm/local-response-norm/blob/main/docs/contract.md).
 *
 * @param input - The tensor: a `Float32Array` or `Float64Array` (at any `byteOffset`, shared
 *   memory included) whose length is the product of `options.shape`.
 * @param options - `shape` (required) and the optional fields of {@link LrnOptions}, each read
 *   once.
 * @returns `options.out` when given (possibly `input` itself: in place), else a new array of the
 *   input's type and length.
 * @throws TypeError for a value of the wrong kind: an input that is not a `Float32Array` or
 *   `Float64Array`, an `out` of another type, an unknown option name, preset, layout or region, a
 *   non-number where a number belongs, or an array that an options getter detached or resized.
 * @throws RangeError for a value out of range: a shape with fewer than 2 dimensions, a negative or
 *   fractional dimension, or a product other than the input's length; a `size` below 1 (or even
 *   under `caffe` and `tensorflow`); a negative or infinite `alpha`, `beta` or `k`; within-channel
 *   LRN under a preset that has none or on a tensor without spatial axes; an `out` of another
 *   length or partly overlapping the input. Nothing is written to `out` when a call throws.
 * @throws Error when `LRN_BACKEND` or `LRN_KERNEL` asks for a backend that cannot run here, until
 *   {@link setBackend} chooses one ({@link backend} says why).
 *
 * @example
 * ```ts
 * import { lrn } from 'local-response-norm';
 * const shape = [1, 96, 55, 55];                     // NCHW activations
 * const x = new Float32Array(96 * 55 * 55).fill(1);
 * // The AlexNet paper's LRN: n=5, alpha=1e-4, beta=0.75, k=2.
 * const y = lrn(x, { shape });
 * // PyTorch's convention, in place.
 * lrn(x, { shape, preset: 'pytorch', out: x });
 * ```
 *
 * @group LRN
 */
export function lrn<T extends FloatArray>(input: T, options: LrnOptions<T>): T {
  const x = checkFloatArray('lrn', 'input', input);
  const arrays: Arrays = [[x, 'input']];
  const { plan, options: o } = checkCall('lrn', arrays, options);
  const y = output('lrn', o.out, arrays);
  activeBackend('lrn').forward(plan, x, y);
  return y as T;
}

/**
 * {@link lrn}, computed off the main thread: on libuv's thread pool, a large tensor split across
 * up to `options.threads` threads (by batch item, or by position for NHWC across channels), so
 * the event loop stays free. Same options and results as `lrn`, plus `threads`.
 *
 * The job holds the memory of its arrays until it settles, whatever JavaScript does with them
 * meanwhile ([docs/async-memory.md](https://github.com/local-response-norm/local-response-norm/blob/main/docs/async-memory.md)); writing to
 * `input` or `out` before it settles gives unspecified results. On the TypeScript backend the
 * work runs on the main thread after the current macrotask, from a copy of the input taken at
 * the call.
 *
 * @param input - The tensor, as for {@link lrn}.
 * @param options - Those of {@link lrn}, plus `threads` (see {@link LrnAsyncOptions}).
 * @returns A Promise of `options.out` when given, else of a new array of the input's type. It
 *   rejects with the TypeError, RangeError or Error that `lrn` would throw (nothing is thrown
 *   synchronously), with a RangeError for `threads` outside 1 to 1024, and with an Error of
 *   `code` `'ERR_LRN_OUTPUT_DETACHED'` when `out` was detached or resized before the job ended.
 *
 * @example
 * ```ts
 * import { lrnAsync } from 'local-response-norm';
 * const activations = new Float32Array(32 * 96 * 55 * 55);
 * const y = await lrnAsync(activations, { shape: [32, 96, 55, 55], preset: 'onnx', threads: 2 });
 * ```
 *
 * @group LRN
 */
export async function lrnAsync<T extends FloatArray>(input: T, options: LrnAsyncOptions<T>): Promise<T> {
  const x = checkFloatArray('lrnAsync', 'input', input);
  const arrays: Arrays = [[x, 'input']];
  const { plan, options: o } = checkCall('lrnAsync', arrays, options, ['threads']);
  const threads = checkThreads('lrnAsync', 'options.threads', o.threads, concurrency());
  const y = output('lrnAsync', o.out, arrays);
  if (plan.length > 0) await activeBackend('lrnAsync').forwardAsync(plan, x, y, threads);
  return y as T;
}

/**
 * Gradient of {@link lrn} with respect to its input: given `input` (x) and `gradOutput` (dy, the
 * gradient of the loss with respect to lrn's output), returns dx, the exact gradient of the
 * forward for the same options. With `dx = term1 - term2` as in docs/contract.md ("Backward"),
 * float32 results are within `1e-5 * (|term1| + |term2|)` of the formula evaluated in float64,
 * float64 results within `1e-12 * (|term1| + |term2|)`.
 *
 * @param input - The forward's input x: a `Float32Array` or `Float64Array`.
 * @param gradOutput - dy: same type and length as `input`.
 * @param options - The forward call's options; `out` may be `input` or `gradOutput` itself (in
 *   place); any other overlap with either is a RangeError.
 * @returns `options.out` when given, else a new array of the input's type and length.
 * @throws TypeError, RangeError or Error as {@link lrn} does, and also for a `gradOutput` of
 *   another type (TypeError) or length (RangeError) than `input`.
 *
 * @example
 * ```ts
 * import { lrnBackward } from 'local-response-norm';
 * const x = new Float32Array(8 * 64 * 28 * 28).fill(0.5);
 * const dy = new Float32Array(x.length).fill(1);
 * const dx = lrnBackward(x, dy, { shape: [8, 64, 28, 28], preset: 'pytorch' });
 * ```
 *
 * @group LRN
 */
export function lrnBackward<T extends FloatArray>(input: T, gradOutput: T, options: LrnOptions<T>): T {
  const x = checkFloatArray('lrnBackward', 'input', input);
  const dy = checkCompanion('lrnBackward', 'gradOutput', gradOutput, x);
  const arrays: Arrays = [[x, 'input'], [dy, 'gradOutput']];
  const { plan, options: o } = checkCall('lrnBackward', arrays, options);
  const dx = output('lrnBackward', o.out, arrays);
  activeBackend('lrnBackward').backward(plan, x, dy, dx);
  return dx as T;
}

/**
 * Which implementation computes: `backend: 'native'` with the kernel in use (`'avx512'`,
 * `'avx2'`, `'neon'` or `'scalar'`, the best this CPU runs unless one was chosen), or
 * `'fallback'` (the TypeScript implementation, same results) with `reason` saying why the addon
 * is not in use and how to get it. Never throws: when `LRN_BACKEND` or `LRN_KERNEL` forces a
 * choice that cannot be honoured, `error` holds the message that {@link lrn}, {@link lrnAsync}
 * and {@link lrnBackward} throw.
 *
 * @returns A new object each call; see {@link BackendInfo}.
 *
 * @example
 * ```ts
 * import { backend } from 'local-response-norm';
 * const { backend: kind, kernel, available, reason } = backend();
 * console.log(kind, kernel, available, reason ?? '');
 * ```
 *
 * @group Backend and threads
 */
export function backend(): BackendInfo {
  return backendInfo();
}

/**
 * Chooses the implementation for the following calls, replacing what `LRN_BACKEND` and
 * `LRN_KERNEL` asked for. Nothing is ever substituted for what is named: a test or benchmark
 * runs what it asked for or fails.
 *
 * @param name - `'auto'` (the best available: the best native kernel, else TypeScript),
 *   `'native'` (the best native kernel), `'fallback'` or `'typescript'` (TypeScript), or a
 *   native kernel name from `backend().available`.
 * @throws TypeError for a name that is not a string.
 * @throws RangeError for any other name, or a native one this process cannot run (the message
 *   lists the accepted names).
 *
 * @example
 * ```ts
 * import { setBackend, backend } from 'local-response-norm';
 * setBackend('fallback');
 * backend().kernel; // 'typescript'
 * setBackend('auto');
 * ```
 *
 * @group Backend and threads
 */
export function setBackend(name: 'auto' | 'native' | 'fallback' | BackendInfo['kernel'] | (string & {})): void {
  selectBackend(name);
}
