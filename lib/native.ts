// Loads the native addon (prebuilds/ first, then build/Release, via node-gyp-build) and adapts
// it to the Backend interface. Any failure leaves the TypeScript backend in charge, with a
// one-line reason that says what to do about it.
import { join } from 'node:path';
import type { Backend } from './backend.js';
import type { Plan } from './options.js';
import type { FloatArray } from './types.js';

export type NativeKernelName = 'avx512' | 'avx2' | 'neon' | 'scalar';

export interface NativeAddon {
  /** Kernels this CPU can run, best first. */
  readonly kernels: readonly string[];
  /** The kernel 'auto' picks. */
  readonly best: NativeKernelName;
  kernel(name: string): Backend;
}

/** What the compiled binding exports (native/binding.cc). */
interface Binding {
  kernels(): string[];
  best: string;
  forward(kernel: string, x: FloatArray, y: FloatArray, geometry: Float64Array): void;
  backward(kernel: string, x: FloatArray, dy: FloatArray, dx: FloatArray, geometry: Float64Array): void;
}

const FIXED = 9;

/** The numbers the binding needs, in its order: layout, region, batch, channels, before, after,
 *  k, a, beta, then the spatial dimensions. */
function geometry(plan: Plan): Float64Array {
  const g = new Float64Array(FIXED + plan.spatial.length);
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

function adapt(binding: Binding): NativeAddon {
  const kernels = binding.kernels();
  return {
    kernels,
    best: binding.best as NativeKernelName,
    kernel: (name) => ({
      forward: (plan, x, y) => binding.forward(name, x, y, geometry(plan)),
      backward: (plan, x, dy, dx) => binding.backward(name, x, dy, dx, geometry(plan)),
    }),
  };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}

/** Loads the addon built for (or shipped in prebuilds/ of) the package at `root`. */
export function loadNative(root = join(__dirname, '..')): { addon: NativeAddon | null; reason: string } {
  try {
    const load = require('node-gyp-build') as (dir: string) => unknown;
    const binding = load(root) as Binding;
    if (typeof binding.forward !== 'function' || typeof binding.kernels !== 'function') {
      throw new Error('the loaded file is not this package\'s addon');
    }
    return { addon: adapt(binding), reason: '' };
  } catch (error) {
    return {
      addon: null,
      reason: `native addon not loaded (${firstLine(error)}); ` +
        'run `npm rebuild local-response-norm` with python3, make and a C++17 compiler to build it',
    };
  }
}
