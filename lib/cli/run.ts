// `run`: LRN (or its backward) over an array in a .npy file, written to another .npy file.
import { readFile } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { backend, lrnAsync, lrnBackward, type FloatArray, type LrnOptions } from '../index.js';
import { encodeNpy, NpyFormatError, parseNpy, type Npy } from '../npy.js';
import { makePlan } from '../options.js';
import { CliError, PROGRAM, type Command, type Parsed } from './command.js';
import { removeTemporaryFiles, systemMessage, writeAtomically } from './output.js';
import { Progress } from './progress.js';

// Batch items are computed a group at a time, about this many elements each, so that the
// progress line can move; each item is independent of the others, so the result is the same.
const CHUNK_ELEMENTS = 1 << 20;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export const run: Command = {
  name: 'run',
  usage: 'run <in.npy> -o <out.npy> [options]',
  summary: 'LRN (or its backward with --backward) of the array in a .npy file, into a new .npy file',
  description: [
    'Reads <in.npy> (a float32 or float64 array, format 1.0 to 3.0, little-endian, C order), ' +
      'computes lrn with the given options, or lrnBackward with the gradient in --backward, and ' +
      'writes the result with the same dtype and shape to <out.npy>. The shape comes from the ' +
      "file's header: [N, C, ...spatial] for NCHW, [N, ...spatial, C] for NHWC. Options not given " +
      "take the preset's defaults. The output appears whole or not at all.",
  ],
  options: [
    { name: 'output', short: 'o', value: '<out.npy>', help: 'the file to write (required); an existing one is replaced', example: '-o y.npy' },
    {
      name: 'preset', value: '<name>',
      help: 'the convention: alexnet (default), pytorch, onnx, cudnn, caffe, tensorflow or onednn',
      example: '--preset onnx',
    },
    { name: 'size', value: '<n>', help: "window size n, a positive integer (default: the preset's)", example: '--size 5' },
    { name: 'alpha', value: '<number>', help: "scale of the sum of squares, >= 0 (default: the preset's)", example: '--alpha 1e-4' },
    { name: 'beta', value: '<number>', help: "exponent, >= 0 (default: the preset's)", example: '--beta 0.75' },
    { name: 'k', value: '<number>', help: "additive constant (bias), >= 0 (default: the preset's)", example: '--k 1' },
    {
      name: 'layout', value: '<layout>',
      help: "where the channel axis is: NCHW or NHWC (default: the preset's, NHWC for tensorflow, else NCHW)",
      example: '--layout NHWC',
    },
    {
      name: 'region', value: '<region>',
      help: 'across-channels (default), a window over channels, or within-channel, a box over the spatial axes of each channel',
      example: '--region within-channel',
    },
    {
      name: 'backward', value: '<dy.npy>',
      help: "compute the gradient dx for the gradient dy in this file (the input's dtype and shape) instead of lrn",
      example: '--backward dy.npy',
    },
  ],
  examples: [
    'run x.npy -o y.npy',
    'run x.npy -o y.npy --preset onnx --size 5 --alpha 1e-4 --beta 0.75 --k 1',
    'run x.npy -o y.npy --preset tensorflow --size 5 --alpha 1 --beta 0.5 --layout NHWC',
    'run x.npy -o y.npy --preset caffe --region within-channel --size 3 --alpha 5e-5',
    'run x.npy -o dx.npy --preset pytorch --backward dy.npy',
  ],
  action,
};

