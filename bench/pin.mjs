// Runs the bench on one CPU. On shared virtual machines one vCPU can be much slower than another
// for minutes at a time (a busy neighbour on its host core), and a process the scheduler moves
// between them mixes both speeds into every median. Re-executes this script under
// `taskset -c <cpu>` (LRN_BENCH_CPU=<n>; by default the CPU that runs a short floating-point loop
// fastest right now; LRN_BENCH_CPU=any leaves it unpinned) and returns true when the caller
// should stop because the pinned child ran instead.
import { spawnSync } from 'node:child_process';
import os from 'node:os';

// Milliseconds a fixed floating-point loop takes on `cpu` (best of three).
function loopMs(cpu) {
  const script = 'let b=1e9;for(let r=0;r<3;r++){const t=process.hrtime.bigint();let s=0;' +
    'for(let i=0;i<3e7;i++)s+=Math.sqrt(i);b=Math.min(b,Number(process.hrtime.bigint()-t)/1e6);if(s<0)b=0}console.log(b)';
  const run = spawnSync('taskset', ['-c', String(cpu), process.execPath, '-e', script], { encoding: 'utf8' });
  return run.status === 0 ? Number(run.stdout) : Infinity;
}

function fastestCpu() {
  let best = 0, bestMs = Infinity;
  for (let cpu = 0; cpu < os.cpus().length; cpu++) {
    const ms = loopMs(cpu);
    if (ms < bestMs) [best, bestMs] = [cpu, ms];
  }
  return String(best);
}

export function pinToOneCpu() {
  if (process.env.LRN_BENCH_CPU === 'any' || process.env.LRN_BENCH_PINNED) return false;
  if (process.platform !== 'linux' || spawnSync('taskset', ['-V']).status !== 0) return false;
  const cpu = process.env.LRN_BENCH_CPU ?? fastestCpu();
  const child = spawnSync('taskset', ['-c', cpu, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, LRN_BENCH_PINNED: cpu },
  });
  process.exitCode = child.status ?? 1;
  return true;
}

/** The CPU the bench runs on, for the report. */
export const pinnedCpu = () => process.env.LRN_BENCH_PINNED ?? null;
