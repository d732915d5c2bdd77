// New outputs moved between threads: a worker computes large outputs (4.6 MB, the size the native
// backend once served from a process-wide pool of its own mappings), transfers them to the main
// thread and exits; the main thread's later outputs must be memory of their own. Each case runs in
// a child process (a crash or an abort there fails the case, not the suite), once per backend.
import { describe, expect, it } from 'vitest';
import { backend } from '../lib/index.js';
import { childJson, runChild } from './helpers/child.js';

const native = backend().available.length > 0;
const BACKENDS: Array<[string, Record<string, string>]> = [
  ['native', { LRN_BACKEND: 'native' }],
  ['fallback', { LRN_BACKEND: 'fallback' }],
];

// The worker: one output moved by ArrayBuffer.prototype.transfer() and then posted (where the
// runtime has transfer(), Node 21 and later), one posted with a transfer list; for each, what it
// saw: whether the output was left detached, and any exception (a DataCloneError).
const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  const m = require(workerData.root);
  const { shape, n, ways } = workerData;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
  for (const how of ways) {
    const y = m.lrn(x, { shape });
    const report = { how, backend: m.backend().backend, error: null, detached: false };
    try {
      const buffer = how === 'transfer()' ? y.buffer.transfer() : y.buffer;
      parentPort.postMessage({ how, buffer }, [buffer]);
      report.detached = y.length === 0 && y.buffer.byteLength === 0 && buffer.byteLength === 0;
    } catch (e) {
      report.error = e.constructor.name + ': ' + e.message;
    }
    parentPort.postMessage({ report });
  }`;

const WAYS = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function'
  ? ['transfer()', 'postMessage'] : ['postMessage'];

describe.skipIf(!native)('large new outputs sent from a worker that then exits', () => {
  it.each(BACKENDS)('%s: detach there and stay the worker\'s results while the main thread makes and fills new outputs', (_, env) => {
    const r = runChild(`
      const { Worker } = require('node:worker_threads');
      const shape = [1, 96, 110, 110];
      const n = shape.reduce((a, b) => a * b);
      (async () => {
        const results = {};
        const w = new Worker(${JSON.stringify(WORKER)}, { eval: true, workerData: { root, shape, n, ways: ${JSON.stringify(WAYS)} } });
        w.on('message', ({ how, buffer, report }) => {
          if (report !== undefined) Object.assign(results[report.how] ??= {}, report);
          else (results[how] ??= {}).buffer = buffer;
        });
        w.on('error', (e) => { results.worker = e.constructor.name + ': ' + e.message; });
        await new Promise((resolve) => w.once('exit', resolve));
        await new Promise((resolve) => setImmediate(resolve));
        // The main thread's own new outputs of the same size, filled with 7 and kept.
        const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
        const expected = m.lrn(x, { shape, out: new Float32Array(n) });
        const kept = [];
        for (let i = 0; i < 12; i++) {
          const y = m.lrn(x, { shape });
          y.fill(7);
          kept.push(y);
          if (i % 4 === 3) { globalThis.gc(); await new Promise((resolve) => setImmediate(resolve)); }
        }
        for (const result of Object.values(results)) {
          if (typeof result !== 'object') continue;
          const y = result.buffer === undefined ? new Float32Array(0) : new Float32Array(result.buffer);
          result.intact = y.length === n && y.every((v, i) => Object.is(v, expected[i]));
          delete result.buffer;
        }
        results.sevens = kept.every((y) => y.length === n && y.every((v) => v === 7));
        console.log(JSON.stringify(results));
      })();`, env);
    const expected: Record<string, unknown> = { sevens: true };
    for (const how of WAYS) expected[how] = { how, backend: env.LRN_BACKEND, error: null, detached: true, intact: true };
    expect(childJson(r)).toEqual(expected);
  });
});
