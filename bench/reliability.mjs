// node bench/reliability.mjs [--package DIR] [--write]   (after npm run compile)
// What the package's safety costs, in one process (bench/RELIABILITY.md with --write):
// - 32x96x55x55 float32 into a preallocated `out`: sync lrn (one thread) against lrnAsync with one
//   and two threads, with the arrays' memory pinned (zero copy) and copied (LRN_ASYNC_COPY=1),
//   and memcpy of the same bytes, in interleaved rounds;
// - a synchronous loop of allocating calls (no `out`) on 1x96x110x110 (4.6 MB outputs), in a child
//   process: per-call time and the process's max RSS. --package DIR times another build of the
//   package for the loop (an older checkout, for before/after).
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { lrn, lrnAsync, backend } from '../dist/index.mjs';
import { fill } from './input.mjs';
import { summarize, timeIt } from './timing.mjs';

const { values: args } = parseArgs({ options: { package: { type: 'string' }, write: { type: 'boolean', default: false } } });
const root = join(fileURLToPath(import.meta.url), '..', '..');

const fmt = (ms) => (ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

async function asyncRows() {
  const shape = [32, 96, 55, 55];
  const x = fill(shape.reduce((a, b) => a * b)), out = new Float32Array(x.length), copy = new Float32Array(x.length);
  const withCopies = (fn) => async () => {
    process.env.LRN_ASYNC_COPY = '1';
    try { await fn(); } finally { delete process.env.LRN_ASYNC_COPY; }
  };
  const contenders = [
    ['memcpy of the input (Float32Array.set)', () => { copy.set(x); }],
    ['lrn, sync, 1 thread', () => { lrn(x, { shape, out }); }],
    ['lrnAsync, 1 thread, pinned memory', () => lrnAsync(x, { shape, out, threads: 1 })],
    ['lrnAsync, 2 threads, pinned memory', () => lrnAsync(x, { shape, out, threads: 2 })],
    ['lrnAsync, 2 threads, copied memory', withCopies(() => lrnAsync(x, { shape, out, threads: 2 }))],
  ];
  const samples = contenders.map(() => []);
  for (let round = 0; round < 3; round++) {
    for (const [i, [, fn]] of contenders.entries()) samples[i].push(...(await timeIt(fn)).perCall);
  }
  const medians = samples.map((s) => summarize(s).medianMs);
  const sync = medians[1];
  return contenders.map(([name], i) => `| ${name} | ${fmt(medians[i])} | ${(sync / medians[i]).toFixed(2)} |`);
}

function loop(pkg) {
  const script = `
    const m = require(${JSON.stringify(pkg)});
    const shape = [1, 96, 110, 110];
    const x = new Float32Array(shape.reduce((a, b) => a * b)).fill(0.5);
    const calls = 800, started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) m.lrn(x, { shape });
    const ms = Number(process.hrtime.bigint() - started) / 1e6 / calls;
    console.log(JSON.stringify({ ms, rss: process.resourceUsage().maxRSS * 1024 }));`;
  try {
    return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
  } catch (error) {
    return { failed: String(error.message).split('\n')[0] };
  }
}

function loopRow(name, r) {
  if (r.failed) return `| ${name} | - | ${r.failed} |`;
  return `| ${name} | ${fmt(r.ms)} | ${(r.rss / 2 ** 20).toFixed(0)} MiB |`;
}

const { kernel, asyncMemory } = backend();
const lines = [
  '# Reliability costs',
  '',
  `Produced by \`node bench/reliability.mjs --write\` on ${new Date().toISOString().slice(0, 10)}, kernel \`${kernel}\`, ` +
    `async memory \`${asyncMemory}\`, Node ${process.version}, ${cpus()[0]?.model} x${cpus().length}. Medians of interleaved rounds in one process; ` +
    'ratios are sync `lrn` time over each row\'s.',
  '',
  '## lrnAsync into `out`, 32x96x55x55 float32',
  '',
  '| call | median ms | sync / this |',
  '|---|---|---|',
  ...(await asyncRows()),
  '',
  '## A synchronous loop of 800 allocating calls, 1x96x110x110 float32 (child process)',
  '',
  '| build | ms per call | max RSS |',
  '|---|---|---|',
  loopRow('this one', loop(root)),
  ...(args.package ? [loopRow(`${args.package}`, loop(args.package))] : []),
  '',
];

const report = lines.join('\n');
console.log(report);
if (args.write) writeFileSync(join(root, 'bench', 'RELIABILITY.md'), report);
