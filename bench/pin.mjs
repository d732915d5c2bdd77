// Runs the bench on one CPU. On shared virtual machines one vCPU can be much slower than another
// for minutes at a time (a busy neighbour on its host core), and a process the scheduler moves
// between them mixes both speeds into every median. Re-executes this script under
// `taskset -c <cpu>` (LRN_BENCH_CPU, default 0; LRN_BENCH_CPU=any leaves it unpinned) and
// returns true when the caller should stop because the pinned child ran instead.
import { spawnSync } from 'node:child_process';

export function pinToOneCpu() {
  const cpu = process.env.LRN_BENCH_CPU ?? '0';
  if (cpu === 'any' || process.env.LRN_BENCH_PINNED) return false;
  if (process.platform !== 'linux' || spawnSync('taskset', ['-V']).status !== 0) return false;
  const child = spawnSync('taskset', ['-c', cpu, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, LRN_BENCH_PINNED: cpu },
  });
  process.exitCode = child.status ?? 1;
  return true;
}

/** The CPU the bench runs on, for the report. */
export const pinnedCpu = () => process.env.LRN_BENCH_PINNED ?? null;
