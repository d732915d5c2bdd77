// Every test file runs its cases once per backend: each native kernel this CPU has, and the
// TypeScript fallback, asserting that the one forced is the one in use.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { backend, setBackend } from '../../lib/index.js';

export const BACKENDS: readonly string[] = ['fallback', ...backend().available];

export function forEachBackend(body: (name: string) => void): void {
  for (const name of BACKENDS) {
    describe(`backend ${name}`, () => {
      beforeAll(() => {
        setBackend(name);
        const info = backend();
        expect(name === 'fallback' ? info.kernel === 'typescript' : info.kernel === name).toBe(true);
      });
      afterAll(() => setBackend('auto'));
      body(name);
    });
  }
}
