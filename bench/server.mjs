// npm run bench:server [-- --quick]   (or node bench/server.mjs after npm run compile)
// examples/server.mjs under load: the server in a child process (so the load generator does not
// share its event loop), autocannon in this one, for 1, 16 and 100 connections on 1x96x55x55 and
// 8x96x55x55 float32 bodies, with lrn on the event loop, lrnAsync on one thread and lrnAsync on
// concurrency() threads. Each case posts through a warm-up, then a measured window of 5 s
// (--quick: 1 s) or longer where 100 connections need it; records requests/s and latency in the
// window and the server's event-loop delay over it (GET /stats), and writes bench/SERVER.md. One
// response per mode and body is first checked byte for byte against lrn computed here.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { concurrency, lrn } from '../dist/index.mjs';
import { fill } from './input.mjs';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const seconds = args.quick ? 1 : 5;
const here = join(fileURLToPath(import.meta.url), '..');

const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

const SHAPES = [[1, 96, 55, 55], [8, 96, 55, 55]];
const CONNECTIONS = [1, 16, 100];
const MODES = [
  ['`lrn` (sync)', 'mode=sync'],
  ['`lrnAsync`, 1 thread', 'threads=1'],
  [`\`lrnAsync\`, concurrency() = ${concurrency()} threads`, ''],
];

async function startServer() {
  const child = spawn(process.execPath, [join(here, '..', 'examples', 'server.mjs'), '0'], {
    env: { ...process.env, HOST: '127.0.0.1', THREADS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${/:(\d+)\s*$/.exec(String(line))[1]}` };
}

const stats = async () => (await fetch(`${base}/stats`)).json();

/** Waits until the server has finished the requests of the last case (autocannon leaves some in
 *  flight), then resets its event-loop histogram. */
async function settle() {
  while ((await stats()).inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** One response per mode, byte for byte against lrn here. */
async function verify(shape, x) {
  const expected = Buffer.from(lrn(x, { shape }).buffer);
  for (const [name, query] of MODES) {
    const res = await fetch(`${base}/?shape=${shape.join(',')}&${query}`, { method: 'POST', body: x });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 || !body.equals(expected)) {
      throw new Error(`${name} on ${shape.join('x')}: status ${res.status}, ${body.equals(expected) ? 'same' : 'different'} bytes`);
    }
  }
}

/** A case's warm-up and measured window (s): at least `seconds`, and long enough for every
 *  connection to have had a response before the window opens and two during it, at the rate one
 *  connection got (with 100 connections on large bodies a round takes longer than `seconds`);
 *  at most 12 times `seconds` (--quick: 3 times). */
function timing(connections, rate1) {
  const round = rate1 ? connections / rate1 : 0;
  const cap = (args.quick ? 3 : 12) * seconds;
  return { warm: Math.min(cap, Math.max(seconds / 5, round)), window: Math.min(cap, Math.max(seconds, 2 * round)) };
}

/** One case: autocannon's connections post through the warm-up, the window and a second after
 *  it (so the load holds while the window closes); only responses that arrive in the window
 *  count, so each case is measured in its steady state. */
async function measure(url, body, connections, { warm, window }) {
  const latencies = [];
  let failed = 0;
  let open = false;
  const run = autocannon({
    url, method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body,
    connections, duration: warm + window + 1, timeout: 60,
  });
  run.on('response', (client, status, bytes, ms) => {
    if (!open) return;
    if (status === 200) latencies.push(ms);
    else failed++;
  });
  run.on('reqError', () => { if (open) failed++; });
  const sleep = (s) => new Promise((resolve) => setTimeout(resolve, s * 1000));
  await sleep(warm);
  await stats();
  const opened = performance.now();
  open = true;
  await sleep(window);
  open = false;
  const elapsed = (performance.now() - opened) / 1000;
  const delay = await stats();
  await run;
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { done: latencies.length, rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), failed, delay, elapsed };
}

const started = performance.now();
const { child, base } = await startServer();
const rows = [];
let failures = 0;
try {
  for (const shape of SHAPES) {
    const x = fill(shape.reduce((a, b) => a * b));
    const body = Buffer.from(x.buffer);
    await verify(shape, x);
    const rate1 = new Map();
    for (const connections of CONNECTIONS) {
      for (const [name, query] of MODES) {
        await settle();
        const r = await measure(`${base}/?shape=${shape.join(',')}&${query}`, body, connections, timing(connections, rate1.get(name)));
        if (connections === 1) rate1.set(name, r.rps);
        failures += r.failed;
        rows.push({ shape: shape.join('x'), connections, name, ...r });
        console.error(`${shape.join('x')}, ${connections} connections, ${name}: ${fmt(r.rps)} requests/s over ${fmt(r.elapsed)} s`);
      }
    }
  }
} finally {
  child.kill();
}
console.error(`${fmt((performance.now() - started) / 1000)} s in all`);

const table = [
  '| body | connections | mode | window (s) | requests | requests/s | latency p50 (ms) | latency p99 (ms) | event-loop delay p99 (ms) | event-loop delay max (ms) |',
  '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => {
    const latency = r.done > 0 ? `${fmt(r.p50)} | ${fmt(r.p99)}` : '- | -';
    return `| ${r.shape} | ${r.connections} | ${r.name} | ${fmt(r.elapsed)} | ${r.done} | ${fmt(r.rps)} | ${latency} | ${fmt(r.delay.p99)} | ${fmt(r.delay.max)} |`;
  }),
];
const windows = args.quick
  ? `${seconds} to ${3 * seconds} s with \`--quick\``
  : `${seconds} to ${12 * seconds} s, longer where each connection needs longer to get two responses`;
const report = [
  '# examples/server.mjs under load',
  '',
  ...(args.quick ? [
    '> A quick functional run (`--quick`, short windows), which shows that the bench works, not',
    '> what the server does: `npm run bench:server` on an idle machine replaces this file.',
    '',
  ] : []),
  `${cpus()[0].model}, ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; ` +
    'generated by `npm run bench:server`.',
  '',
  'The server (examples/server.mjs) runs in its own process and autocannon in the bench\'s, on the',
  'same cores, POSTing the same float32 body (raw bytes) over keep-alive connections; one response',
  'per mode and body was first checked byte for byte against `lrn`. Each case posts through a',
  `warm-up, then a measured window (${windows}): requests, requests/s and latency count the`,
  'responses that arrived in the window, as the clients saw them. The event-loop delay is how long',
  'anything else in the server (reading another body, a health check, a timer) waited for the event',
  'loop during the window: `lrn` holds the loop for each whole computation, `lrnAsync` only to start',
  'it and to send the reply.',
  '',
  ...table,
  ...(failures ? ['', `${failures} requests failed in the windows (connection errors, timeouts or non-2xx statuses).`] : []),
  '',
];
writeFileSync(join(here, 'SERVER.md'), report.join('\n'));
console.log(table.join('\n'));
