// The pure-TypeScript backend: float64 arithmetic, exact to SPEC section 5 on every platform.
import type { Plan } from '../options.js';
import type { FloatArray } from '../types.js';
import { forward } from './forward.js';

export { forward };
export { backward } from './backward.js';

/** TypeScript has no thread pool of its own: the call runs on the main thread, after the
 *  current macrotask so the caller's code runs first. */
export function forwardAsync(plan: Plan, x: FloatArray, y: FloatArray): Promise<void> {
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      try {
        forward(plan, x, y);
        resolve();
      } catch (error) {
        reject(error);
      }
    });
  });
}
