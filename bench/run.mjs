// npm run bench [-- --shapes 1x96x55x55,32x96x55x55] [--beta 0.75] [--rounds 3] [--quick] [--no-native] [--no-ratios] [--write]
// --write also saves the report as bench/RESULTS.md and its chart as bench/results.svg.
// Times every contender on the same float32 input in one process, in interleaved rounds so a
// slow spell of the machine does not land on one contender only, checks that they agree, and
// prints a markdown table: median and minimum ms per call over all rounds' samples, spread,
// elements per second, and the speed-up of each contender over tfjs-backend-cpu and -wasm; then
// the kernel core against oneDNN (bench/native.mjs) and each SIMD kernel's ratios of its other
// calls to its beta 0.75 forward (bench/ratios.mjs), on the bench's input and on one 100x larger.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { memcpy, onnxruntimeContenders, packageContenders, tfjsContenders } from './contenders.mjs';
import { barChart } from './chart.mjs';
import { buildNativeBench, printNativeTable, runNativeBench } from './native.mjs';
import { pinnedCpu, pinToOneCpu } from './pin.mjs';
import { measureRatios, printRatios } from './ratios.mjs';
import { backend, setBackend } from '../dist/index.mjs';
import { fill } from './input.mjs';
import { summarize, timeIt } from './timing.mjs';

const { values: args } = parseArgs({
  options: {
    shapes: { type: 'string', default: '1x96x55x55,32x96x55x55' },
    beta: { type: 'string', default: '0.75' },
    rounds: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    'no-native': { type: 'boolean', default: false },
    'no-ratios': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
});
const ROUNDS = args.quick ? 1 : Number(args.rounds);
if (args.quick) {
  process.env.LRN_BENCH_MIN_SAMPLES ??= '5';
  process.env.LRN_BENCH_MAX_TOTAL_S ??= '0.5';
}

// AlexNet's parameters; in TensorFlow's convention (tfjs) they are the same numbers.
const PARAMS = { size: 5, alpha: 1e-4, beta: Number(args.beta), k: 2 };

/** Largest |a - b| / |b| over the elements (|b| floored at 1e-30). */
function maxRelativeDifference(a, b) {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-30));
  return worst;
}

const fmt = (v, digits = 3) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(digits));

async function main() {
  // The kernel core's bench is built first, so that the tables come together at the end.
  const nativeBuild = args['no-native'] ? null : await buildNativeBench();
  const tfjs = await tfjsContenders();
  const ort = await onnxruntimeContenders();
  const contenders = [memcpy, ...packageContenders(), ...tfjs.list, ...ort.list];
  const notes = [];
  for (const skipped of [tfjs.skipped, ort.skipped]) if (skipped) notes.push(skipped);
  for (const c of tfjs.list) if (c.note) { await c.before(); const n = await c.note(); if (n) notes.push(`${c.name}: ${n}`); }

  const samples = new Map(); // row key -> { row, perCall[] }
  const agreement = [];
  const cases = [];
  for (const dims of args.shapes.split(',').map((s) => s.split('x').map(Number))) {
    const [N, C, ...spatial] = dims;
    const input = fill(dims.reduce((p, d) => p * d, 1));
    for (const layout of ['NCHW', 'NHWC']) {
      cases.push({ dims, input, layout, shape: layout === 'NCHW' ? dims : [N, ...spatial, C], ...PARAMS });
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const theCase of cases) {
      const label = `${theCase.dims.join('x')} ${theCase.layout}`;
      let reference;
      for (const contender of contenders) {
        // tfjs has no NCHW LRN and onnxruntime no NHWC one: each is timed on its layout only.
        if (!contender.layouts.includes(theCase.layout)) continue;
        await contender.before?.();
        const prepared = await contender.prepare(theCase.input, theCase);
        const { perCall } = await timeIt(prepared.run);
        if (round === 0 && prepared.result) {
          const out = await prepared.result();
          if (contender.kernel === 'fallback' && !contender.fresh) reference = out;
          else if (reference && contender.kernel === undefined) {
            agreement.push({ label, name: contender.name, diff: maxRelativeDifference(out, reference) });
          }
        }
        prepared.dispose?.();
        const key = `${label} ${contender.name}`;
        if (!samples.has(key)) {
          samples.set(key, {
            row: { shape: theCase.dims.join('x'), layout: theCase.layout, name: contender.name, version: contender.version, length: theCase.input.length },
            perCall: [],
          });
        }
        samples.get(key).perCall.push(...perCall);
        process.stderr.write(`round ${round + 1}/${ROUNDS} ${key}: ${summarize(perCall).medianMs.toFixed(3)} ms\n`);
      }
    }
  }
  const rows = [...samples.values()].map(({ row, perCall }) => ({ ...row, ...summarize(perCall) }));
  const report = [];
  const log = console.log;
  if (args.write) console.log = (...line) => { report.push(line.join(' ')); log(...line); };
  print(rows, agreement, notes);
  let native = { rows: [], notes: [] };
  if (!args['no-native']) {
    // Shapes of the kernel-core bench: the package shapes plus oneDNN's reference shape 1x256x27x27.
    const shapes = [...new Set([...args.shapes.split(','), '1x256x27x27'])].join(',');
    native = runNativeBench(shapes, ROUNDS, nativeBuild);
    printNativeTable(native, fmt);
  }
  if (!args['no-ratios']) {
    setBackend('auto');
    const simd = backend().available.filter((k) => k !== 'scalar' && k !== 'typescript');
    if (simd.length > 0) console.log('\n### Ratios within each SIMD kernel (bench/ratios.mjs)');
    for (const kernel of simd) {
      for (const scale of [1, 100]) {
        console.log('');
        printRatios(await measureRatios(kernel, scale));
      }
    }
    setBackend('auto');
  }
  console.log = log;
  if (args.write) write(report, rows, native);
}

