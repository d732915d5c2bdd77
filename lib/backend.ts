// Which implementation computes: the native addon's kernels when present, else TypeScript.
// A forced choice (setBackend, LRN_BACKEND, LRN_KERNEL) that cannot be honoured is an error at
// every computing call, never a silent substitute, so a test or benchmark always runs what it
// asked for; backend() still answers, with the reason.
import { describe, rangeError, typeError } from './errors.js';
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
  /** A new output array of the backend's own making (an ordinary typed array, which the native
   *  backend marks for huge pages when large), if it has one; every element gets written. */
  allocate?(float64: boolean, length: number): FloatArray | undefined;
}

const FALLBACK_NAMES = ['fallback', 'typescript'];

interface Selection {
  /** What was asked for: 'auto', 'native' (its best kernel), 'fallback', 'typescript' or a
   *  native kernel name ('' when the two variables disagree). */
  readonly name: string;
  /** Where the request came from, for backend().reason: 'setBackend', 'LRN_BACKEND=fallback', ... */
  readonly source: string;
  /** The environment variable whose value is `name`, for a message about that value. */
  readonly variable?: string;
  /** LRN_BACKEND and LRN_KERNEL ask for different backends. */
  readonly conflict?: boolean;
}

let native: NativeAddon | null | undefined;
let nativeReason = '';
let selection: Selection = fromEnvironment();

/** Which backend a name asks for ('auto' or '' leaves the choice open). */
function kind(name: string): 'auto' | 'fallback' | 'native' {
  if (name === '' || name === 'auto') return 'auto';
  return FALLBACK_NAMES.includes(name) ? 'fallback' : 'native';
}

// Either variable alone chooses. Both set must agree: both a fallback name, the same kernel, or
// 'native' with a kernel name (that kernel).
function fromEnvironment(): Selection {
  const env = typeof process === 'undefined' ? {} : process.env;
  const set = (['LRN_BACKEND', 'LRN_KERNEL'] as const)
    .map((variable) => ({ variable, value: env[variable] ?? '' }))
    .filter(({ value }) => kind(value) !== 'auto');
  const [first, second] = set;
  if (first === undefined) return { name: 'auto', source: 'default' };
  if (second === undefined) return { name: first.value, source: `${first.variable}=${first.value}`, variable: first.variable };
  const source = `LRN_BACKEND=${first.value} and LRN_KERNEL=${second.value}`;
  const [a, b] = [first.value, second.value];
  if (kind(a) === kind(b) && (a === b || kind(a) === 'fallback' || a === 'native' || b === 'native')) {
    const named = a === 'native' ? second : first;
    return { name: named.value, source, variable: named.variable };
  }
  return { name: '', source, conflict: true };
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

/** The names setBackend, LRN_BACKEND and LRN_KERNEL accept on this machine, for messages. */
function acceptedNames(): string[] {
  const kernels = availableKernels();
  return ['auto', ...(kernels.length > 0 ? ['native'] : []), ...FALLBACK_NAMES, ...kernels];
}

function accepted(): string {
  const names = acceptedNames().map((n) => `'${n}'`).join(', ');
  return addon() === null ? `one of ${names} (no native kernel: ${nativeReason})` : `one of ${names}`;
}

/** Why the selection cannot be honoured (the message computing calls throw after their name). */
function unusable(): string {
  const { name, source, variable } = selection;
  if (selection.conflict) {
    return `${source} disagree: expected them to name the same backend, or only one of them to be set ` +
      `(each takes ${accepted()})`;
  }
  if (name === 'native' && addon() === null) return `expected the native addon for ${variable}=native but ${nativeReason}`;
  return `expected ${accepted()} for ${variable ?? source} but received ${describe(name)}`;
}

type Active = { info: BackendInfo; impl: Backend } | { info: BackendInfo; impl: null; error: string };

/** How lrnAsync holds memory on the native backend, and why it copies where it does. */
function asyncMemoryOf(lib: NativeAddon): Pick<BackendInfo, 'asyncMemory' | 'asyncMemoryReason'> {
  return lib.asyncMemory === 'pin' ? { asyncMemory: 'pin' } : { asyncMemory: 'copy', asyncMemoryReason: lib.asyncMemoryReason };
}

function automatic(available: string[]): Active & { impl: Backend } {
  const lib = addon();
  if (lib === null) {
    return { info: { backend: 'fallback', kernel: 'typescript', available, reason: nativeReason }, impl: fallback };
  }
  return { info: { backend: 'native', kernel: lib.best, available }, impl: lib.kernel(lib.best) };
}

function resolveSelection(): Active {
  const available = availableKernels();
  const { name, source } = selection;
  if (name === 'auto') return automatic(available);
  if (FALLBACK_NAMES.includes(name)) {
    return {
      info: { backend: 'fallback', kernel: 'typescript', available, reason: `forced by ${source}` },
      impl: fallback,
    };
  }
  const lib = addon();
  const kernel = name === 'native' ? lib?.best : name;
  if (lib !== null && kernel !== undefined && !selection.conflict && lib.kernels.includes(kernel)) {
    return { info: { backend: 'native', kernel: kernel as BackendInfo['kernel'], available }, impl: lib.kernel(kernel) };
  }
  // Nothing computes; backend and kernel say what 'auto' would use.
  const error = unusable();
  const info = automatic(available).info;
  return {
    info: { ...info, reason: `${error}; lrn, lrnAsync and lrnBackward throw until setBackend() chooses a backend`, error },
    impl: null,
    error,
  };
}

let active: Active | undefined;

/** The backend that computes `fn`'s call; throws when a forced choice cannot be honoured. */
export function activeBackend(fn: string): Backend {
  active ??= resolveSelection();
  if (active.impl === null) throw new Error(`${fn}: ${active.error}`);
  return active.impl;
}

/** See the public `backend()`; never throws. */
export function backendInfo(): BackendInfo {
  active ??= resolveSelection();
  const { info } = active;
  const result: BackendInfo = { ...info, available: info.available.slice() };
  const lib = info.backend === 'native' ? addon() : null;
  // How lrnAsync holds memory now (each job reads LRN_ASYNC_COPY), not when the backend was chosen.
  return lib === null ? result : { ...result, ...asyncMemoryOf(lib) };
}

/** See the public `setBackend()`. */
export function selectBackend(name: unknown): void {
  if (typeof name !== 'string') throw typeError('setBackend', 'the backend name', accepted(), name);
  if (!acceptedNames().includes(name)) throw rangeError('setBackend', 'the backend name', accepted(), name);
  selection = { name, source: 'setBackend' };
  active = undefined;
}
