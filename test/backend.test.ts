// Backend selection: what backend() reports, setBackend, and the LRN_BACKEND / LRN_KERNEL
// environment variables (run in child processes, since they are read at load time).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backend, lrn, setBackend } from '../lib/index.js';
import { loadNative } from '../lib/native.js';

const root = join(__dirname, '..');
const available = () => backend().available;

/** Runs `code` with the built CommonJS package (at `from`) as `m` and the given environment;
 *  returns its JSON output. */
function inChild(env: Record<string, string>, code: string, from = root): unknown {
  const script = `const m = require(${JSON.stringify(from)}); ${code}`;
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, LRN_BACKEND: '', LRN_KERNEL: '', ...env }, encoding: 'utf8',
  });
  return JSON.parse(out);
}

const tryCall = `
  const attempt = (f) => { try { return { value: f() }; } catch (e) { return { error: e.constructor.name, message: e.message }; } };
  console.log(JSON.stringify({
    info: attempt(() => m.backend()),
    call: attempt(() => Array.from(m.lrn(new Float32Array([1, 2, 3]), { shape: [1, 3] }))),
  }));`;

describe('backend()', () => {
  afterEach(() => setBackend('auto'));

  it('describes the backend in use, with a one-line reason when it is not native', () => {
    const info = backend();
    expect(['native', 'fallback']).toContain(info.backend);
    expect(Array.isArray(info.available)).toBe(true);
    if (info.backend === 'fallback') {
      expect(info.kernel).toBe('typescript');
      expect(info.reason).toMatch(/^[^\n]+$/);
    } else {
      expect(info.available).toContain(info.kernel);
    }
  });

  it.runIf(backend().backend === 'native')('says how lrnAsync holds memory on native, and why it copies where it does', () => {
    const info = backend();
    expect(['pin', 'copy']).toContain(info.asyncMemory);
    if (info.asyncMemory === 'copy') expect(info.asyncMemoryReason).toMatch(/^[^\n]+$/);
    else expect(info.asyncMemoryReason).toBeUndefined();
  });

  // Every Node major scripts/node-versions.json names has its pin shim, in prebuilds/ and (for the
  // running Node) from a source build: lrnAsync holds ordinary ArrayBuffers without copies there.
  const major = process.versions.node.split('.')[0]!;
  const supported = Object.keys(JSON.parse(readFileSync(join(__dirname, '..', 'scripts', 'node-versions.json'), 'utf8')) as object);
  it.runIf(backend().backend === 'native' && supported.includes(major) && process.env.LRN_ASYNC_COPY !== '1')(
    `pins on Node ${major}, a supported major`,
    () => {
      expect(backend().asyncMemory).toBe('pin');
    },
  );

  it('returns a copy that callers cannot use to change the state', () => {
    const info = backend();
    info.available.push('bogus');
    expect(backend().available).not.toContain('bogus');
  });

  it("setBackend('fallback') and 'typescript' force the TypeScript backend", () => {
    setBackend('fallback');
    expect(backend()).toMatchObject({ backend: 'fallback', kernel: 'typescript', reason: 'forced by setBackend' });
    setBackend('typescript');
    expect(backend().kernel).toBe('typescript');
  });

  it('rejects unknown or unavailable kernels with a RangeError listing what is available', () => {
    const missing = ['avx512', 'avx2', 'neon', 'scalar'].find((k) => !backend().available.includes(k)) ?? 'sse9';
    const accepted = ['auto', ...(available().length > 0 ? ['native'] : []), 'fallback', 'typescript', ...available()];
    expect(() => setBackend('sse9')).toThrow(RangeError);
    expect(() => setBackend(missing)).toThrow(new RangeError(
      `setBackend: expected one of ${accepted.map((n) => `'${n}'`).join(', ')} for the backend name but received "${missing}" of type string`,
    ));
    expect(() => setBackend(3 as never)).toThrow(/^setBackend: expected one of 'auto', .* for the backend name but received 3 of type number$/);
    expect(() => setBackend(3 as never)).toThrow(TypeError);
    expect(lrn(new Float32Array(3), { shape: [1, 3] })).toHaveLength(3); // state unchanged by the failures
  });
});