function write(report, rows, native) {
  const url = new URL('.', import.meta.url);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
  writeFileSync(new URL('RESULTS.md', url),
    `# Benchmark results\n\nProduced by \`${command}\` on ${new Date().toISOString().slice(0, 10)}.\n\n![chart](results.svg)\n${report.join('\n')}\n`);
  const bars = [];
  for (const r of rows) bars.push({ group: `${r.shape} ${r.layout} (through Node)`, label: r.name.replace('local-response-norm ', ''), value: r.length / r.medianMs / 1e3 });
  const onednnPick = (r) => native.rows.find((o) => o.impl === 'onednn' && o.shape === r.shape && o.layout === r.layout);
  for (const r of native.rows) {
    if (r.impl === 'memcpy') continue;
    // oneDNN's AVX2 row is a bar of its own only where it is not the implementation oneDNN picks.
    if (r.impl === 'onednn-avx2' && onednnPick(r)?.note === r.note) continue;
    const [n, c, h, w] = r.shape.split('x').map(Number);
    const label = r.impl.startsWith('onednn') ? `oneDNN ${r.note.split(' ').slice(1).join(' ')}` : r.impl;
    bars.push({ group: `${r.shape} ${r.layout} (C++ kernel core)`, label, value: (n * c * h * w) / r.median_ms / 1e3 });
  }
  bars.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  writeFileSync(new URL('results.svg', url), barChart(`LRN, float32, n=5, beta=${PARAMS.beta}, one thread: ${os.cpus()[0]?.model ?? ''}`, bars));
}

function print(rows, agreement, notes) {
  const cpus = os.cpus();
  console.log(`\n## local-response-norm bench\n`);
  console.log(`Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${os.platform()} ${os.arch()}, Node ${process.version}. ` +
    `One thread${pinnedCpu() ? ` (the process pinned to CPU ${pinnedCpu()})` : ''}. float32, across channels, n=${PARAMS.size}, alpha=${PARAMS.alpha}, beta=${PARAMS.beta}, k=${PARAMS.k}. ` +
    `Input uniform(-2, 2). "(new output)" allocates the result each call; the other package rows write into a preallocated \`out\`. ` +
    `tfjs allocates its output each call and has only NHWC; NCHW speed-ups compare with its NHWC time on the same shape. ` +
    `onnxruntime-node has only NCHW; NHWC rows compare with its NCHW time on the same shape. ` +
    `${ROUNDS} interleaved round(s); figures over all samples of all rounds.\n`);
  for (const n of notes) console.log(`- ${n}`);
  console.log('\n| shape | layout | contender | version | median ms | min ms | spread | Melem/s | x memcpy | vs tfjs-cpu | vs tfjs-wasm | vs onnxruntime |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const same = (name, layout) => rows.find((o) => o.shape === r.shape && o.layout === layout && o.name === name);
    const copy = same('memcpy (Float32Array.set)', r.layout);
    const cpu = same('tfjs-backend-cpu', 'NHWC');
    const wasm = same('tfjs-backend-wasm', 'NHWC');
    const onnx = same('onnxruntime-node', 'NCHW');
    const ratio = (base) => (base ? `${fmt(base.medianMs / r.medianMs)}x` : '-');
    console.log(`| ${r.shape} | ${r.layout} | ${r.name} | ${r.version} | ${fmt(r.medianMs)} | ${fmt(r.minMs)} | ${(r.spread * 100).toFixed(1)}% | ` +
      `${fmt(r.length / r.medianMs / 1e3)} | ${copy ? fmt(r.medianMs / copy.medianMs) : '-'} | ${ratio(cpu)} | ${ratio(wasm)} | ${ratio(onnx)} |`);
  }
  if (agreement.length > 0) {
    console.log('\nAgreement with the TypeScript backend (largest relative difference; tfjs computes in float32; ' +
      'onnxruntime keeps a float32 running sum of the window, which loses small terms):\n');
    for (const a of agreement) console.log(`- ${a.label} ${a.name}: ${a.diff.toExponential(2)}`);
    // A running sum's error is onnxruntime's own, so it is allowed more; a larger difference
    // anywhere means the contenders compute different things and their timings do not compare.
    const limit = (name) => (name === 'onnxruntime-node' ? 1e-3 : 1e-5);
    for (const a of agreement.filter((a) => !(a.diff < limit(a.name)))) {
      console.error(`\n${a.label} ${a.name} disagrees (largest relative difference ${a.diff}, limit ${limit(a.name)}).`);
      process.exitCode = 1;
    }
  }
}

if (!pinToOneCpu()) await main();
