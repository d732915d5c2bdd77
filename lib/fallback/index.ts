// The pure-TypeScript backend: float64 arithmetic, within docs/contract.md's "Accuracy" on
// every platform.
import { lengthOf, outputDetached, typedArrayName } from '../errors.js';
import type { Plan } from '../options.js';
import type { FloatArray } from '../types.js';
import { forward } from './forward.js';

export { forward };
export { backward } from './backward.js';

/** TypeScript has no thread pool of its own: the call runs on the main thread, after the
 *  current macrotask so the caller's code runs first. As on the native backend, it computes
 *  from the input as it was at the call (a copy, so detaching or changing it meanwhile does not
 *  matter) and rejects if the output was detached or resized meanwhile. */
export function forwardAsync(plan: Plan, x: FloatArray, y: FloatArray): Promise<void> {
  const input = typedArrayName(x) === 'Float32Array' ? new Float32Array(x) : new Float64Array(x);
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      try {
        if (lengthOf(y) !== plan.length) throw outputDetached();
        forward(plan, input, y);
        resolve();
      } catch (error) {
        reject(error);
      }
    });
  });
}
