// Loads the native addon (build/Release first, then prebuilds/, via node-gyp-build) and adapts
// it to the Backend interface. Any failure leaves the TypeScript backend in charge, with a
// one-line reason that says what to do about it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Backend } from './backend.js';
import type { Plan } from './options.js';
import { bufferOf, byteOffsetOf, lengthOf, outputDetached, typedArrayName } from './errors.js';
import type { FloatArray } from './types.js';

export type NativeKernelName = 'avx512' | 'avx2' | 'neon' | 'scalar';

export interface NativeAddon {
  /** Kernels this CPU can run, best first. */
  readonly kernels: readonly string[];
  /** The kernel 'auto' picks. */
  readonly best: NativeKernelName;
  /** How lrnAsync keeps its arrays' memory while a job runs: 'pin' (zero copy) or 'copy'. */
  readonly asyncMemory: 'pin' | 'copy';
  /** Why it copies, where it does. */
  readonly asyncMemoryReason: string;
  kernel(name: string): Backend;
}

/** What the compiled binding exports (native/binding.cc). */
interface Binding {
  kernels(): string[];
  best: string;
  forward(kernel: string, x: FloatArray, y: FloatArray, geometry: Float64Array): void;
  backward(kernel: string, x: FloatArray, dy: FloatArray, dx: FloatArray, geometry: Float64Array): void;
  forwardAsync(kernel: string, x: FloatArray, y: FloatArray, geometry: Float64Array): Promise<void>;
  /** Marks a large array's memory for transparent huge pages (Linux); true when it did. */
  hugePages(array: FloatArray): boolean;
  /** Loads the pin shim at `path` for this process: '' when async jobs pin from now on, else why not. */
  usePin(path: string): string;
  /** How async jobs keep their arrays' memory: 'pin' (zero copy) or 'copy' (docs/async-memory.md). */
  asyncMemory(): 'pin' | 'copy';
}

/** The runtimes that load Node addons and report a Node version and ABI, but run another engine
 *  than that Node's V8 (Bun, Deno) or their own build of V8 (Electron). */
function otherRuntime(): string | null {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun !== undefined) return 'Bun';
  if (versions.deno !== undefined) return 'Deno';
  if (versions.electron !== undefined) return 'Electron';
  if (versions.nw !== undefined) return 'NW.js';
  if (versions.chromium !== undefined) return 'A Chromium embedder';
  return null;
}

/** Loads the pin shim of this Node's ABI (native/pin/pin.cc; docs/async-memory.md): beside the
 *  binary (prebuilds/<platform>/), or in build/pin/ for a source build. Returns why lrnAsync
 *  copies, or '' where it pins. */
function loadPin(binding: Binding, file: string, root: string): string {
  const runtime = otherRuntime();
  const zeroCopy = 'lrnAsync copies arrays over ordinary ArrayBuffers; arrays over a SharedArrayBuffer need no copy';
  if (runtime !== null) return `${runtime} is not Node: ${zeroCopy}`;
  if (process.platform !== 'linux' && process.platform !== 'darwin') return `pinning needs Linux or macOS: ${zeroCopy}`;
  const modules = process.versions.modules;
  if (!/^\d+$/.test(modules)) return `this runtime reports no Node ABI: ${zeroCopy}`;
  const name = `pin-abi${modules}.so`;
  const shims = [join(dirname(file), name), join(root, 'build', 'pin', name)].filter((path) => existsSync(path));
  if (shims.length === 0) {
    return `this package has no pin shim for Node ${process.versions.node.split('.')[0]} (ABI ${modules}): ${zeroCopy}`;
  }
  let reason = '';
  for (const shim of shims) {
    reason = binding.usePin(shim);
    if (reason === '') return '';
  }
  return `${reason}: ${zeroCopy}`;
}

/** The public error for an async job's rejection when its output was detached or resized. */
function publicError(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code === 'ERR_LRN_OUTPUT_DETACHED' ? outputDetached() : error;
}

/** Elements [offset, offset + length) of `a` as a new view, made from the built-in getters and
 *  constructors: no method or property of the caller's array runs. */
function part(a: FloatArray, offset: number, length: number): FloatArray {
  const Ctor = typedArrayName(a) === 'Float64Array' ? Float64Array : Float32Array;
  return new Ctor(bufferOf(a) as ArrayBuffer, byteOffsetOf(a) + offset * Ctor.BYTES_PER_ELEMENT, length);
}

/** New outputs from this size up get the addon's huge-page hint (docs/memory.md). */
const HUGE_OUTPUT_BYTES = 32 << 20;

/** A new output: an ordinary typed array, which the runtime owns, transfers and collects like any
 *  other. From 32 MiB up its memory is marked for huge pages before its first touch. */
function newOutput(binding: Binding, float64: boolean, length: number): FloatArray {
  const array = float64 ? new Float64Array(length) : new Float32Array(length);
  if (array.byteLength >= HUGE_OUTPUT_BYTES) binding.hugePages(array);
  return array;
}

/** Below this many elements a part is not worth a thread of its own. */
const MIN_PART = 1 << 16;

/** Splits a call into up to `threads` independent parts: runs of positions for NHWC across
 *  channels (each position's channels are contiguous), else runs of batch items. */
