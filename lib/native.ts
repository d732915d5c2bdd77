// The native addon's entry point. This build ships the TypeScript backend only, so loading
// reports why native kernels are absent; the contract for an addon is kept here.
import type { Backend } from './backend.js';

export interface NativeAddon {
  /** Kernels this CPU can run, best first. */
  readonly kernels: readonly string[];
  /** The kernel 'auto' picks. */
  readonly best: 'avx512' | 'avx2' | 'neon' | 'scalar';
  kernel(name: string): Backend;
}

export function loadNative(): { addon: NativeAddon | null; reason: string } {
  return {
    addon: null,
    reason: 'this build of local-response-norm has no native addon; the TypeScript backend computes every call',
  };
}
