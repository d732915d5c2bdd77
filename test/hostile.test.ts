// The native addon under hostile use, each case in a child process (a crash there fails the case
// instead of the suite): arrays detached, transferred or resized while lrnAsync runs, workers
// terminated mid-call, loops that allocate without end, and raw binding calls with any argument.
// Async jobs wait at the test gate (LRN_TEST_HOOKS=1) so the hostile act certainly happens while
// they are in flight.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backend } from '../lib/index.js';
import { childJson, runChild } from './helpers/child.js';

const native = backend().available.length > 0;
const root = join(__dirname, '..');
const prebuildDirs = () => [join(root, 'prebuilds', `${process.platform}-${process.arch}`)];
const GATE = { LRN_TEST_HOOKS: '1' };

// x and its expected result, for a shape that lrnAsync splits into two jobs.
const SETUP = `
  const shape = [4, 96, 21, 21];
  const n = shape.reduce((a, b) => a * b);
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
  const expected = m.lrn(x, { shape });
  const same = (y) => y.length === n && y.every((v, i) => Object.is(v, expected[i]));
  const churn = () => { for (let i = 0; i < 4; i++) { globalThis.gc(); new Float32Array(n).fill(7); } };
  // Detaches \`array\`'s buffer: transferred by structuredClone, or to a worker that then exits.
  const detach = async (array, how) => {
    if (how === 'structuredClone') return void structuredClone(array.buffer, { transfer: [array.buffer] });
    const { Worker } = require('node:worker_threads');
    const w = new Worker('require("node:worker_threads").parentPort.once("message", () => process.exit(0))', { eval: true });
    w.postMessage(array.buffer, [array.buffer]);
    await new Promise((r) => w.once('exit', r));
  };
  binding.testGate(true);`;

const MEMORY_MODES: Array<[string, Record<string, string>]> = [['pinned', {}], ['copied', { LRN_ASYNC_COPY: '1' }]];

