// node bench/reliability.mjs [--package DIR] [--write]   (after npm run compile)
// What the package's safety costs, in one process (bench/RELIABILITY.md with --write, one section
// per runtime: a run replaces its own runtime's section and keeps the others):
// - 32x96x55x55 float32 into a preallocated `out`: sync lrn (one thread) against lrnAsync with one
//   and two threads, with the arrays' memory pinned (zero copy) and copied (LRN_ASYNC_COPY=1),
//   and memcpy of the same bytes, in interleaved rounds;
// - a synchronous loop of allocating calls (no `out`) on 1x96x110x110 (4.6 MB outputs), in a child
//   process: per-call time and the process's max RSS. --package DIR times another build of the
//   package for the loop (an older checkout, for before/after).
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
    ['lrnAsync, 1 thread, copied memory', withCopies(() => lrnAsync(x, { shape, out, threads: 1 }))],
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

const { kernel, asyncMemory, asyncMemoryReason } = backend();
const versions = process.versions;
const runtime = versions.bun ? `Bun ${versions.bun}` : versions.deno ? `Deno ${versions.deno}` : `Node ${process.version.slice(1)}`;
const section = [
  `## ${runtime}`,
  '',
  `${new Date().toISOString().slice(0, 10)}, kernel \`${kernel}\`, async memory \`${asyncMemory}\`` +
    `${asyncMemoryReason ? ` (${asyncMemoryReason})` : ''}, ${cpus()[0]?.model} x${cpus().length}.`,
  '',
  '### lrnAsync into `out`, 32x96x55x55 float32',
  '',
  '| call | median ms | sync / this |',
  '|---|---|---|',
  ...(await asyncRows()),
  '',
  '### A synchronous loop of 800 allocating calls, 1x96x110x110 float32 (child process)',
  '',
  '| build | ms per call | max RSS |',
  '|---|---|---|',
  loopRow('this one', loop(root)),
  ...(args.package ? [loopRow(`${args.package}`, loop(args.package))] : []),
  '',
].join('\n');
console.log(section);

const HEADER = `# Reliability costs

Produced by \`node bench/reliability.mjs --write\`, one section per runtime (each run replaces its
own runtime's section). Medians of interleaved rounds in one process; ratios are sync \`lrn\` time
over each row's. "copied memory" forces the copy path (\`LRN_ASYNC_COPY=1\`), which Bun, Deno and
Node majors without a pin shim take for arrays over ordinary ArrayBuffers (docs/async-memory.md).
`;

/** The file's runtime sections by heading, this run's in place of its runtime's. */
function merged(previous) {
  // Keyed by runtime and major ("Node 24"); what is not a runtime's section is dropped.
  const key = (part) => /^## (Node|Bun|Deno) (\d+)/.exec(part)?.slice(1, 3).join(' ');
  const sections = new Map();
  for (const part of previous.split(/^(?=## )/m)) if (key(part) !== undefined) sections.set(key(part), part.trimEnd());
  sections.set(key(section), section.trimEnd());
  const order = (name) => [name.startsWith('Node') ? 0 : 1, Number(/\d+/.exec(name)?.[0] ?? 0)];
  const keys = [...sections.keys()].sort((a, b) => order(a)[0] - order(b)[0] || order(a)[1] - order(b)[1] || a.localeCompare(b));
  return `${HEADER}\n${keys.map((key) => sections.get(key)).join('\n\n')}\n`;
}

const file = join(root, 'bench', 'RELIABILITY.md');
if (args.write) writeFileSync(file, merged(existsSync(file) ? readFileSync(file, 'utf8') : ''));
