// TensorFlow.js drop-in (docs/tfjs.md): kernels for tfjs's `LRN` and `LRNGrad` that compute with
// this package. tfjs is an optional peer dependency, so nothing here loads it: the caller passes
// its namespace, and the few registry functions and backend methods used are typed structurally
// (tfjs-core's own declarations need the DOM library).
/**
 * TensorFlow.js drop-in: {@link registerTfjsKernels} makes `tf.localResponseNormalization` and its
 * gradient compute with this package; {@link unregisterTfjsKernels} restores tfjs's own kernels.
 *
 * @module local-response-norm/tfjs
 */
import { rangeError, typeError } from './errors.js';
import { lrn, lrnBackward } from './index.js';
import type { LrnOptions } from './types.js';

/** What tfjs passes between kernels: a handle to a tensor's data, its shape and dtype. */
export interface TfjsTensorInfo {
  /** The backend's key for the tensor's data. */
  dataId: object;
  /** The tensor's dimensions. */
  shape: number[];
  /** tfjs's data type name: `'float32'`, `'int32'`, ... */
  dtype: string;
}

/** A kernel's arguments, as tfjs's engine passes them. */
export interface TfjsKernelParams {
  /** The kernel's input tensors by name (`x`; for `LRNGrad` also `y` and `dy`). */
  inputs: { [name: string]: TfjsTensorInfo | undefined };
  /** The backend instance the kernel runs on. */
  backend: unknown;
  /** The op's attributes (`depthRadius`, `bias`, `alpha`, `beta`). */
  attrs?: { [name: string]: unknown };
}

/** An entry of tfjs's kernel registry (`tf.getKernel`, `tf.registerKernel`). */
export interface TfjsKernelConfig {
  /** The op's kernel name: `'LRN'` or `'LRNGrad'` here. */
  kernelName: string;
  /** The backend the kernel is registered for: `'cpu'` or `'wasm'`. */
  backendName: string;
  /** Computes the kernel's output tensor. */
  kernelFunc(params: TfjsKernelParams): unknown;
  /** Run once by tfjs when the backend starts (tfjs-backend-wasm binds its WebAssembly here). */
  setupFunc?(backend: unknown): void;
  /** Run by tfjs when the backend is disposed. */
  disposeFunc?(backend: unknown): void;
}

/** The part of the `@tensorflow/tfjs-core` (or `@tensorflow/tfjs`) namespace used here. */
export interface Tfjs {
  /** The registered kernel for an op on a backend, if any. */
  getKernel(kernelName: string, backendName: string): TfjsKernelConfig | undefined;
  /** Registers a kernel (tfjs warns when one is already registered). */
  registerKernel(config: TfjsKernelConfig): void;
  /** Removes the registered kernel for an op on a backend. */
  unregisterKernel(kernelName: string, backendName: string): void;
}

/** Options of {@link registerTfjsKernels}. */
export interface TfjsKernelOptions {
  /**
   * The tfjs backends whose `LRN` and `LRNGrad` kernels to replace: `'cpu'`
   * (`@tensorflow/tfjs-backend-cpu`) and `'wasm'` (`@tensorflow/tfjs-backend-wasm`).
   * @defaultValue `['cpu']`
   */
  backends?: readonly ('cpu' | 'wasm')[] | undefined;
}

const FN = 'registerTfjsKernels';
const KERNELS = ['LRN', 'LRNGrad'] as const;
const BACKENDS: readonly string[] = ['cpu', 'wasm'];
const OPTION_NAMES: readonly string[] = ['backends'];

// Our configs carry the kernel they replace under a registry-wide symbol, so that unregistering
// restores it whichever copy of this module (or of tfjs-core) registered, and registering again
// never mistakes our own kernel for tfjs's.
const ORIGINAL = Symbol.for('local-response-norm/tfjs original kernel');
type OurConfig = TfjsKernelConfig & { [ORIGINAL]: TfjsKernelConfig };

function isOurs(config: TfjsKernelConfig | undefined): config is OurConfig {
  return config !== undefined && Object.prototype.hasOwnProperty.call(config, ORIGINAL);
}

/** How a backend keeps float32 tensor data: `output` runs `compute` on the inputs' arrays (with
 *  an array to write into, or none for a new one) and returns the output's TensorInfo. */
interface Memory {
  output(shape: number[], inputs: readonly TfjsTensorInfo[],
    compute: (arrays: Float32Array[], out: Float32Array | undefined) => Float32Array): TfjsTensorInfo;
}

type Method = (...args: unknown[]) => unknown;