describe.skipIf(!native)('lrnAsync while its arrays change', () => {
  it.each(MEMORY_MODES)('%s memory: the output detached or sent to a worker that exits mid-flight rejects; the process lives', (_, env) => {
    const r = runChild(`${SETUP}
      (async () => {
        const results = [];
        for (const how of ['structuredClone', 'worker']) {
          const out = new Float32Array(n);
          binding.testGate(true);
          const pending = settle(m.lrnAsync(x, { shape, out, threads: 2 }));
          await waitAtGate(2);
          await detach(out, how);
          churn();
          binding.testGate(false);
          results.push(await pending);
        }
        console.log(JSON.stringify(results));
      })();`, { ...GATE, ...env });
    const rejection = {
      error: 'Error', code: 'ERR_LRN_OUTPUT_DETACHED',
      message: 'lrnAsync: options.out was detached or resized while lrnAsync ran; its contents are unspecified',
    };
    expect(childJson(r)).toEqual([rejection, rejection]);
  });

  it.each(MEMORY_MODES)('%s memory: the input detached or transferred mid-flight still gives the exact result', (_, env) => {
    const r = runChild(`${SETUP}
      (async () => {
        const results = [];
        for (const how of ['structuredClone', 'worker']) {
          const input = x.slice();
          binding.testGate(true);
          const pending = m.lrnAsync(input, { shape, threads: 2 });
          await waitAtGate(2);
          await detach(input, how);
          churn();
          binding.testGate(false);
          results.push(input.length === 0 && same(await pending));
        }
        console.log(JSON.stringify(results));
      })();`, { ...GATE, ...env });
    expect(childJson(r)).toEqual([true, true]);
  });

  it.each(MEMORY_MODES)('%s memory: resizable buffers shrunk mid-flight: input still exact, output rejected', (_, env) => {
    const r = runChild(`${SETUP}
      (async () => {
        const resizable = (from) => { const b = new ArrayBuffer(n * 4, { maxByteLength: n * 8 }); const a = new Float32Array(b); a.set(from); return a; };
        const input = resizable(x);
        const first = m.lrnAsync(input, { shape, threads: 2 });
        await waitAtGate(2);
        input.buffer.resize(0);
        churn();
        binding.testGate(false);
        const inputOk = same(await first);
        const out = resizable(new Float32Array(n));
        binding.testGate(true);
        const second = settle(m.lrnAsync(x, { shape, out, threads: 2 }));
        await waitAtGate(2);
        out.buffer.resize(8);
        binding.testGate(false);
        console.log(JSON.stringify([inputOk, (await second).code]));
      })();`, { ...GATE, ...env });
    expect(childJson(r)).toEqual([true, 'ERR_LRN_OUTPUT_DETACHED']);
  });

  it.each(MEMORY_MODES)('%s memory: an output grown mid-flight rejects on every kernel; a fixed-length view over a grown buffer does not', (_, env) => {
    const r = runChild(`${SETUP}
      (async () => {
        const results = [];
        const make = {
          resizable: () => new Float32Array(new ArrayBuffer(n * 4, { maxByteLength: n * 8 })),
          growable: () => new Float32Array(new SharedArrayBuffer(n * 4, { maxByteLength: n * 8 })),
          fixed: () => new Float32Array(new ArrayBuffer(n * 4, { maxByteLength: n * 8 }), 0, n),
        };
        for (const kernel of m.backend().available) {
          m.setBackend(kernel);
          const reference = m.lrn(x, { shape });
          for (const [kind, create] of Object.entries(make)) {
            const out = create();
            binding.testGate(true);
            const pending = settle(m.lrnAsync(x, { shape, out, threads: 2 }));
            await waitAtGate(2);
            if (kind === 'growable') out.buffer.grow(n * 8); else out.buffer.resize(n * 8);
            binding.testGate(false);
            const settled = await pending;
            const exact = out.length === n && out.every((v, i) => Object.is(v, reference[i]));
            results.push([kernel, kind, out.length / n, settled.code ?? (exact ? 'exact' : 'wrong')]);
          }
        }
        console.log(JSON.stringify(results));
      })();`, { ...GATE, ...env });
    const kernels = childJson(runChild('console.log(JSON.stringify(m.backend().available))')) as string[];
    expect(childJson(r)).toEqual(kernels.flatMap((kernel) => [
      [kernel, 'resizable', 2, 'ERR_LRN_OUTPUT_DETACHED'],
      [kernel, 'growable', 2, 'ERR_LRN_OUTPUT_DETACHED'],
      [kernel, 'fixed', 1, 'exact'],
    ]));
  });

  it('reports how it keeps memory, and the copy path is forceable', () => {
    const mode = (env: Record<string, string>) =>
      childJson(runChild('console.log(JSON.stringify([m.backend().asyncMemory, binding.asyncMemory()]))', env)) as string[];
    const [reported, used] = mode({});
    expect(['pin', 'copy']).toContain(reported);
    expect(used).toBe(reported);
    expect(mode({ LRN_ASYNC_COPY: '1' })).toEqual(['copy', 'copy']);
  });

  it('the copy path reuses its memory from call to call, within its bound', () => {
    // Ten calls of two parts each, input and output copied: made new only for the first call's
    // parts (blocks come back when a job ends), then reused. Calls in flight at once need their
    // own; a different size that the idle blocks do not fit takes new ones.
    const r = childJson(runChild(`
      (async () => {
        const shape = [4, 96, 21, 21];
        const x = new Float32Array(shape.reduce((a, b) => a * b)).fill(1.5), out = new Float32Array(x.length);
        const made = [binding.testCopies()];
        for (let i = 0; i < 10; i++) await m.lrnAsync(x, { shape, out, threads: 2 });
        made.push(binding.testCopies());
        await Promise.all([1, 2, 3].map(() => m.lrnAsync(x, { shape, threads: 2 })));
        made.push(binding.testCopies());
        for (let i = 0; i < 10; i++) await m.lrnAsync(x, { shape, threads: 2 });
        made.push(binding.testCopies());
        const expected = m.lrn(x, { shape });
        console.log(JSON.stringify({ made, same: out.every((v, i) => v === expected[i]) }));
      })();`, { ...GATE, LRN_ASYNC_COPY: '1' })) as { made: number[]; same: boolean };
    expect(r.same).toBe(true);
    const [start, afterTen, afterConcurrent, afterMore] = r.made;
    expect(afterTen! - start!).toBe(4); // 2 parts x (input, output)
    expect(afterConcurrent! - afterTen!).toBeLessThanOrEqual(8); // 3 calls at once: 12 blocks, 4 idle
    expect(afterMore).toBe(afterConcurrent);
  });

  it('refuses a pin shim built for another Node ABI, by its name and by its own answer, and copies', () => {
    const modules = process.versions.modules;
    const other = ['115', '127', '137', '147'].find((abi) => abi !== modules)!;
    // A shim that is not for this Node: the file exists where the shims of every major were built
    // (prebuilds/, and build/pin/ in CI).
    const shim = [join(root, 'build', 'pin'), ...prebuildDirs()].map((dir) => join(dir, `pin-abi${other}.so`)).find(existsSync);
    if (shim === undefined) return;
    // The same file under this ABI's name, so that the loader opens it and asks it.
    const folder = mkdtempSync(join(tmpdir(), 'lrn-shim-'));
    const renamed = join(folder, `pin-abi${modules}.so`);
    copyFileSync(shim, renamed);
    try {
      const r = childJson(runChild(`console.log(JSON.stringify([
        binding.usePin(${JSON.stringify(shim)}), binding.usePin('pin-abi${modules}.so'),
        binding.usePin(${JSON.stringify(renamed)}), binding.asyncMemory()]))`)) as string[];
      expect(r[0]).toBe(`the pin shim ${shim} is not pin-abi${modules}.so at an absolute path (this Node's ABI is ${modules})`);
      expect(r[1]).toMatch(/is not pin-abi\d+\.so at an absolute path/);
      expect(r[2]).toMatch(new RegExp(`is for Node \\d+ \\(ABI ${other}\\), not Node \\d+ \\(ABI ${modules}\\)$`));
      expect(r[3]).toBe('copy');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!native)('worker threads that end mid-call', () => {
  it.each(MEMORY_MODES)('%s memory: terminating workers whose jobs are in flight leaves the process running', (_, env) => {
    const r = runChild(`
      const { Worker } = require('node:worker_threads');
      const body = \`
        const m = require(\${JSON.stringify(root)});
        const shape = [4, 96, 21, 21];
        const x = new Float32Array(shape.reduce((a, b) => a * b)).fill(1);
        for (let i = 0; i < 3; i++) m.lrnAsync(x, { shape, threads: 2 }).then(() => {}, () => {});
        require('node:worker_threads').parentPort.postMessage('started');\`;
      (async () => {
        binding.testGate(true);
        let done = 0;
        for (let round = 0; round < 4; round++) {
          const workers = Array.from({ length: 3 }, () => new Worker(body, { eval: true }));
          await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
          await waitAtGate(Math.min(4, 3 * 2 * 3));  // the pool's four threads are all busy
          const ended = workers.map((w) => w.terminate());
          binding.testGate(false);
          await Promise.all(ended);
          binding.testGate(true);
          done++;
        }
        binding.testGate(false);
        // And at arbitrary moments, without the gate.
        for (let i = 0; i < 20; i++) {
          const w = new Worker(body, { eval: true });
          await new Promise((r) => setTimeout(r, i % 5));
          await w.terminate();
        }
        console.log(JSON.stringify(done));
      })();`, { ...GATE, ...env });
    expect(childJson(r)).toBe(4);
  });
});

describe.skipIf(!native)('memory stays bounded', () => {
  it('a synchronous loop of large new outputs stays under 1.5 GB', () => {
    const r = runChild(`
      const shape = [1, 96, 110, 110];
      const x = new Float32Array(shape.reduce((a, b) => a * b)).fill(0.5);
      for (let i = 0; i < 800; i++) m.lrn(x, { shape });
      console.log(JSON.stringify(process.resourceUsage().maxRSS * 1024));`, {}, []);
    // 800 outputs of 4.6 MB: 3.7 GB if none were released.
    expect(childJson(r)).toBeLessThan(1.5e9);
  });

  it('the huge-page hint takes any float array, changes nothing in it, and wants one', () => {
    const r = runChild(`
      const attempt = (f) => { try { return f(); } catch (e) { return e.constructor.name + ': ' + e.message; } };
      const large = new Float64Array(5 << 20).fill(0.5);  // 40 MiB
      const view = new Float32Array(large.buffer, 4, (10 << 20) - 2);
      const detached = new Float32Array(16 << 20);
      structuredClone(detached.buffer, { transfer: [detached.buffer] });
      const growable = new Float32Array(new SharedArrayBuffer(64, { maxByteLength: 64 << 20 }));
      const results = [
        attempt(() => binding.hugePages(large)), attempt(() => binding.hugePages(view)),
        attempt(() => binding.hugePages(new Float32Array(1024))), attempt(() => binding.hugePages(detached)),
        attempt(() => binding.hugePages(growable)), attempt(() => binding.hugePages(new Uint8Array(64 << 20))),
        attempt(() => binding.hugePages()), attempt(() => binding.hugePages(large.buffer)),
      ];
      globalThis.gc();
      console.log(JSON.stringify([large.every((v) => v === 0.5), ...results]));`);
    // On Linux arrays of 32 MiB or more are marked; elsewhere nothing is.
    const linux = process.platform === 'linux';
    const wrong = 'TypeError: hugePages: expected a Float32Array or Float64Array';
    expect(childJson(r)).toEqual([true, linux, linux, false, false, false, wrong, wrong, wrong]);
  });
});

describe.skipIf(!native)('the raw binding checks like the TypeScript layer', () => {
  const attempt = `const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.constructor.name + ': ' + e.message; } };`;

  it('rejects geometry whose element count wraps 64 bits, and huge windows cost nothing', () => {
    const r = runChild(`${attempt}
      const x = new Float32Array(65536), y = new Float32Array(65536);
      const g = (...d) => new Float64Array([0, 0, 1, 1, 2, 2, 1, 1e-4, 0.75, ...d]);
      const small = new Float32Array(96).fill(1), out = new Float32Array(96);
      console.log(JSON.stringify([
        attempt(() => binding.forward('scalar', x, y, g(4096, 2 ** 52 + 16))),
        attempt(() => binding.forward('scalar', x, y, new Float64Array([0, 1, 1, 1, 2, 2, 1, 1e-4, 0.75, 4096, 2 ** 52 + 16]))),
        attempt(() => binding.forward(binding.best, small, out, new Float64Array([0, 0, 1, 96, 2 ** 53 - 1, 2 ** 53 - 1, 1, 1e-4, 0.75]))),
        attempt(() => binding.forward(binding.best, small, out, new Float64Array([1, 0, 1, 96, 5e8, 5e8, 1, 1e-4, 0.75]))),
      ]));`);
    const [wrap, wrapWithin, hugeWindow, hugeNhwc] = childJson(r) as string[];
    expect(wrap).toMatch(/^RangeError: forward: the shape's element count does not fit in 64 bits$/);
    expect(wrapWithin).toMatch(/^RangeError: forward: /);
    expect([hugeWindow, hugeNhwc]).toEqual(['ok', 'ok']);
  });

  it('matches kernel names exactly and wants a string', () => {
    const r = runChild(`${attempt}
      const x = new Float32Array(4), y = new Float32Array(4), g = new Float64Array([0, 0, 1, 4, 2, 2, 1, 1e-4, 0.75]);
      console.log(JSON.stringify([
        attempt(() => binding.forward('scalar', x, y, g)),
        attempt(() => binding.forward('scalar\\0junk', x, y, g)),
        attempt(() => binding.forward('scalarx', x, y, g)),
        attempt(() => binding.forward({ toString: () => 'scalar' }, x, y, g)),
        attempt(() => binding.forward('x'.repeat(100), x, y, g)),
      ]));`);
    expect(childJson(r)).toEqual([
      'ok',
      'RangeError: forward: expected a kernel name from kernels()',
      'RangeError: forward: expected a kernel name from kernels()',
      'TypeError: forward: expected the kernel name as a string',
      'RangeError: forward: expected a kernel name from kernels()',
    ]);
  });

  it('rejects partial overlap through two SharedArrayBuffer objects over one memory', () => {
    const r = runChild(`${attempt}
      const sab = new SharedArrayBuffer(4 * 40);
      const alias = structuredClone(sab);
      const x = new Float32Array(sab, 0, 32), y = new Float32Array(alias, 16, 32);
      const g = new Float64Array([0, 0, 1, 32, 2, 2, 1, 1e-4, 0.75]);
      console.log(JSON.stringify([
        attempt(() => binding.forward('scalar', x, y, g)),
        attempt(() => binding.forward('scalar', x, new Float32Array(alias, 0, 32), g)),
      ]));`);
    expect(childJson(r)).toEqual([
      'RangeError: forward: expected y to be x itself or memory apart from it, but it partly overlaps it',
      'ok',
    ]);
  });

  it('never crashes or hangs, whatever the arguments', () => {
    const r = runChild(`
      let seed = 12345;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      const pick = (a) => a[Math.floor(rand() * a.length)];
      const numbers = [0, 1, 2, 3, 4, 7, 96, 4096, -1, 0.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32 + 1, 2 ** 52 + 16, 2 ** 53 - 1, 2 ** 53, 1e300, -0];
      const arrays = () => { const n = pick([0, 1, 4, 8, 24, 96]); const T = pick([Float32Array, Float64Array, Int32Array]); return new T(n).fill(pick([1, NaN, 1e38, 0])); };
      const thrown = new Set();
      const pending = [];
      for (let i = 0; i < 3000; i++) {
        const g = new Float64Array(Math.floor(rand() * 13)).map(() => pick(numbers));
        if (g.length > 3 && rand() < 0.7) { g[0] = pick([0, 1]); g[1] = pick([0, 1]); }
        const a = arrays(), b = rand() < 0.8 ? new a.constructor(a.length) : arrays(), c = rand() < 0.8 ? new a.constructor(a.length) : arrays();
        const kernel = pick([binding.best, 'scalar', 'avx9', 7, undefined]);
        const fn = pick(['forward', 'backward', 'forwardAsync', 'backwardAsync']);
        const args = fn.startsWith('forward') ? [kernel, a, b, g] : [kernel, a, b, c, g];
        if (rand() < 0.05) args.pop();
        try {
          const out = binding[fn](...args);
          if (out instanceof Promise) pending.push(out.catch((e) => thrown.add(e.constructor.name)));
        } catch (e) { thrown.add(e.constructor.name); }
      }
      Promise.all(pending).then(() => console.log(JSON.stringify([...thrown].sort())));`);
    expect(childJson(r)).toEqual(['RangeError', 'TypeError']);
  });
});