export function split(plan: Plan, threads: number): Array<{ offset: number; plan: Plan }> {
  const byPosition = plan.layout === 'NHWC' && plan.region === 'across-channels';
  const units = byPosition ? plan.batch * plan.spatialSize : plan.batch;
  const unitLength = units === 0 ? 0 : plan.length / units;
  const count = Math.max(1, Math.min(threads, units, Math.ceil(plan.length / MIN_PART)));
  if (count === 1) return [{ offset: 0, plan }];
  const parts: Array<{ offset: number; plan: Plan }> = [];
  for (let i = 0; i < count; i++) {
    const first = Math.floor((units * i) / count);
    const n = Math.floor((units * (i + 1)) / count) - first;
    const part: Plan = byPosition
      ? { ...plan, batch: 1, spatial: [n], spatialSize: n, length: n * unitLength }
      : { ...plan, batch: n, length: n * unitLength };
    parts.push({ offset: first * unitLength, plan: part });
  }
  return parts;
}

const FIXED = 9;

// Synchronous calls reuse one geometry array (allocating a typed array costs about a
// microsecond, as much as a small call); the binding reads it before returning.
let shared = new Float64Array(FIXED + 8);

/** The numbers the binding needs, in its order: layout, region, batch, channels, before, after,
 *  k, a, beta, then the spatial dimensions. `reuse` for calls that finish before returning. */
function geometry(plan: Plan, reuse = false): Float64Array {
  const size = FIXED + plan.spatial.length;
  if (reuse && shared.length < size) shared = new Float64Array(size);
  const g = reuse ? (shared.length === size ? shared : shared.subarray(0, size)) : new Float64Array(size);
  g[0] = plan.layout === 'NCHW' ? 0 : 1;
  g[1] = plan.region === 'across-channels' ? 0 : 1;
  g[2] = plan.batch;
  g[3] = plan.channels;
  g[4] = plan.before;
  g[5] = plan.after;
  g[6] = plan.k;
  g[7] = plan.a;
  g[8] = plan.beta;
  g.set(plan.spatial, FIXED);
  return g;
}

function adapt(binding: Binding, pinReason: string): NativeAddon {
  const kernels = binding.kernels();
  return {
    kernels,
    best: binding.best as NativeKernelName,
    // Read when asked: LRN_ASYNC_COPY is read by each job.
    get asyncMemory() {
      return binding.asyncMemory();
    },
    get asyncMemoryReason() {
      return binding.asyncMemory() === 'pin' ? '' : pinReason === '' ? 'LRN_ASYNC_COPY=1 forces copies' : pinReason;
    },
    kernel: (name) => ({
      forward: (plan, x, y) => binding.forward(name, x, y, geometry(plan, true)),
      backward: (plan, x, dy, dx) => binding.backward(name, x, dy, dx, geometry(plan, true)),
      allocate: (float64, length) => newOutput(binding, float64, length),
      forwardAsync: async (plan, x, y, threads) => {
        const parts = split(plan, threads).map(({ offset, plan: piece }) =>
          binding.forwardAsync(name, part(x, offset, piece.length), part(y, offset, piece.length), geometry(piece)));
        // Every part settles before the call does, so no job still runs when the caller resumes.
        const results = await Promise.allSettled(parts);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed !== undefined) throw publicError(failed.reason);
        // The parts are fixed-length views, which a buffer grown meanwhile leaves unchanged: `y`
        // itself (length-tracking over a resizable or growable buffer) must still be as called.
        if (lengthOf(y) !== plan.length) throw outputDetached();
      },
    }),
  };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}

/** Loads the addon built for (or shipped in prebuilds/ of) the package at `root`. */
export function loadNative(root = join(__dirname, '..')): { addon: NativeAddon | null; reason: string } {
  const record = installRecord(root);
  let file: string | null = null;
  try {
    file = (require('node-gyp-build') as { path(dir: string): string }).path(root);
    // A binary that crashed the install step's probe would crash this process too.
    if (record?.crashed === true && record.binary === file) return { addon: null, reason: record.reason };
    const binding = require(file) as Binding;
    if (typeof binding.forward !== 'function' || typeof binding.kernels !== 'function') {
      throw new Error('the loaded file is not this package\'s addon');
    }
    return { addon: adapt(binding, loadPin(binding, file, root)), reason: '' };
  } catch (error) {
    return {
      addon: null,
      reason: record !== undefined && record.binary === file ? record.reason : `native addon not loaded (${firstLine(error)}); ` +
        'run `npm rebuild local-response-norm` with python3, make and a C++17 compiler to build it',
    };
  }
}

interface InstallRecord {
  /** The paragraph the install step printed. */
  reason: string;
  /** The file node-gyp-build found then (null: none); the record holds only while it is the same. */
  binary: string | null;
  /** That file crashed the process that loaded it. */
  crashed: boolean;
}

/** What the install step said when it left no addon that loads (scripts/install.js). */
function installRecord(root: string): InstallRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(join(root, 'build', 'install.json'), 'utf8')) as Partial<InstallRecord>;
    if (typeof r.reason !== 'string' || (typeof r.binary !== 'string' && r.binary !== null)) return undefined;
    return { reason: r.reason, binary: r.binary, crashed: r.crashed === true };
  } catch {
    return undefined;
  }
}
