// Backend selection: what backend() reports, setBackend, and the LRN_BACKEND / LRN_KERNEL
// environment variables (run in child processes, since they are read at load time).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backend, lrn, setBackend } from '../lib/index.js';
import { loadNative } from '../lib/native.js';

const root = join(__dirname, '..');

/** Runs `code` with the built CommonJS package as `m` and the given environment; returns its JSON output. */
function inChild(env: Record<string, string>, code: string): unknown {
  const script = `const m = require(${JSON.stringify(root)}); ${code}`;
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
    expect(() => setBackend('sse9')).toThrow(RangeError);
    expect(() => setBackend(missing)).toThrow(new RegExp(`available native kernel .* but received '${missing}'`));
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

  it('a missing addon leaves a one-line reason that says how to build it', () => {
    const { addon, reason } = loadNative(join(root, 'test', 'fixtures'));
    expect(addon).toBeNull();
    expect(reason).toMatch(/^native addon not loaded \(.+\); run `npm rebuild local-response-norm` with python3, make and a C\+\+17 compiler to build it$/);
  });
});

describe('environment variables', () => {
  it('LRN_BACKEND=fallback forces the TypeScript backend', () => {
    const r = inChild({ LRN_BACKEND: 'fallback' }, tryCall) as { info: { value: Record<string, unknown> } };
    expect(r.info.value).toMatchObject({ backend: 'fallback', kernel: 'typescript', reason: 'forced by LRN_BACKEND=fallback' });
  });

  it('an unknown LRN_KERNEL makes calls throw an Error naming it, never a substitute', () => {
    const r = inChild({ LRN_KERNEL: 'avx9000' }, tryCall) as Record<string, { error: string; message: string }>;
    for (const outcome of [r.info!, r.call!]) {
      expect(outcome.error).toBe('Error');
      expect(outcome.message).toMatch(/LRN_KERNEL=avx9000 is not available on this machine\. Native kernels available: /);
      expect(outcome.message).toMatch(/'fallback' \(TypeScript\) always is/);
    }
  });

  it('an unknown LRN_BACKEND makes calls throw', () => {
    const r = inChild({ LRN_BACKEND: 'gpu' }, tryCall) as Record<string, { error: string; message: string }>;
    expect(r.call!.message).toMatch(/LRN_BACKEND=gpu is not available/);
  });

  it('setBackend recovers from a bad environment choice', () => {
    const r = inChild({ LRN_KERNEL: 'avx9000' }, `m.setBackend('fallback'); console.log(JSON.stringify(m.backend()))`);
    expect(r).toMatchObject({ backend: 'fallback' });
  });
});
