// How many libuv pool threads lrnAsync may use by default.
import { availableParallelism, cpus } from 'node:os';
import { checkThreads } from './options.js';

function initial(): number {
  const cores = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  // libuv's pool has UV_THREADPOOL_SIZE threads (4 unless set); more parts than threads only queue.
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(cores, pool));
}

let threads = initial();

/**
 * Gets, or sets and returns, how many threads {@link lrnAsync} splits a large tensor across
 * when its `threads` option is not given: at first the number of CPU cores, capped by the size of
 * libuv's thread pool (`UV_THREADPOOL_SIZE`, 4 by default). `import` and `require` share the
 * setting; it lasts until changed.
 *
 * @param value - The new default: an integer from 1 to 1024. Omitted, nothing changes.
 * @returns The default thread count, after the change if any.
 * @throws TypeError for a value that is not a number.
 * @throws RangeError for a number that is not an integer from 1 to 1024.
 *
 * @example
 * ```ts
 * import { concurrency } from 'local-response-norm';
 * concurrency();  // e.g. 2
 * concurrency(1); // one thread per call from now on
 * ```
 *
 * @group Backend and threads
 */
export function concurrency(value?: number): number {
  if (value !== undefined) threads = checkThreads('concurrency', 'the thread count', value, threads);
  return threads;
}
