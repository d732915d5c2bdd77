// Checks an installed copy of the package from the outside, as a user's program sees it.
//   node .ci/check-installed.cjs <project> native   -> backend() is native with this CPU's kernel
//   node .ci/check-installed.cjs <project> fallback <text>  -> the fallback, reason containing text
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [project, expected, text] = process.argv.slice(2);
const { backend, lrn } = require(path.join(path.resolve(project), 'node_modules', 'local-response-norm'));

// The kernel the dispatcher must pick here, from the CPU flags Linux reports (it lists AVX
// features only when the OS saves their registers, as the dispatcher also requires).
function cpuKernel() {
  if (process.arch === 'arm64') return 'neon';
  const flags = new Set((/^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/));
  if (flags.has('avx512f') && flags.has('avx2') && flags.has('fma')) return 'avx512';
  if (flags.has('avx2') && flags.has('fma')) return 'avx2';
  return 'scalar';
}

function fail(message) {
  console.error(`check-installed: ${message}; backend() = ${JSON.stringify(backend())}`);
  process.exit(1);
}

const info = backend();
if (expected === 'native') {
  if (info.backend !== 'native' || info.kernel !== cpuKernel()) fail(`expected the native '${cpuKernel()}' kernel`);
  // Node 20 to 26 pin lrnAsync's memory with the prebuilt binaries' shims (docs/async-memory.md).
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 20 && major <= 26 && major % 2 === 0 && info.asyncMemory !== 'pin') fail(`expected lrnAsync to pin on Node ${major}`);
} else if (expected === 'fallback') {
  if (info.backend !== 'fallback' || !info.reason?.includes(text ?? '')) fail(`expected the fallback, with a reason containing "${text}"`);
} else {
  fail(`expected 'native' or 'fallback' but received ${JSON.stringify(expected)}`);
}
// The paper's example, worked by hand: one position, channels 1, 2, 3 (n = 5, k = 2, a = 1e-4).
const y = lrn(new Float32Array([1, 2, 3]), { shape: [1, 3, 1, 1] });
const want = [1, 2, 3].map((v) => v / (2 + 1e-4 * 14) ** 0.75);
if (y.some((v, i) => Math.abs(v - want[i]) > 1e-6 * Math.abs(want[i]))) fail(`lrn gave ${Array.from(y)}, expected ${want}`);
console.log(`check-installed: ${info.backend} ${info.kernel}${info.asyncMemory ? `, async memory ${info.asyncMemory}` : ''}${info.reason ? ` (${info.reason})` : ''}`);
