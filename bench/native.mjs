// The kernel core timed without Node against oneDNN and memcpy (bench/native/lrn_bench.cpp),
// built with `make -C native bench`; oneDNN is compiled in when libdnnl-dev is installed.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binary = join(root, 'build', 'native', 'bench', 'lrn_bench');

/** Rows of { impl, shape, layout, median_ms, min_ms, note }, or { skipped } with the reason. */
export function runNativeBench(shapes, rounds) {
  try {
    execFileSync('make', ['-s', '-C', join(root, 'native'), 'bench'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    return { rows: [], notes: [`kernel core bench not built (make -C native bench failed: ${String(error.stderr ?? error.message).split('\n')[0]})`] };
  }
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
  const onednn = rows.find((r) => r.impl === 'onednn');
  if (onednn) console.log(`- oneDNN: ${[...new Set(rows.filter((r) => r.impl === 'onednn').map((r) => `${r.layout} ${r.note}`))].join('; ')}`);
  if (rows.length === 0) return;
  console.log('\n| shape | layout | contender | median ms | min ms | x memcpy | speed-up vs oneDNN |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (r.impl === 'memcpy') continue;
    const copy = rows.find((o) => o.impl === 'memcpy' && o.shape === r.shape);
    const peer = rows.find((o) => o.impl === 'onednn' && o.shape === r.shape && o.layout === r.layout);
    console.log(`| ${r.shape} | ${r.layout} | ${r.impl} | ${fmt(r.median_ms)} | ${fmt(r.min_ms)} | ` +
      `${copy ? fmt(r.median_ms / copy.median_ms) : '-'} | ${peer ? `${fmt(peer.median_ms / r.median_ms)}x` : '-'} |`);
  }
  for (const r of rows.filter((o) => o.impl === 'memcpy')) console.log(`\nmemcpy ${r.shape}: ${fmt(r.median_ms)} ms median.`);
}
