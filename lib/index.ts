// Public API of local-response-norm (docs/contract.md, "Names").
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
 * Local Response Normalization: `y = x * (k + a * sum of x^2 over the window)^(-beta)`.
 *
 * The preset (default `'alexnet'`) fixes how `alpha` becomes `a` and where the window sits;
 * `size`, `alpha`, `beta`, `k` override its defaults. Returns `options.out` when given (which may
 * be `input` itself for in-place), else a new array of the input's type. The input is never
 * modified unless it is `out`.
 *
 * @param input - Float32Array or Float64Array holding the tensor (any byteOffset).
 * @param options - `shape` (required), `layout`, `preset`, `size`, `alpha`, `beta`, `k`, `region`, `out`.
 * @returns The normalized tensor, same type and length as `input`.
 * @throws TypeError for a value of the wrong kind (not a float array, unknown option or preset).
 * @throws RangeError for a value out of range (shape does not match the length, size < 1, ...).
 *
 * @example
 * ```ts
 * import { lrn } from 'local-response-norm';
 * const x = new Float32Array(1 * 96 * 55 * 55);        // NCHW activations
 * const y = lrn(x, { shape: [1, 96, 55, 55] });         // AlexNet paper: n=5, alpha=1e-4, beta=0.75, k=2
 * lrn(x, { shape: [1, 96, 55, 55], preset: 'pytorch', out: x }); // in place, PyTorch's convention
 * ```
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
 * Like {@link lrn}, computed off the main thread: on libuv's thread pool, a large tensor split
 * across up to `options.threads` threads (default {@link concurrency}), so the event loop stays
 * free. Bad arguments reject the Promise with the same TypeError or RangeError that `lrn`
 * throws. The arrays are kept alive until it settles; do not change `input` or `out` meanwhile.
 * On the TypeScript backend the work runs on the main thread, after the current macrotask.
 *
 * @example
 * ```ts
 * import { lrnAsync } from 'local-response-norm';
 * const y = await lrnAsync(activations, { shape: [32, 96, 55, 55], preset: 'onnx', threads: 2 });
 * ```
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
 * gradient of the loss with respect to lrn's output), returns dx for the same options. `out` may
 * be `input` or `gradOutput` itself (in place).
 *
 * @param input - The forward input x.
 * @param gradOutput - dy, same type and length as `input`.
 * @param options - The forward call's options.
 *
 * @example
 * ```ts
 * import { lrnBackward } from 'local-response-norm';
 * const dx = lrnBackward(x, dy, { shape: [8, 64, 28, 28], preset: 'pytorch' });
 * ```
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
 * Which implementation computes: `backend: 'native'` with the SIMD kernel in use, or
 * `'fallback'` (TypeScript) with `reason` saying why native is not in use. Never throws: when
 * `LRN_BACKEND` or `LRN_KERNEL` forces a choice that cannot be honoured, `error` holds the
 * message the computing calls throw.
 *
 * @example
 * ```ts
 * import { backend } from 'local-response-norm';
 * const { backend: kind, kernel, available, reason } = backend();
 * console.log(kind, kernel, available, reason ?? '');
 * ```
 */
export function backend(): BackendInfo {
  return backendInfo();
}

/**
 * Chooses the implementation for the following calls: `'auto'` (the best available),
 * `'native'` (the best native kernel), `'fallback'` or `'typescript'` (TypeScript), or a native
 * kernel name from `backend().available`. An unknown or unavailable name is a RangeError;
 * nothing else is substituted.
 *
 * @example
 * ```ts
 * import { setBackend, backend } from 'local-response-norm';
 * setBackend('fallback');
 * backend().kernel; // 'typescript'
 * setBackend('auto');
 * ```
 */
export function setBackend(name: 'auto' | 'native' | 'fallback' | BackendInfo['kernel'] | (string & {})): void {
  selectBackend(name);
}