describe('native kernels', () => {
  afterEach(() => setBackend('auto'));
  const available = backend().available;

  it.skipIf(available.length === 0)("'auto' picks the first (best) available kernel", () => {
    setBackend('auto');
    expect(backend()).toMatchObject({ backend: 'native', kernel: available[0] });
    expect(backend().reason).toBeUndefined();
  });

  it.skipIf(available.length === 0)("setBackend('native') picks the best kernel", () => {
    setBackend('native');
    expect(backend()).toMatchObject({ backend: 'native', kernel: available[0], available });
  });

  it.each(available)('setBackend(%s) runs that kernel', (kernel) => {
    setBackend(kernel);
    expect(backend()).toMatchObject({ backend: 'native', kernel });
  });

  it.each(available)('LRN_KERNEL=%s forces that kernel', (kernel) => {
    const r = inChild({ LRN_KERNEL: kernel }, tryCall) as { info: { value: Record<string, unknown> } };
    expect(r.info.value).toMatchObject({ backend: 'native', kernel });
  });

  // CI sets LRN_REQUIRE_NATIVE=1 after building the addon, so a build that does not load fails
  // here instead of passing quietly on the TypeScript backend.
  it.runIf(process.env.LRN_REQUIRE_NATIVE === '1')('the addon built for this machine loads', () => {
    setBackend('auto');
    expect(backend().reason).toBeUndefined();
    expect(backend().backend).toBe('native');
  });

  it.runIf(backend().backend === 'native')('asyncMemory follows LRN_ASYNC_COPY, which each job reads', () => {
    const before = backend().asyncMemory;
    process.env.LRN_ASYNC_COPY = '1';
    try {
      expect(backend()).toMatchObject({ asyncMemory: 'copy', asyncMemoryReason: before === 'pin' ? 'LRN_ASYNC_COPY=1 forces copies' : expect.any(String) });
    } finally {
      delete process.env.LRN_ASYNC_COPY;
    }
    expect(backend().asyncMemory).toBe(before);
  });

  it.runIf(backend().backend === 'native')('a Node major without a pin shim copies, and says why and what needs no copy', () => {
    // The addon alone in a package folder of its own: no pin shim beside it or in build/pin (a
    // copy of the file is a separate addon instance, with no shim loaded).
    const folder = mkdtempSync(join(tmpdir(), 'lrn-no-shim-'));
    try {
      const binary = (require('node-gyp-build') as { path(dir: string): string }).path(root);
      cpSync(binary, join(folder, 'build', 'Release', 'local_response_norm.node'));
      cpSync(join(root, 'package.json'), join(folder, 'package.json'));
      const { addon } = loadNative(folder);
      expect(addon?.asyncMemory).toBe('copy');
      expect(addon?.asyncMemoryReason).toMatch(
        new RegExp(`^this package has no pin shim for Node \\d+ \\(ABI ${process.versions.modules}\\): .*SharedArrayBuffer need no copy$`),
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('a missing addon leaves a one-line reason that says how to build it', () => {
    const { addon, reason } = loadNative(join(root, 'test', 'fixtures'));
    expect(addon).toBeNull();
    expect(reason).toMatch(/^native addon not loaded \(.+\); run `npm rebuild local-response-norm` with python3, make and a C\+\+17 compiler to build it$/);
  });
});

describe('environment variables', () => {
  type Outcome = { value?: Record<string, unknown>; error?: string; message?: string };
  /** backend() and each computing call under the given environment. */
  const outcomes = (env: Record<string, string>, from = root) => inChild(env, `
    const attempt = async (f) => { try { return { value: await f() }; } catch (e) { return { error: e.constructor.name, message: e.message }; } };
    const x = new Float32Array([1, 2, 3]);
    (async () => console.log(JSON.stringify({
      info: await attempt(() => m.backend()),
      lrn: await attempt(() => Array.from(m.lrn(x, { shape: [1, 3] }))),
      lrnBackward: await attempt(() => Array.from(m.lrnBackward(x, x, { shape: [1, 3] }))),
      lrnAsync: await attempt(async () => Array.from(await m.lrnAsync(x, { shape: [1, 3] }))),
    })))();`, from) as Record<'info' | 'lrn' | 'lrnBackward' | 'lrnAsync', Outcome>;
  const kernels = available();
  const accepted = ['auto', ...(kernels.length > 0 ? ['native'] : []), 'fallback', 'typescript', ...kernels].map((n) => `'${n}'`).join(', ');

  /** backend() answers with `error` and a reason; every computing call throws that error. */
  function expectUnusable(r: ReturnType<typeof outcomes>, message: string, runs = kernels) {
    expect(r.info.error).toBeUndefined();
    expect(r.info.value).toMatchObject({ error: message, available: runs });
    expect(r.info.value!.reason).toBe(`${message}; lrn, lrnAsync and lrnBackward throw until setBackend() chooses a backend`);
    for (const fn of ['lrn', 'lrnBackward', 'lrnAsync'] as const) {
      expect(r[fn]).toEqual({ error: 'Error', message: `${fn}: ${message}` });
    }
  }

  it('LRN_BACKEND=fallback forces the TypeScript backend', () => {
    const r = inChild({ LRN_BACKEND: 'fallback' }, tryCall) as { info: { value: Record<string, unknown> } };
    expect(r.info.value).toMatchObject({ backend: 'fallback', kernel: 'typescript', reason: 'forced by LRN_BACKEND=fallback' });
  });

  it('an unknown LRN_KERNEL: backend() says so, calls throw an Error naming it and the accepted names, never a substitute', () => {
    expectUnusable(outcomes({ LRN_KERNEL: 'avx9000' }), `expected one of ${accepted} for LRN_KERNEL but received "avx9000" of type string`);
  });

  it('an unknown LRN_BACKEND: backend() says so, calls throw an Error naming the accepted names', () => {
    const r = outcomes({ LRN_BACKEND: 'weird' });
    expectUnusable(r, `expected one of ${accepted} for LRN_BACKEND but received "weird" of type string`);
    // backend and kernel say what 'auto' would use
    expect(r.info.value).toMatchObject(kernels.length > 0 ? { backend: 'native', kernel: kernels[0] } : { backend: 'fallback' });
  });

  it.each([
    ['fallback', 'bogus'],
    ['typescript', 'scalar'],
    ...(kernels.length > 0 ? [['native', 'typescript'], [kernels[0]!, 'fallback']] : []),
    ...(kernels.length > 1 ? [[kernels[0]!, kernels[1]!]] : []),
  ])('LRN_BACKEND=%s and LRN_KERNEL=%s disagree: backend() says so, calls throw naming both', (b, k) => {
    expectUnusable(outcomes({ LRN_BACKEND: b, LRN_KERNEL: k }),
      `LRN_BACKEND=${b} and LRN_KERNEL=${k} disagree: expected them to name the same backend, or only one of them to be set ` +
      `(each takes one of ${accepted})`);
  });

  it.each([['fallback', 'typescript'], ['typescript', 'fallback'], ['fallback', 'auto'], ['auto', 'fallback']])(
    'LRN_BACKEND=%s and LRN_KERNEL=%s agree on the TypeScript backend', (b, k) => {
      const r = outcomes({ LRN_BACKEND: b, LRN_KERNEL: k });
      expect(r.info.value).toMatchObject({ backend: 'fallback', kernel: 'typescript' });
      expect(r.info.value!.error).toBeUndefined();
      expect(r.lrn.value).toHaveLength(3);
    });

  it.each(kernels.flatMap((kernel) => [[kernel, kernel], ['native', kernel], [kernel, 'native'], [kernel, 'auto']]))(
    'LRN_BACKEND=%s and LRN_KERNEL=%s agree on a native kernel', (b, k) => {
      const kernel = b === 'native' ? k : b;
      const r = outcomes({ LRN_BACKEND: b, LRN_KERNEL: k });
      expect(r.info.value).toMatchObject({ backend: 'native', kernel, available: kernels });
      expect(r.lrnAsync.value).toEqual(r.lrn.value);
    });

  it.skipIf(kernels.length === 0)("LRN_BACKEND=native forces the best native kernel", () => {
    expect(outcomes({ LRN_BACKEND: 'native' }).info.value).toMatchObject({ backend: 'native', kernel: kernels[0], available: kernels });
  });

  it('a native kernel this machine lacks is named with what it has', () => {
    const missing = ['avx512', 'avx2', 'neon', 'scalar'].find((k) => !kernels.includes(k))!;
    expectUnusable(outcomes({ LRN_BACKEND: missing }), `expected one of ${accepted} for LRN_BACKEND but received "${missing}" of type string`);
  });

  describe('where the addon does not load (a copy of the package without it)', () => {
    let copy = '';
    beforeAll(() => {
      copy = mkdtempSync(join(tmpdir(), 'lrn-no-addon-'));
      cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
      cpSync(join(root, 'package.json'), join(copy, 'package.json'));
    });
    afterAll(() => rmSync(copy, { recursive: true, force: true }));
    const why = /native addon not loaded \(.+\); run `npm rebuild local-response-norm` with python3, make and a C\+\+17 compiler to build it/;

    it("'auto' computes on TypeScript and says why", () => {
      const r = outcomes({}, copy);
      expect(r.info.value).toMatchObject({ backend: 'fallback', kernel: 'typescript', available: [] });
      expect(r.info.value!.reason).toMatch(why);
      expect(r.lrnAsync.value).toEqual(r.lrn.value);
    });

    it('LRN_BACKEND=native says the addon is not loaded, and why', () => {
      const r = outcomes({ LRN_BACKEND: 'native' }, copy);
      const message = r.info.value!.error as string;
      expect(message).toMatch(/^expected the native addon for LRN_BACKEND=native but native addon not loaded /);
      expect(message).toMatch(why);
      expectUnusable(r, message, []);
    });

    it('a kernel name lists the accepted names, no kernel, and why', () => {
      const r = outcomes({ LRN_KERNEL: 'avx2' }, copy);
      const message = r.info.value!.error as string;
      expect(message).toMatch(/^expected one of 'auto', 'fallback', 'typescript' \(no native kernel: native addon not loaded /);
      expect(message).toMatch(/ for LRN_KERNEL but received "avx2" of type string$/);
      expectUnusable(r, message, []);
    });
  });

  it('setBackend recovers from a bad environment choice', () => {
    const r = inChild({ LRN_KERNEL: 'avx9000' }, `m.setBackend('fallback'); console.log(JSON.stringify(m.backend()))`);
    expect(r).toMatchObject({ backend: 'fallback' });
    expect(r).not.toHaveProperty('error');
  });
});