function method(owner: unknown, name: string, backendName: string, kernelName: string): Method {
  const f = owner === null || typeof owner !== 'object' ? undefined : (owner as Record<string, unknown>)[name];
  if (typeof f !== 'function') {
    throw new Error(`local-response-norm/tfjs: ${kernelName} runs on a '${backendName}' backend without ${name}() ` +
      `(is it @tensorflow/tfjs-backend-${backendName}?)`);
  }
  return (...args) => f.apply(owner, args);
}

/** tfjs-backend-cpu: every tensor's values are a JavaScript typed array in `backend.data`, and
 *  `makeTensorInfo` stores a new one as an output (its own kernels do both). */
function cpuMemory(backend: unknown, kernelName: string): Memory {
  const get = method((backend as { data?: unknown } | null)?.data, 'get', 'cpu', kernelName);
  const makeTensorInfo = method(backend, 'makeTensorInfo', 'cpu', kernelName);
  const read = (info: TfjsTensorInfo): Float32Array => {
    const values = (get(info.dataId) as { values?: unknown } | undefined)?.values;
    const size = info.shape.reduce((p, d) => p * d, 1);
    if (values instanceof Float32Array && values.length === size) return values;
    if (ArrayBuffer.isView(values) && (values as Float64Array).length === size) return Float32Array.from(values as Float64Array);
    throw new Error(`local-response-norm/tfjs: ${kernelName} found no ${size} values for a tensor of shape ` +
      `[${info.shape.join(', ')}] in the cpu backend`);
  };
  return {
    output: (shape, inputs, compute) => makeTensorInfo(shape, 'float32', compute(inputs.map(read), undefined)) as TfjsTensorInfo,
  };
}

/** tfjs-backend-wasm: tensors live in the WebAssembly heap. `makeOutput` allocates (and may grow
 *  the heap, which detaches earlier views of it), so the views are taken after it, used by one
 *  synchronous call and dropped; the backend's own JavaScript kernels (Concat, Slice) do the same. */
function wasmMemory(backend: unknown, kernelName: string): Memory {
  const makeOutput = method(backend, 'makeOutput', 'wasm', kernelName);
  const view = method(backend, 'typedArrayFromHeap', 'wasm', kernelName);
  const disposeData = method(backend, 'disposeData', 'wasm', kernelName);
  return {
    output(shape, inputs, compute) {
      const out = makeOutput(shape, 'float32') as TfjsTensorInfo;
      try {
        compute(inputs.map((info) => view(info) as Float32Array), view(out) as Float32Array);
      } catch (error) {
        disposeData(out.dataId, true);
        throw error;
      }
      return out;
    },
  };
}

/** The package's options for tfjs's attrs, or undefined where they fall outside the contract
 *  (a negative or fractional depthRadius, a negative or non-finite bias, alpha or beta): those
 *  calls stay with tfjs's own kernel, which defines what they do. */
function optionsOf(attrs: { [name: string]: unknown } | undefined): Omit<LrnOptions<Float32Array>, 'shape'> | undefined {
  const { depthRadius, bias, alpha, beta } = attrs ?? {};
  if (typeof depthRadius !== 'number' || !Number.isSafeInteger(2 * depthRadius + 1) || depthRadius < 0) return undefined;
  for (const v of [bias, alpha, beta]) if (typeof v !== 'number' || !(v >= 0 && v < Infinity)) return undefined;
  return { preset: 'tensorflow', layout: 'NHWC', size: 2 * depthRadius + 1, alpha: alpha as number, beta: beta as number, k: bias as number };
}

function check4d(kernelName: string, name: string, info: TfjsTensorInfo): void {
  if (info.shape.length !== 4) {
    throw new Error(`local-response-norm/tfjs: ${kernelName} expects a 4-D NHWC tensor for ${name} but received ` +
      `shape [${info.shape.join(', ')}] (tf.localResponseNormalization reshapes a 3-D one)`);
  }
}

function ourConfig(original: TfjsKernelConfig): OurConfig {
  const backendName = original.backendName;
  const kernelName = original.kernelName;
  const memoryOf = backendName === 'wasm' ? wasmMemory : cpuMemory;
  const kernelFunc = (params: TfjsKernelParams): unknown => {
    const options = optionsOf(params.attrs);
    const names = kernelName === 'LRN' ? ['x'] : ['x', 'y', 'dy'];
    const infos = names.map((name) => params.inputs[name]);
    // float32 is what tfjs's LRN computes; any other dtype gets tfjs's own kernel and its
    // behaviour (the wasm kernel throws, the cpu one computes anyway).
    if (options === undefined || infos.some((info) => info === undefined || info.dtype !== 'float32')) {
      return original.kernelFunc(params);
    }
    const [x, , dy] = infos as TfjsTensorInfo[];
    check4d(kernelName, 'x', x!);
    const shape = x!.shape.slice();
    const memory = memoryOf(params.backend, kernelName);
    if (kernelName === 'LRN') {
      return memory.output(shape, [x!], ([xs], out) => lrn(xs!, { shape, ...options, ...(out && { out }) }));
    }
    check4d(kernelName, 'dy', dy!);
    if (dy!.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`local-response-norm/tfjs: LRNGrad expects dy of x's shape [${shape.join(', ')}] ` +
        `but received [${dy!.shape.join(', ')}]`);
    }
    // y (the forward output tfjs saved) is not needed: the package's backward recomputes what it
    // uses from x, which under tf.grad is the same.
    return memory.output(shape, [x!, dy!], ([xs, dys], out) =>
      lrnBackward(xs!, dys!, { shape, ...options, ...(out && { out }) }));
  };
  return { ...original, kernelFunc, [ORIGINAL]: original };
}

