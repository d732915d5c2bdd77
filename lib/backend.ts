// Which implementation computes: the native addon's kernels when present, else TypeScript.
// A forced choice (setBackend, LRN_BACKEND, LRN_KERNEL) that cannot be honoured is an error at
// every call, never a silent substitute, so a test or benchmark always runs what it asked for.
import * as fallback from './fallback/index.js';
import { loadNative, type NativeAddon } from './native.js';
import type { Plan } from './options.js';
import type { BackendInfo, FloatArray } from './types.js';

/** What every backend implements. */
export interface Backend {
  forward(plan: Plan, x: FloatArray, y: FloatArray): void;
  backward(plan: Plan, x: FloatArray, dy: FloatArray, dx: FloatArray): void;
  /** The forward off the main thread, split across up to `threads` threads. */
  forwardAsync(plan: Plan, x: FloatArray, y: FloatArray, threads: number): Promise<void>;
  /** A new output array that is cheaper to fill than `new Float32Array(length)`, if the backend
   *  has one; its contents are unspecified (every element gets written). */
  allocate?(float64: boolean, length: number): FloatArray | undefined;
}

const FALLBACK_NAMES = ['fallback', 'typescript'];

interface Selection {
  /** What was asked for: 'auto', 'fallback' or a native kernel name. */
  readonly name: string;
  /** Where the request came from, for error messages. */
  readonly source: string;
}

let native: NativeAddon | null | undefined;
let nativeReason = '';
let selection: Selection = fromEnvironment();

function fromEnvironment(): Selection {
  const env = typeof process === 'undefined' ? {} : process.env;
  const kernel = env.LRN_KERNEL;
  const chosen = env.LRN_BACKEND;
  if (chosen !== undefined && chosen !== '' && chosen !== 'auto') {
    return { name: chosen, source: `LRN_BACKEND=${chosen}` };
  }
  if (kernel !== undefined && kernel !== '') return { name: kernel, source: `LRN_KERNEL=${kernel}` };
  return { name: 'auto', source: 'default' };
}

function addon(): NativeAddon | null {
  if (native === undefined) {
    const loaded = loadNative();
    native = loaded.addon;
    nativeReason = loaded.reason;
  }
  return native;
}

function availableKernels(): string[] {
  return addon()?.kernels.slice() ?? [];
}

function unavailable(what: string): Error {
  const kernels = availableKernels();
  const list = kernels.length > 0 ? kernels.join(', ') : `none (${nativeReason})`;
  return new Error(
    `local-response-norm: ${what} is not available on this machine. ` +
    `Native kernels available: ${list}; 'fallback' (TypeScript) always is.`,
  );
}

type Active = { info: BackendInfo; impl: Backend };

function resolveSelection(): Active {
  const available = availableKernels();
  const { name, source } = selection;
  if (FALLBACK_NAMES.includes(name)) {
    return {
      info: { backend: 'fallback', kernel: 'typescript', available, reason: `forced by ${source}` },
      impl: fallback,
    };
  }
  const lib = addon();
  if (name === 'auto') {
    if (lib === null) {
      return { info: { backend: 'fallback', kernel: 'typescript', available, reason: nativeReason }, impl: fallback };
    }
    return { info: { backend: 'native', kernel: lib.best, available }, impl: lib.kernel(lib.best) };
  }
  if (lib === null || !lib.kernels.includes(name)) {
    throw unavailable(source === 'setBackend' ? `kernel '${name}' (setBackend)` : `the kernel forced by ${source}`);
  }
  return { info: { backend: 'native', kernel: name as BackendInfo['kernel'], available }, impl: lib.kernel(name) };
}

let active: Active | undefined;

/** The backend that computes the next call; throws when a forced choice cannot be honoured. */
export function activeBackend(): Backend {
  active ??= resolveSelection();
  return active.impl;
}

/** See the public `backend()`. */
export function backendInfo(): BackendInfo {
  active ??= resolveSelection();
  const { info } = active;
  return { ...info, available: info.available.slice() };
}

/** See the public `setBackend()`. */
export function selectBackend(name: unknown): void {
  if (typeof name !== 'string') {
    throw new TypeError(`setBackend: expected a backend name string ('auto', 'fallback' or a native kernel) but received ${typeof name}`);
  }
  const available = availableKernels();
  if (name !== 'auto' && !FALLBACK_NAMES.includes(name) && !available.includes(name)) {
    throw new RangeError(
      `setBackend: expected 'auto', 'fallback' or an available native kernel (${available.length > 0 ? available.join(', ') : `none: ${nativeReason}`}) ` +
      `but received '${name}'`,
    );
  }
  selection = { name, source: 'setBackend' };
  active = undefined;
}
