// `bench`: how fast this machine's backends compute AlexNet's LRN layers, against memcpy of the
// same bytes (the memory-traffic floor) and the TypeScript fallback, in one process.
import { cpus } from 'node:os';
import { backend, lrn, setBackend } from '../index.js';
import { CliError, positiveInteger, PROGRAM, version, type Command, type Parsed } from './command.js';

const DEFAULT_SHAPES = '1x96x55x55,1x256x27x27';

export const bench: Command = {
  name: 'bench',
  usage: 'bench [--shapes <list>] [--rounds <n>] [--quick]',
  summary: "times this machine's backends and memcpy on AlexNet's LRN shapes",
  description: [
    'Times lrn with the alexnet preset (n=5, alpha=1e-4, beta=0.75, k=2) on float32 NCHW data ' +
      'into a preallocated out, on every native kernel this machine has and on the TypeScript ' +
      'fallback, and Float32Array.prototype.set of the same bytes (memcpy). Each round times every ' +
      'row in turn, so a slow spell of the machine is shared; the table gives medians over the ' +
      'rounds, elements per second, and each median divided by memcpy\'s and by the fallback\'s ' +
      '(lower is faster). Timings vary from run to run: compare rows of one run.',
  ],
  options: [
    {
      name: 'shapes', value: '<list>',
      help: `comma-separated NCHW shapes, each dimension a positive integer (default ${DEFAULT_SHAPES}, AlexNet's two LRN layers)`,
      example: '--shapes 1x96x55x55,8x256x27x27',
    },
    { name: 'rounds', value: '<n>', help: 'how many rounds the medians are over (default 7, with --quick 3)', example: '--rounds 11' },
    { name: 'quick', help: 'short rounds (about 2 ms of calls per row instead of 20 ms) and 3 of them: a rough figure fast', example: '--quick' },
  ],
  examples: ['bench', 'bench --quick', 'bench --shapes 32x96x55x55 --rounds 5'],
  action,
};

interface Contender {
  readonly name: string;
  /** Makes this contender's backend the one computing (before each timed batch). */
  readonly select: () => void;
  /** One call's work on these arrays. */
  readonly prepare: (x: Float32Array, out: Float32Array, shape: number[]) => () => void;
}

function libraryContender(name: string, backendName: string): Contender {
  return {
    name,
    select: () => setBackend(backendName),
    prepare: (x, out, shape) => {
      const options = { shape, preset: 'alexnet', out } as const;
      return () => {
        lrn(x, options);
      };
    },
  };
}

/** memcpy, then every native kernel, then the TypeScript fallback. */
function contenders(): Contender[] {
  const list: Contender[] = [{ name: 'memcpy', select: () => undefined, prepare: (x, out) => () => out.set(x) }];
  for (const kernel of backend().available) list.push(libraryContender(kernel, kernel));
  // A WebAssembly backend, once lib/ has one, is timed here: libraryContender('wasm', <its setBackend name>).
  list.push(libraryContender('typescript', 'fallback'));
  return list;
}

function parseShapes(text: string): number[][] {
  const shapes = text.split(',').map((s) => s.split('x').map((d) => (/^\d+$/.test(d) ? Number(d) : NaN)));
  if (!shapes.every((dims) => dims.length >= 2 && dims.every((d) => Number.isSafeInteger(d) && d >= 1))) {
    throw new CliError(
      `bench: expected shapes of 2 or more positive integers joined by x, separated by commas (like ${DEFAULT_SHAPES}) for --shapes but received ${JSON.stringify(text)}`,
    );
  }
  return shapes;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Milliseconds per call over `calls` back-to-back calls. */
function timeCalls(call: () => void, calls: number): number {
  const start = now();
  for (let i = 0; i < calls; i++) call();
  return (now() - start) / calls;
}

const median = (values: readonly number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

interface BenchRow {
  readonly name: string;
  readonly medianMs: number;
}

/** Median ms per call of every contender on one shape. */
function timeShape(shape: number[], rounds: number, batchMs: number): BenchRow[] {
  const length = shape.reduce((p, d) => p * d, 1);
  // Deterministic data of AlexNet activations' magnitude, the same for every row.
  const x = Float32Array.from({ length }, (_, i) => 2 * Math.sin(i * 12.9898));
  const out = new Float32Array(length);
  const timed = contenders().map((c) => {
    c.select();
    const call = c.prepare(x, out, shape);
    // Doubled until a batch lasts batchMs: a slow first call (warm-up) cannot make it too short.
    let calls = 1;
    while (calls < 1 << 20 && timeCalls(call, calls) * calls < batchMs) calls *= 2;
    return { ...c, call, calls, samples: [] as number[] };
  });
  for (let round = 0; round < rounds; round++) {
    // Rotated each round, so that no row always runs first (or right after another).
    for (let i = 0; i < timed.length; i++) {
      const t = timed[(i + round) % timed.length]!;
      t.select();
      t.samples.push(timeCalls(t.call, t.calls));
    }
  }
  setBackend('auto');
  return timed.map((t) => ({ name: t.name, medianMs: median(t.samples) }));
}

const figure = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(3));

function perSecond(v: number): string {
  const [scale, unit] = v >= 1e9 ? [1e9, 'G'] : v >= 1e6 ? [1e6, 'M'] : [1e3, 'k'];
  return `${figure(v / scale)} ${unit}`;
}

/** A markdown table with its columns padded, readable as it is and when pasted. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `-${'-'.repeat(w)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export const BENCH_COLUMNS = ['backend', 'median ms', 'elements/s', 'vs memcpy', 'vs typescript'] as const;

async function action({ values }: Parsed): Promise<void> {
  const quick = values.quick === true;
  const shapes = parseShapes((values.shapes as string | undefined) ?? DEFAULT_SHAPES);
  const rounds = values.rounds === undefined ? (quick ? 3 : 7) : positiveInteger('bench', 'rounds', values.rounds as string);
  const info = backend();
  const cpu = cpus();
  const lines = [
    `${PROGRAM} ${version()} bench: Node.js ${process.version}, ${process.platform} ${process.arch}, ` +
      `${cpu[0]?.model.trim() ?? 'unknown CPU'} (${cpu.length} CPUs)`,
    info.available.length > 0
      ? `native kernels: ${info.available.join(', ')}`
      : `native kernels: none (${info.reason ?? 'the addon is not loaded'})`,
    'lrn, preset alexnet (n=5, alpha=1e-4, beta=0.75, k=2), float32, NCHW, into a preallocated out; ' +
      'memcpy: Float32Array.prototype.set of the same bytes',
    `median ms over ${rounds} round${rounds === 1 ? '' : 's'}; vs memcpy, vs typescript: the median divided by theirs (lower is faster)`,
  ];
  for (const shape of shapes) {
    const elements = shape.reduce((p, d) => p * d, 1);
    const rows = timeShape(shape, rounds, quick ? 2 : 20);
    const base = (name: string) => rows.find((r) => r.name === name)!.medianMs;
    const [memcpy, fallback] = [base('memcpy'), base('typescript')];
    lines.push('', `${shape.join('x')} (${elements} elements)`, '', table(BENCH_COLUMNS, rows.map((r) => [
      r.name, figure(r.medianMs), perSecond(elements / (r.medianMs / 1e3)), figure(r.medianMs / memcpy), figure(r.medianMs / fallback),
    ])));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