function checkOptions(options: unknown): readonly string[] {
  if (options === undefined) return ['cpu'];
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw typeError(FN, 'options', 'an object or undefined', options);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) throw typeError(FN, 'an option name', "one of 'backends'", key);
  }
  const backends = (options as { backends?: unknown }).backends;
  if (backends === undefined) return ['cpu'];
  if (!Array.isArray(backends) || backends.some((b) => typeof b !== 'string')) {
    throw typeError(FN, 'options.backends', 'an array of backend names', backends);
  }
  const names = [...backends] as string[];
  if (names.length === 0) throw rangeError(FN, 'options.backends', 'at least one backend name', backends);
  for (const name of names) {
    if (!BACKENDS.includes(name)) {
      throw rangeError(FN, 'options.backends', "names among 'cpu', 'wasm' (the backends whose tensor memory " +
        'JavaScript can read and write)', backends);
    }
  }
  return [...new Set(names)];
}

/**
 * Replaces tfjs's `LRN` and `LRNGrad` kernels on the given backends (default `'cpu'`) by ones that
 * compute with this package, under its `tensorflow` preset (size = 2 * depthRadius + 1,
 * k = bias, NHWC). `tf.localResponseNormalization` and its gradient then run this package's
 * kernels. Registering again is a no-op for backends already registered; tfjs's own kernels are
 * kept for {@link unregisterTfjsKernels}. The backend packages must be imported first.
 *
 * @param tf - The `@tensorflow/tfjs-core` (or `@tensorflow/tfjs`) namespace.
 * @param options - `backends`: `['cpu']` (default), `['wasm']` or both.
 * @throws TypeError or RangeError for bad options; Error when a backend has no LRN kernel
 *   registered (its package is not imported). Nothing is registered when it throws.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { registerTfjsKernels } from 'local-response-norm/tfjs';
 * registerTfjsKernels(tf);
 * const y = tf.localResponseNormalization(tf.ones([1, 4, 4, 8]), 2, 1, 1e-4, 0.75);
 * ```
 */
export function registerTfjsKernels(tf: Tfjs, options?: TfjsKernelOptions): void {
  checkTf(FN, tf);
  const backends = checkOptions(options);
  const plan: TfjsKernelConfig[] = [];
  for (const backendName of backends) {
    for (const kernelName of KERNELS) {
      const current = tf.getKernel(kernelName, backendName);
      if (current === undefined) {
        throw new Error(`${FN}: no '${kernelName}' kernel is registered for tfjs backend '${backendName}'; ` +
          `import '@tensorflow/tfjs-backend-${backendName}' before registering`);
      }
      if (!isOurs(current)) plan.push(current);
    }
  }
  for (const original of plan) {
    // Unregistered first: tfjs warns when a kernel is registered over another.
    tf.unregisterKernel(original.kernelName, original.backendName);
    tf.registerKernel(ourConfig(original));
  }
}

/**
 * Puts back tfjs's own `LRN` and `LRNGrad` kernels (the very configs {@link registerTfjsKernels}
 * found) on every backend where this package's are registered. Does nothing where they are not.
 *
 * @param tf - The same tfjs namespace (any copy sharing its kernel registry).
 */
export function unregisterTfjsKernels(tf: Tfjs): void {
  checkTf('unregisterTfjsKernels', tf);
  for (const backendName of BACKENDS) {
    for (const kernelName of KERNELS) {
      const current = tf.getKernel(kernelName, backendName);
      if (!isOurs(current)) continue;
      tf.unregisterKernel(kernelName, backendName);
      tf.registerKernel(current[ORIGINAL]);
    }
  }
}

function checkTf(fn: string, tf: unknown): void {
  const t = tf as Partial<Record<keyof Tfjs, unknown>> | null | undefined;
  if (typeof t !== 'object' || t === null || typeof t.getKernel !== 'function' ||
    typeof t.registerKernel !== 'function' || typeof t.unregisterKernel !== 'function') {
    throw typeError(fn, 'tf', "the tfjs namespace (import * as tf from '@tensorflow/tfjs-core')", tf);
  }
}