async function action({ values, positionals }: Parsed): Promise<void> {
  const see = `(see ${PROGRAM} help run)`;
  if (positionals.length !== 1) {
    const received = positionals.length === 0 ? 'none' : `${positionals.length}: ${positionals.join(' ')}`;
    throw new CliError(`run: expected one input file but received ${received} ${see}`);
  }
  const input = positionals[0]!;
  const output = values.output as string | undefined;
  if (output === undefined || output === '') throw new CliError(`run: expected -o <out.npy>, the file to write ${see}`);
  const gradient = values.backward as string | undefined;
  const fn = gradient === undefined ? 'lrn' : 'lrnBackward';

  const progress = new Progress(process.stderr, PROGRAM);
  // A signal mid-run must not leave a temporary file; the signal is then raised again so the
  // exit status says what stopped the process.
  const onSignal = (signal: NodeJS.Signals) => {
    progress.done();
    removeTemporaryFiles();
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal).once('SIGHUP', onSignal);
  try {
    progress.set(`reading ${input}`);
    const x = await readArray(input);
    const dy = gradient === undefined ? undefined : await readArray(gradient);
    if (dy !== undefined) checkSameKind(input, x, gradient!, dy);
    const options = libraryOptions(values, x.shape);
    const error = backend().error;
    if (error !== undefined) throw new CliError(`${fn}: ${error}`);
    try {
      makePlan(fn, x.data, options);
    } catch (e) {
      // The library's own message: it names the option, what it expected and what it received.
      if (e instanceof TypeError || e instanceof RangeError) throw new CliError(e.message);
      throw e;
    }
    const result = await compute(x, dy, options, progress);
    progress.set(`writing ${output}`);
    await writeAtomically(output, encodeNpy(result, x.shape));
  } finally {
    progress.done();
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeListener(signal, onSignal);
  }
}

async function readArray(path: string): Promise<Npy> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${systemMessage(e as NodeJS.ErrnoException)}`);
  }
  try {
    return parseNpy(bytes, path);
  } catch (e) {
    if (e instanceof NpyFormatError) throw new CliError(e.message);
    throw e;
  }
}

const dtypeOf = (a: FloatArray) => (a instanceof Float64Array ? 'float64' : 'float32');

function checkSameKind(xPath: string, x: Npy, dyPath: string, dy: Npy): void {
  const describe = (a: Npy) => `${dtypeOf(a.data)} (${a.shape.join(', ')})`;
  if (dtypeOf(x.data) !== dtypeOf(dy.data) || x.shape.join() !== dy.shape.join()) {
    throw new CliError(`--backward: expected ${dyPath} to hold ${describe(x)} like ${xPath} but it holds ${describe(dy)}`);
  }
}

/** The options for the library, as given: numbers where the text is one, else the text itself,
 *  which the library then rejects in its own words. */
function libraryOptions(values: Parsed['values'], shape: readonly number[]): LrnOptions {
  const options: Record<string, unknown> = { shape };
  for (const name of ['preset', 'layout', 'region'] as const) if (values[name] !== undefined) options[name] = values[name];
  for (const name of ['size', 'alpha', 'beta', 'k'] as const) {
    const text = values[name];
    if (typeof text === 'string') options[name] = NUMBER.test(text) ? Number(text) : text;
  }
  return options as unknown as LrnOptions;
}

/** Computes in place (into x, or into dy for the backward): a large file needs no second copy. */
async function compute(x: Npy, dy: Npy | undefined, options: LrnOptions, progress: Progress): Promise<FloatArray> {
  const [batch = 0, ...rest] = x.shape;
  const perItem = rest.reduce((p, d) => p * d, 1);
  const step = Math.max(1, Math.floor(CHUNK_ELEMENTS / Math.max(perItem, 1)));
  const what = dy === undefined ? 'lrn' : 'lrnBackward';
  progress.set(`${what}: 0/${batch} batch items`);
  for (let start = 0; start < batch; start += step) {
    const count = Math.min(step, batch - start);
    const part = (a: FloatArray) => a.subarray(start * perItem, (start + count) * perItem);
    const partOptions = { ...options, shape: [count, ...rest] };
    if (dy === undefined) {
      const y = part(x.data);
      await lrnAsync(y, { ...partOptions, out: y });
    } else {
      const dx = part(dy.data);
      lrnBackward(part(x.data), dx, { ...partOptions, out: dx });
      // lrnBackward runs on this thread: let the progress line be drawn between groups.
      await nextTurn();
    }
    const done = start + count;
    progress.set(`${what}: ${done}/${batch} batch items (${Math.floor((100 * done) / batch)}%)`);
  }
  return dy === undefined ? x.data : dy.data;
}
