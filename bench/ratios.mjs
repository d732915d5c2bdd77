// node bench/ratios.mjs [kernel] [--threads] [--scale s]   (after npm run compile)
// The package's own ratios on 1x96x55x55, float32, into a preallocated `out`, one process:
// other betas, within-channel and backward (dense, and sparse as behind ReLU and a max pool)
// against the beta = 0.75 across-channels forward,
// the per-call time of a 1x8x4x4 call, and with --threads lrnAsync on 32x96x55x55 with one
// thread against two. Medians by bench/timing.mjs's policy; no timing asserts anything.
// --scale multiplies the input (uniform(-2, 2)) by s: with s = 100 the window sums are far past
// the range where the kernels' series replaces the power (a*S/k up to about 2^-5), so every
// vector takes the general path.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lrn, lrnAsync, lrnBackward, setBackend, backend } from '../dist/index.mjs';
import { fill } from './input.mjs';
import { pinToOneCpu } from './pin.mjs';
import { summarize, timeIt } from './timing.mjs';

/** Median microseconds per call, by the bench's timing policy. */
async function medianMicros(fn) {
  return summarize((await timeIt(fn)).perCall).medianMs * 1e3;
}

const kernel = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'auto';
const withThreads = process.argv.includes('--threads');
const scaleAt = process.argv.indexOf('--scale');
const scale = scaleAt > 0 ? Number(process.argv[scaleAt + 1]) : 1;

/** The bench's input, times `scale`. */
function input(length, scale) {
  const x = fill(length);
  if (scale !== 1) for (let i = 0; i < x.length; i++) x[i] *= scale;
  return x;
}

/** The package's ratios on one kernel: rows of [layout, call, median us, ratio to the beta 0.75
 *  forward of that layout], and the per-call time of a 1x8x4x4 call. */
export async function measureRatios(kernel, scale = 1) {
  setBackend(kernel);
  const x = input(96 * 55 * 55, scale), dy = fill(x.length), out = new Float32Array(x.length);
  // What a backward pass behind ReLU and a max pool sees: x >= 0 with half of it 0, dy mostly 0.
  const reluX = x.map((v) => Math.max(v, 0)), sparseDy = dy.map((v, i) => (i % 4 === 0 ? v : 0));
  const rows = [];
  for (const layout of ['NCHW', 'NHWC']) {
    const shape = layout === 'NCHW' ? [1, 96, 55, 55] : [1, 55, 55, 96];
    const forward = (options) => medianMicros(() => { lrn(x, { shape, layout, out, ...options }); });
    const base = await forward({});
    rows.push([layout, 'forward, beta 0.75', base, 1]);
    for (const beta of [0.6, 1.3]) { const t = await forward({ beta }); rows.push([layout, `forward, beta ${beta}`, t, t / base]); }
    const within = await forward({ region: 'within-channel' });
    rows.push([layout, 'forward, within-channel', within, within / base]);
    const backward = await medianMicros(() => { lrnBackward(x, dy, { shape, layout, out }); });
    rows.push([layout, 'backward', backward, backward / base]);
    const sparse = await medianMicros(() => { lrnBackward(reluX, sparseDy, { shape, layout, out }); });
    rows.push([layout, 'backward, sparse (ReLU x, 3/4 of dy 0)', sparse, sparse / base]);
  }
  const small = fill(8 * 16), smallOut = new Float32Array(small.length);
  const tiny = () => { lrn(small, { shape: [1, 8, 4, 4], out: smallOut }); };
  // Warm: the JIT's optimized code, not its first tiers (the policy's one warm-up call is the
  // right thing for calls of a millisecond, not for a call of a microsecond).
  for (let i = 0; i < 100000; i++) tiny();
  return { kernel: backend().kernel, scale, rows, tinyMicros: await medianMicros(tiny) };
}

/** Prints measureRatios' result as a markdown table. */
export function printRatios({ kernel, scale, rows, tinyMicros }) {
  console.log(`kernel ${kernel}, 1x96x55x55 float32 into out, input uniform(-${2 * scale}, ${2 * scale}) (median us, ratio to the beta 0.75 forward)\n`);
  console.log('| layout | call | median us | ratio |\n|---|---|---|---|');
  for (const [layout, call, t, r] of rows) console.log(`| ${layout} | ${call} | ${t.toFixed(1)} | ${r.toFixed(2)}x |`);
  console.log(`\n1x8x4x4 into out: ${tinyMicros.toFixed(2)} us per call`);
}

async function main() {
  printRatios(await measureRatios(kernel, scale));
  if (!withThreads) return;
  const big = fill(32 * 96 * 55 * 55), bigOut = new Float32Array(big.length);
  for (const layout of ['NCHW', 'NHWC']) {
    const shape = layout === 'NCHW' ? [32, 96, 55, 55] : [32, 55, 55, 96];
    const ms = {};
    for (const threads of [1, 2]) {
      const t = [];
      for (let i = 0; i < 31; i++) {
        const a = process.hrtime.bigint();
        await lrnAsync(big, { shape, layout, out: bigOut, threads });
        t.push(Number(process.hrtime.bigint() - a) / 1e6);
      }
      ms[threads] = t.sort((a, b) => a - b)[15];
    }
    console.log(`lrnAsync 32x96x55x55 ${layout}: 1 thread ${ms[1].toFixed(2)} ms, 2 threads ${ms[2].toFixed(2)} ms, ${(ms[1] / ms[2]).toFixed(2)}x`);
  }
}

// Threads need every CPU; the single-thread ratios run on one. Imported (by run.mjs), nothing runs.
const direct = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (direct && (withThreads || !pinToOneCpu())) await main();
