// A smoke test for runtimes that the vitest suite does not run on (Bun, Deno; .ci/run runs it on
// each, and on Node as a check of the check): the package loads its native addon, every golden
// case within docs/contract.md's bounds, errors of the right class naming the argument, and
// lrnAsync (its copy path there) right with the input detached mid-flight and rejecting when
// `out` is detached. Prints one line per part; exits 1 on the first failure.
//
//   <runtime> test/runtimes/smoke.mjs [package folder]     (LRN_REQUIRE_NATIVE=1: native or fail)
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
const m = require(root);
const { readNpyFile } = require(join(root, 'dist', 'npy.js'));
const golden = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'golden');
const { cases } = JSON.parse(require('node:fs').readFileSync(join(golden, 'manifest.json'), 'utf8'));
const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : process.versions.deno ? `Deno ${process.versions.deno}` : `Node ${process.version}`;

function check(ok, what) {
  if (!ok) {
    console.error(`smoke (${runtime}): FAILED: ${what}`);
    process.exit(1);
  }
}

const info = m.backend();
console.log(`${runtime}: backend ${info.backend}, kernel ${info.kernel}, async memory ${info.asyncMemory ?? '-'}` +
  `${info.asyncMemoryReason ? ` (${info.asyncMemoryReason})` : ''}`);
if (process.env.LRN_REQUIRE_NATIVE === '1') check(info.backend === 'native', `the native addon loads (${info.reason})`);
const isNode = !process.versions.bun && !process.versions.deno;
if (!isNode && info.backend === 'native') {
  check(info.asyncMemory === 'copy' && /is not Node/.test(info.asyncMemoryReason), 'Bun and Deno never pin (not V8 of a Node ABI)');
}
// Every Node major the package supports pins, from the prebuilt binaries' shims.
const supported = Object.keys(JSON.parse(require('node:fs').readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'node-versions.json'), 'utf8')));
if (isNode && info.backend === 'native' && supported.includes(process.versions.node.split('.')[0]) && process.env.LRN_ASYNC_COPY !== '1') {
  check(info.asyncMemory === 'pin', `Node ${process.version} pins (${info.asyncMemoryReason})`);
}

// Golden cases (test/fixtures/golden/README.md, "Tolerance").
const load = (file) => readNpyFile(join(golden, file)).data;
for (const c of cases) {
  const options = { shape: c.shape, preset: c.preset, layout: c.layout, region: c.region };
  for (const key of ['size', 'alpha', 'beta', 'k']) if (c[key] !== undefined) options[key] = c[key];
  for (const key of c.omit ?? []) delete options[key];
  const input = load(c.files.input);
  const ref = load(c.files.ref64 ?? c.files.expected);
  const float32 = input instanceof Float32Array;
  if (c.op === 'forward') {
    const y = m.lrn(input, options);
    for (let i = 0; i < y.length; i++) {
      const r = ref[i];
      const bound = float32 ? (Math.abs(r) >= 2 ** -126 ? 2 ** -21 * Math.abs(r) : 4 * 2 ** -149) : 1e-12 * Math.abs(r);
      check(Math.abs(y[i] - r) <= bound || (Number.isNaN(r) && Number.isNaN(y[i])), `${c.name}: element ${i} got ${y[i]}, reference ${r}`);
    }
  } else {
    const dx = m.lrnBackward(input, load(c.files.gradOutput), options);
    const bound = load(c.files.bound);
    const round = float32 ? Math.fround : (v) => v;
    for (let i = 0; i < dx.length; i++) {
      check(round(ref[i] - bound[i]) <= dx[i] && dx[i] <= round(ref[i] + bound[i]), `${c.name}: element ${i} got ${dx[i]}, reference ${ref[i]}`);
    }
  }
}
console.log(`${runtime}: ${cases.length} golden cases within bounds`);

// Errors: the class, and a message that names the argument.
const throws = (fn, Class, pattern, what) => {
  try {
    fn();
  } catch (error) {
    check(error instanceof Class && pattern.test(error.message), `${what}: got ${error?.constructor?.name}: ${error?.message}`);
    return;
  }
  check(false, `${what}: did not throw`);
};
throws(() => m.lrn([1, 2, 3], { shape: [1, 3] }), TypeError, /x/, 'an array that is not a Float32Array or Float64Array');
throws(() => m.lrn(new Float32Array(6), { shape: [1, 2, 2] }), RangeError, /shape/, 'a shape that does not match the length');
throws(() => m.lrn(new Float32Array(4), { shape: [1, 4], preset: 'caffee' }), TypeError, /preset/, 'an unknown preset');
throws(() => m.lrn(new Float32Array(4), { shape: [1, 4], beta: -1 }), RangeError, /beta/, 'a negative beta');
console.log(`${runtime}: errors name their argument`);

// lrnAsync: the sync result; the input detached right after the call (the job computes from
// what it holds); `out` detached mid-flight rejects; a SharedArrayBuffer takes no copy.
const shape = [2, 96, 27, 27];
const length = shape.reduce((a, b) => a * b);
const x = new Float32Array(length).map((_, i) => Math.sin(i) * 3);
const expected = m.lrn(x, { shape });
const same = (a) => a.length === expected.length && a.every((v, i) => v === expected[i]);
check(same(await m.lrnAsync(x, { shape, threads: 2 })), 'lrnAsync equals lrn');
const detached = x.slice();
const pending = m.lrnAsync(detached, { shape, threads: 2 });
structuredClone(detached.buffer, { transfer: [detached.buffer] });
check(detached.length === 0 && same(await pending), 'lrnAsync with its input detached mid-flight');
const out = new Float32Array(length);
const rejected = m.lrnAsync(x, { shape, out, threads: 2 }).then(() => null, (error) => error);
structuredClone(out.buffer, { transfer: [out.buffer] });
const error = await rejected;
check(error?.code === 'ERR_LRN_OUTPUT_DETACHED', `lrnAsync with out detached mid-flight rejects (got ${error?.code ?? error})`);
const shared = new Float32Array(new SharedArrayBuffer(length * 4));
shared.set(x);
const sharedOut = new Float32Array(new SharedArrayBuffer(length * 4));
await m.lrnAsync(shared, { shape, out: sharedOut, threads: 2 });
check(same(sharedOut), 'lrnAsync over SharedArrayBuffers');
console.log(`${runtime}: lrnAsync right, detached input and out handled`);
