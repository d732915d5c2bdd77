// The kernel core timed without Node against oneDNN and memcpy (bench/native/lrn_bench.cpp),
// built with `make -C native bench`; oneDNN is compiled in when libdnnl-dev is installed.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binary = join(root, 'build', 'native', 'bench', 'lrn_bench');
const HEARTBEAT_MS = 10_000;

/** Builds the bench unless it is up to date, saying on stderr what it builds: each step as make
 *  starts it, and the step still running after every 10 s of silence. Resolves to null, or why
 *  the build failed. */
export async function buildNativeBench() {
  const make = ['--no-print-directory', '-C', join(root, 'native'), 'bench'];
  if (spawnSync('make', ['-q', ...make]).status === 0) return null;
  const started = Date.now();
  let said = started;
  const say = (what) => {
    said = Date.now();
    process.stderr.write(`  [${Math.round((said - started) / 1000)} s] ${what}\n`);
  };
  process.stderr.write('Building the kernel core bench (make -C native bench: every kernel at -O3, ' +
    'with oneDNN where libdnnl-dev is installed); a minute or two.\n');
  const child = spawn('make', make, { stdio: ['ignore', 'pipe', 'pipe'] });
  let step = 'starting make';
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const compiled = / -c (\S+)/.exec(line);
    const linked = / -o \S*lrn_bench(\s|$)/.test(line);
    if (compiled) step = `compiling ${compiled[1]}`;
    else if (linked) step = 'compiling bench/native/lrn_bench.cpp and linking';
    else return;
    say(step);
  });
  const heartbeat = setInterval(() => { if (Date.now() - said >= HEARTBEAT_MS) say(`still ${step}`); }, 1000);
  const status = await new Promise((resolve) => {
    child.on('error', (error) => { stderr += error.message; resolve(-1); });
    child.on('close', resolve);
  });
  clearInterval(heartbeat);
  if (status !== 0) {
    const lines = stderr.split('\n').filter((l) => l.trim() !== '');
    return lines.find((l) => /error/i.test(l)) ?? lines[0] ?? `make exited with ${status}`;
  }
  say('built');
  return null;
}

/** Rows of { impl, shape, layout, median_ms, min_ms, note }, or { skipped } with the reason;
 *  `failed` is what buildNativeBench() returned. */
export function runNativeBench(shapes, rounds, failed) {
  if (failed !== null) return { rows: [], notes: [`kernel core bench not built (make -C native bench failed: ${failed})`] };
  if (!existsSync(binary)) return { rows: [], notes: ['kernel core bench not built'] };
  const out = execFileSync(binary, [shapes, String(rounds)], {
    encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' }, maxBuffer: 1 << 24,
  });
  const rows = [];
  const notes = [];
  for (const line of out.split('\n').filter(Boolean)) {
    const row = JSON.parse(line);
    if (row.skipped) notes.push(row.skipped);
    else rows.push(row);
  }
  return { rows, notes };
}

export function printNativeTable({ rows, notes }, fmt) {
  console.log('\n### Kernel core without Node, against oneDNN (C++, one thread, same process)\n');
  for (const n of notes) console.log(`- ${n}`);
  for (const impl of ['onednn', 'onednn-avx2']) {
    const used = rows.filter((r) => r.impl === impl);
    if (used.length > 0) console.log(`- ${impl}: ${[...new Set(used.map((r) => `${r.layout} ${r.note}`))].join('; ')}`);
  }
  if (rows.length === 0) return;
  console.log('\n"vs oneDNN": its own pick (its best instruction set on this CPU); "vs oneDNN AVX2": the ' +
    'implementation it runs with ONEDNN_MAX_CPU_ISA=AVX2, the one to hold the avx2 kernel against.\n');
  console.log('| shape | layout | contender | median ms | min ms | x memcpy | vs oneDNN | vs oneDNN AVX2 |');
  console.log('|---|---|---|---|---|---|---|---|');
  const ratio = (r, impl) => {
    const peer = rows.find((o) => o.impl === impl && o.shape === r.shape && o.layout === r.layout);
    return peer ? `${fmt(peer.median_ms / r.median_ms)}x` : '-';
  };
  for (const r of rows) {
    if (r.impl === 'memcpy') continue;
    const copy = rows.find((o) => o.impl === 'memcpy' && o.shape === r.shape);
    console.log(`| ${r.shape} | ${r.layout} | ${r.impl} | ${fmt(r.median_ms)} | ${fmt(r.min_ms)} | ` +
      `${copy ? fmt(r.median_ms / copy.median_ms) : '-'} | ${ratio(r, 'onednn')} | ${ratio(r, 'onednn-avx2')} |`);
  }
  for (const r of rows.filter((o) => o.impl === 'memcpy')) console.log(`\nmemcpy ${r.shape}: ${fmt(r.median_ms)} ms median.`);
}
