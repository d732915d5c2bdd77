// Runs a script in a fresh Node process, so a crash, an abort or an environment variable read at
// load time stays there. The script gets `m` (the built package) and `binding` (the raw addon).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runChild(code: string, env: Record<string, string> = {}, flags: string[] = ['--expose-gc']): ChildResult {
  const script = `
    const root = ${JSON.stringify(root)};
    const m = require(root);
    const binding = require('node-gyp-build')(root);
    const settle = (p) => p.then((v) => ({ value: v }), (e) => ({ error: e.constructor.name, message: e.message, code: e.code }));
    // Polls the test gate (LRN_TEST_HOOKS=1) until \`count\` jobs wait at it.
    const waitAtGate = async (count) => { while (binding.testGate(true) < count) await new Promise((r) => setTimeout(r, 2)); };
    ${code}`;
  const r = spawnSync(process.execPath, [...flags, '-e', script], {
    env: { ...process.env, LRN_BACKEND: '', LRN_KERNEL: '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The last line of the child's output as JSON, after checking that it exited normally. */
export function childJson(r: ChildResult): unknown {
  if (r.status !== 0 || r.signal !== null) {
    throw new Error(`child exited with ${r.status ?? r.signal}:\n${r.stderr.slice(-2000)}`);
  }
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}
