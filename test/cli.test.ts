// The `local-response-norm` command (docs/cli.md), run as users run it: the compiled
// dist/cli/main.js in a child process (`npm run compile` first). Its results are compared with
// lrn and lrnBackward computed here; no test asserts anything about speed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, lrn, lrnBackward, setBackend, type FloatArray, type LrnOptions } from '../lib/index.js';
import { BENCH_COLUMNS, bench } from '../lib/cli/bench.js';
import { Progress } from '../lib/cli/progress.js';
import { run } from '../lib/cli/run.js';
import { encodeNpy, readNpyFile } from '../lib/npy.js';
import { GOLDEN_CASES, GOLDEN_DIR as GOLDEN, goldenOptions, type GoldenCase } from './helpers/golden.js';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let dir = '';
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run compile first`);
  dir = mkdtempSync(join(tmpdir(), 'lrn-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Result { status: number | null; stdout: string; stderr: string }

function cli(args: readonly string[], env: Record<string, string> = {}): Result {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, LRN_BACKEND: '', LRN_KERNEL: '', ...env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Expects a failure with exit code 2 and one line on stderr (nothing on stdout); returns the line. */
function failsWithOneLine(r: Result): string {
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^local-response-norm: [^\n]+\n$/);
  expect(r.status).toBe(2);
  return r.stderr;
}

const path = (name: string) => join(dir, name);
const writeNpy = (name: string, data: FloatArray, shape: readonly number[]) => {
  writeFileSync(path(name), Buffer.concat(encodeNpy(data, shape)));
  return path(name);
};
const temporaryFiles = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

const golden = (name: string) => GOLDEN_CASES.find((c) => c.name === name)!;

/** The case's options for the library, and as command-line arguments (the shape is the file's). */
function optionsOf(c: GoldenCase): { options: LrnOptions; args: string[] } {
  const options = goldenOptions(c);
  const args = Object.entries(options).filter(([key]) => key !== 'shape').flatMap(([key, value]) => [`--${key}`, String(value)]);
  return { options, args };
}

describe('run', () => {
  // Forward and backward, float32 and float64, both layouts and regions, defaults left to the preset.
  const CASES = [
    'defaults_only', 'alexnet_s5_nchw', 'alexnet_s3_nhwc', 'tensorflow_defaults_nhwc', 'caffe_within_s3',
    'onednn_within_3d_nhwc', 'pytorch_even_s4_rank3', 'float64_pytorch', 'float64_onnx_even_nhwc',
    'backward_alexnet_nhwc', 'backward_caffe_within', 'backward_float64_pytorch_even_s2',
  ];
  it.each(CASES)('%s: the output equals the library\'s result, with the input\'s dtype and shape', (name) => {
    const c = golden(name);
    const { options, args } = optionsOf(c);
    const x = readNpyFile(join(GOLDEN, c.files.input));
    const dy = c.files.gradOutput === undefined ? undefined : readNpyFile(join(GOLDEN, c.files.gradOutput));
    const extra = dy === undefined ? [] : ['--backward', join(GOLDEN, c.files.gradOutput!)];
    const r = cli(['run', join(GOLDEN, c.files.input), '-o', `${name}.out.npy`, ...args, ...extra]);
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    const y = readNpyFile(path(`${name}.out.npy`));
    const expected = dy === undefined ? lrn(x.data, options) : lrnBackward(x.data, dy.data, options);
    expect(y.shape).toEqual(x.shape);
    expect(y.data.constructor).toBe(x.data.constructor);
    expect(y.data).toEqual(expected);
  });

  it('on the TypeScript backend (LRN_BACKEND=fallback) too', () => {
    const c = golden('alexnet_s3_nhwc');
    const { options, args } = optionsOf(c);
    const r = cli(['run', join(GOLDEN, c.files.input), '-o', 'fallback.npy', ...args], { LRN_BACKEND: 'fallback' });
    expect(r.status).toBe(0);
    const x = readNpyFile(join(GOLDEN, c.files.input));
    setBackend('fallback');
    try {
      expect(readNpyFile(path('fallback.npy')).data).toEqual(lrn(x.data, options));
    } finally {
      setBackend('auto');
    }
  });

  // 3 items of 2^19 elements: computed two items, then one, as the progress line advances.
  it('a tensor computed in groups of batch items equals one lrn and one lrnBackward call', () => {
    const shape = [3, 8, 256, 256];
    const x = Float32Array.from({ length: 3 * 8 * 256 * 256 }, (_, i) => 3 * Math.sin(i * 0.37));
    const dy = Float32Array.from(x, (_, i) => Math.cos(i * 0.11));
    writeNpy('big.npy', x, shape);
    writeNpy('big-dy.npy', dy, shape);
    // Compared as bytes: toEqual takes minutes over a million elements.
    const bytes = (a: FloatArray) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(cli(['run', 'big.npy', '-o', 'big-y.npy', '--preset', 'pytorch']).status).toBe(0);
    expect(bytes(readNpyFile(path('big-y.npy')).data).equals(bytes(lrn(x, { shape, preset: 'pytorch' })))).toBe(true);
    expect(cli(['run', 'big.npy', '-o', 'big-dx.npy', '--backward', 'big-dy.npy']).status).toBe(0);
    expect(bytes(readNpyFile(path('big-dx.npy')).data).equals(bytes(lrnBackward(x, dy, { shape })))).toBe(true);
  });

  it('reads format versions 2.0 and 3.0 and unaligned data; writes what it reads', () => {
    const x = Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => i - 7);
    for (const major of [2, 3]) {
      writeFileSync(path(`v${major}.npy`), rawNpy(`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 5, 3), }\n`, x, major));
      expect(cli(['run', `v${major}.npy`, '-o', `v${major}-y.npy`]).status).toBe(0);
      expect(readNpyFile(path(`v${major}-y.npy`)).data).toEqual(lrn(x, { shape: [2, 5, 3] }));
    }
    const written = readFileSync(path('v2-y.npy'));
    expect(written.subarray(0, 8)).toEqual(Buffer.from('\x93NUMPY\x01\x00', 'latin1'));
    expect((10 + written.readUInt16LE(8)) % 64).toBe(0);
    expect(written.toString('latin1', 10, 10 + written.readUInt16LE(8)))
      .toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 5, 3\), \} *\n$/);
  });

  it('writes over its own input and over an existing output', () => {
    const x = Float64Array.from({ length: 24 }, (_, i) => i / 3);
    writeNpy('self.npy', x, [2, 6, 2]);
    writeFileSync(path('existing.npy'), 'old contents');
    expect(cli(['run', 'self.npy', '-o', 'self.npy']).status).toBe(0);
    expect(cli(['run', 'existing.npy', '-o', 'x.npy']).status).toBe(2);
    expect(cli(['run', path('self.npy'), '-o', 'existing.npy', '--preset', 'onnx']).status).toBe(0);
    expect(readNpyFile(path('self.npy')).data).toEqual(lrn(x, { shape: [2, 6, 2] }));
    expect(readNpyFile(path('existing.npy')).data).toEqual(lrn(lrn(x, { shape: [2, 6, 2] }), { shape: [2, 6, 2], preset: 'onnx' }));
    expect(temporaryFiles()).toEqual([]);
  });
});

/** A .npy file with this header text and data, in format `major`.0. */
function rawNpy(header: string, data: Float32Array | Uint8Array, major = 1): Buffer {
  const text = Buffer.from(header, major === 3 ? 'utf8' : 'latin1');
  const prefix = Buffer.alloc(major === 1 ? 10 : 12);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = major;
  if (major === 1) prefix.writeUInt16LE(text.length, 8);
  else prefix.writeUInt32LE(text.length, 8);
  return Buffer.concat([prefix, text, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]);
}

describe('bad input: exit code 2, one line on stderr, no output file', () => {
  const GOOD = join(GOLDEN, golden('alexnet_s5_nchw').files.input);
  const twelve = new Float32Array(12);
  const header = (dict: string) => `${dict}\n`;
  // [what, file contents, message pattern]
  const FILES: Array<[string, Buffer, RegExp]> = [
    ['an empty file', Buffer.alloc(0), /: not a \.npy file/],
    ['a text file', Buffer.from('x,y\n1,2\n'), /: not a \.npy file/],
    ['format version 4.0', rawNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"), twelve, 4), /unsupported \.npy format version 4\.0/],
    ['a truncated header', rawNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"), twelve).subarray(0, 40), /truncated \.npy header/],
    ['a header that is not a dict', rawNpy(header('[1, 2, 3]'), twelve), /bad \.npy header/],
    ['an unterminated dict', rawNpy(header("{'descr': '<f4', 'fortran_order': False"), twelve), /bad \.npy header/],
    ['text after the dict', rawNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } x"), twelve), /bad \.npy header/],
    ['no shape', rawNpy(header("{'descr': '<f4', 'fortran_order': False, }"), twelve), /expected the keys descr, fortran_order and shape but found descr, fortran_order/],
    ['an extra key', rawNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}"), twelve), /bad \.npy header/],
    ['a repeated key', rawNpy(header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"), twelve), /key 'descr' repeated/],
    ['dtype int32', rawNpy(header("{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }"), twelve), /unsupported dtype '<i4'/],
    ['dtype big-endian float32', rawNpy(header("{'descr': '>f4', 'fortran_order': False, 'shape': (3, 4), }"), twelve), /big-endian/],
    ['a structured dtype', rawNpy(header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }"), twelve), /bad \.npy header/],
    ['Fortran order', rawNpy(header("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }"), twelve), /Fortran-order arrays are not supported/],
    ['fortran_order not a bool', rawNpy(header("{'descr': '<f4', 'fortran_order': 'no', 'shape': (3, 4), }"), twelve), /expected True or False for fortran_order/],
    ['a negative dimension', rawNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, -4), }"), twelve), /bad \.npy header/],
    ['a shape that is not a tuple', rawNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': '3x4', }"), twelve), /tuple of integers for shape/],
    ['too little data', rawNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }"), twelve), /\(3, 5\) of <f4 needs 60 bytes of data but the file has 48/],
    ['too much data', rawNpy(header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }"), twelve), /needs 32 bytes of data but the file has 48/],
  ];
  it.each(FILES)('%s', (_, contents, message) => {
    writeFileSync(path('bad.npy'), contents);
    const line = failsWithOneLine(cli(['run', 'bad.npy', '-o', 'never.npy']));
    expect(line).toContain('bad.npy: ');
    expect(line).toMatch(message);
    expect(existsSync(path('never.npy'))).toBe(false);
  });

  it.each([
    ['a missing input', ['run', 'missing.npy', '-o', 'never.npy'], /cannot read missing\.npy: ENOENT: no such file or directory$/m],
    ['a directory as input', ['run', '.', '-o', 'never.npy'], /cannot read \.: EISDIR/],
    ['a missing gradient', ['run', GOOD, '-o', 'never.npy', '--backward', 'missing.npy'], /cannot read missing\.npy: ENOENT/],
    ['a 1-D input', ['run', 'one-d.npy', '-o', 'never.npy'], /lrn: expected at least 2 dimensions .* for options\.shape but received \[12\]/],
    ['a gradient of another shape', ['run', GOOD, '-o', 'never.npy', '--backward', 'one-d.npy'], /--backward: expected one-d\.npy to hold float32 \(2, 7, 5, 6\) .* but it holds float32 \(12\)/],
    ['a gradient of another dtype', ['run', 'one-d.npy', '-o', 'never.npy', '--backward', 'one-d-64.npy'], /--backward: .* holds float64 \(12\)/],
    ['no input', ['run', '-o', 'never.npy'], /run: expected one input file but received none/],
    ['two inputs', ['run', GOOD, GOOD, '-o', 'never.npy'], /run: expected one input file but received 2/],
    ['no output', ['run', GOOD], /run: expected -o <out\.npy>/],
    ['an unknown option', ['run', GOOD, '-o', 'never.npy', '--sise', '5'], /run: Unknown option '--sise' \(see local-response-norm help run\)$/m],
    ['a missing option value', ['run', GOOD, '-o', 'never.npy', '--size'], /Option '--size <value>' argument missing/],
    ['a negative value without =', ['run', GOOD, '-o', 'never.npy', '--alpha', '-1'], /'--alpha'.*'--alpha=-XYZ'/],
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate": expected one of run, bench, help/],
    ['no command', [], /expected a command: run, bench or help/],
    ['help for an unknown command', ['help', 'frobnicate'], /unknown command "frobnicate"/],
  ])('%s', (_, args, message) => {
    writeNpy('one-d.npy', new Float32Array(12), [12]);
    writeNpy('one-d-64.npy', new Float64Array(12), [12]);
    expect(failsWithOneLine(cli(args))).toMatch(message);
    expect(existsSync(path('never.npy'))).toBe(false);
  });

  it('a backend forced by LRN_BACKEND that cannot run', () => {
    const line = failsWithOneLine(cli(['run', GOOD, '-o', 'never.npy'], { LRN_BACKEND: 'no-such-kernel' }));
    expect(line).toMatch(/lrn: expected one of .* for LRN_BACKEND but received "no-such-kernel"/);
  });

  // The library's own TypeError or RangeError message, which names the option.
  it.each([
    [['--size', '0'], /lrn: expected a positive integer for options\.size but received 0 of type number/],
    [['--size', '2.5'], /options\.size but received 2\.5/],
    [['--size', 'five'], /options\.size but received "five" of type string/],
    [['--alpha=-1'], /finite number >= 0 for options\.alpha but received -1/],
    [['--alpha', '1e-4x'], /options\.alpha but received "1e-4x"/],
    [['--beta', '1e400'], /options\.beta but received Infinity/],
    [['--beta', 'inf'], /options\.beta but received "inf"/],
    [['--k', 'NaN'], /options\.k but received "NaN"/],
    [['--k', ''], /options\.k but received ""/],
    [['--preset', 'keras'], /one of 'alexnet', .* for options\.preset but received "keras"/],
    [['--layout', 'nchw'], /one of 'NCHW', 'NHWC' for options\.layout but received "nchw"/],
    [['--region', 'sideways'], /options\.region but received "sideways"/],
    [['--preset', 'pytorch', '--region', 'within-channel'], /preset 'pytorch' defines no within-channel LRN.* options\.region/],
    [['--preset', 'caffe', '--size', '4'], /odd integer \(preset 'caffe' .*options\.size but received 4/],
    [['--backward', GOOD, '--size', '0'], /^local-response-norm: lrnBackward: .*options\.size/],
  ])('%j', (args, message) => {
    expect(failsWithOneLine(cli(['run', GOOD, '-o', 'never.npy', ...args]))).toMatch(message);
    expect(existsSync(path('never.npy'))).toBe(false);
  });
});

describe('never a partial output file', () => {
  const GOOD = join(GOLDEN, golden('alexnet_s5_nchw').files.input);

  it('a failed run leaves an existing output as it was, and no temporary file', () => {
    writeFileSync(path('kept.npy'), 'previous contents');
    writeFileSync(path('bad.npy'), 'not an npy file');
    failsWithOneLine(cli(['run', GOOD, '-o', 'kept.npy', '--size', '0']));
    failsWithOneLine(cli(['run', 'bad.npy', '-o', 'kept.npy']));
    failsWithOneLine(cli(['run', GOOD, '-o', 'kept.npy', '--backward', 'missing.npy']));
    expect(readFileSync(path('kept.npy'), 'utf8')).toBe('previous contents');
    expect(temporaryFiles()).toEqual([]);
  });

  it('an output that cannot be written: exit 2, the temporary file removed', () => {
    mkdirSync(path('a-directory'));
    expect(failsWithOneLine(cli(['run', GOOD, '-o', 'a-directory']))).toMatch(/cannot write a-directory: EISDIR/);
    expect(readdirSync(path('a-directory'))).toEqual([]);
    expect(failsWithOneLine(cli(['run', GOOD, '-o', 'no-such-folder/y.npy']))).toMatch(/cannot write no-such-folder\/y\.npy: ENOENT/);
    expect(temporaryFiles()).toEqual([]);
  });
});

describe('help and version', () => {
  const everyOption = (command: typeof run) => command.options.flatMap((o) => [`--${o.name}`, o.example]);

  it('--help shows every command, every option with its example, and the examples', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    for (const text of [...everyOption(run), ...everyOption(bench), '--version', 'help <command>', 'Exit codes']) {
      expect(r.stdout).toContain(text);
    }
    for (const example of [...run.examples, ...bench.examples]) expect(r.stdout).toContain(`local-response-norm ${example}\n`);
    expect(cli(['help']).stdout).toBe(r.stdout);
  });

  it.each([['help', 'run'], ['run', '--help'], ['run', '-h']])('%s %s shows every option of run', (...args) => {
    const r = cli(args);
    expect(r.status).toBe(0);
    for (const text of [...everyOption(run), '-o, --output <out.npy>', ...run.examples]) expect(r.stdout).toContain(text);
    expect(r.stdout).not.toContain('--shapes');
  });

  it.each([['help', 'bench'], ['bench', '--help']])('%s %s shows every option of bench', (...args) => {
    const r = cli(args);
    expect(r.status).toBe(0);
    for (const text of [...everyOption(bench), ...bench.examples]) expect(r.stdout).toContain(text);
    expect(r.stdout).not.toContain('--backward');
  });

  it('--version prints the package version', () => {
    expect(cli(['--version'])).toEqual({ status: 0, stdout: `${VERSION}\n`, stderr: '' });
  });
});

describe('bench', () => {
  /** The rows of the table under the heading of `shape`, as cells. */
  function tableOf(stdout: string, heading: string): string[][] {
    const lines = stdout.split('\n');
    const start = lines.indexOf(heading);
    expect(start).toBeGreaterThan(0);
    const rows: string[][] = [];
    for (const line of lines.slice(start + 2)) {
      if (!line.startsWith('|')) break;
      rows.push(line.slice(1, -1).split('|').map((cell) => cell.trim()));
    }
    return rows;
  }

  it('a tiny quick run prints a table per shape: memcpy, every native kernel, typescript', () => {
    const r = cli(['bench', '--quick', '--rounds', '1', '--shapes', '1x8x4x4,2x3x5']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^local-response-norm \S+ bench: Node\.js v/);
    const names = ['memcpy', ...backend().available, 'typescript'];
    for (const [heading, elements] of [['1x8x4x4 (128 elements)', 128], ['2x3x5 (30 elements)', 30]] as const) {
      const [header, rule, ...rows] = tableOf(r.stdout, heading);
      expect(header).toEqual([...BENCH_COLUMNS]);
      expect(rule!.every((cell) => /^-+:?$/.test(cell))).toBe(true);
      expect(rows.map((row) => row[0])).toEqual(names);
      for (const [, ms, perSecond, vsMemcpy, vsFallback] of rows) {
        for (const figure of [ms, vsMemcpy, vsFallback]) expect(Number(figure)).toBeGreaterThan(0);
        const [value, unit] = perSecond!.split(' ');
        expect(['k', 'M', 'G']).toContain(unit);
        // elements/s is the elements over the median, as printed to 3 figures.
        const rate = Number(value) * { k: 1e3, M: 1e6, G: 1e9 }[unit as 'k' | 'M' | 'G'];
        expect(Math.abs(rate * Number(ms) / 1e3 / elements - 1)).toBeLessThan(0.02);
      }
      expect(rows[0]![3]).toBe('1.00');
      expect(rows[rows.length - 1]![4]).toBe('1.00');
    }
  });

  it.each([
    [['--rounds', '0'], /bench: expected a positive integer for --rounds but received "0"/],
    [['--rounds', 'many'], /--rounds but received "many"/],
    [['--shapes', '96x55x55,1x0'], /for --shapes but received "96x55x55,1x0"/],
    [['--shapes', '290400'], /for --shapes but received "290400"/],
    [['--quick=yes'], /--quick/],
  ])('%j: exit 2, one line', (args, message) => {
    expect(failsWithOneLine(cli(['bench', ...args]))).toMatch(message);
  });
});

describe('progress line', () => {
  function stream(isTTY: boolean) {
    const written: string[] = [];
    return { written, isTTY, write: (text: string) => written.push(text) };
  }

  it('on a terminal: nothing in the first second, then the status and the time, cleared at the end', () => {
    let now = 0;
    const s = stream(true);
    const p = new Progress(s, 'local-response-norm', () => now, 0);
    p.set('lrn: 1/4 batch items (25%)');
    now = 900;
    p.tick();
    expect(s.written).toEqual([]);
    now = 1500;
    p.tick();
    p.done();
    expect(s.written).toEqual(['\r\x1b[Klocal-response-norm: lrn: 1/4 batch items (25%), 1.5 s', '\r\x1b[K']);
  });

  it('not on a terminal: nothing at all', () => {
    let now = 0;
    const s = stream(false);
    const p = new Progress(s, 'local-response-norm', () => now, 0);
    now = 5000;
    p.tick();
    p.done();
    expect(s.written).toEqual([]);
  });
});
