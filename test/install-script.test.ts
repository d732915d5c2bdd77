// scripts/install.js, npm's install step, in a scratch copy of the package: it never fails the
// install, says what happened in one paragraph, and backend().reason repeats that paragraph.
// (.ci/install-tests installs the packed tarball for real, with and without a compiler.)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative } from '../lib/native.js';

const root = join(__dirname, '..');
const scratch: string[] = [];

/** A package folder with install.js and, optionally, a binary that node-gyp-build finds. */
function packageCopy(binary?: string | Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'lrn-install-'));
  scratch.push(dir);
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
  copyFileSync(join(root, 'scripts', 'install.js'), join(dir, 'scripts', 'install.js'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  if (binary !== undefined) {
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    writeFileSync(join(dir, 'build', 'Release', 'local_response_norm.node'), binary);
  }
  return dir;
}

/** Runs the install step as npm would; node-gyp is replaced by a script that fails at once. */
function install(dir: string, env: Record<string, string> = {}) {
  const failingNodeGyp = join(dir, 'no-node-gyp.js');
  writeFileSync(failingNodeGyp, "console.error('gyp ERR! stack Error: not found: make'); process.exit(1);\n");
  const result = spawnSync(process.execPath, [join(dir, 'scripts', 'install.js')], {
    cwd: dir, encoding: 'utf8',
    env: { ...process.env, npm_config_node_gyp: failingNodeGyp, LRN_SKIP_BUILD: '', npm_config_build_from_source: '', ...env },
  });
  const record = join(dir, 'build', 'install.json');
  return {
    status: result.status,
    stderr: result.stderr,
    recorded: existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8')) as { reason: string }).reason : undefined,
    built: existsSync(join(dir, 'build', 'install.log')),
  };
}

/** The addon file this process loaded, if any. */
function loadedBinary(): Buffer | undefined {
  if (loadNative().addon === null) return undefined;
  return readFileSync((require('node-gyp-build') as { path(dir: string): string }).path(root));
}

afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('scripts/install.js', () => {
  it('with no binary and a failing build: exits 0, one paragraph, and backend().reason says the same', () => {
    const dir = packageCopy();
    const r = install(dir);
    expect(r.status).toBe(0);
    expect(r.built).toBe(true);
    expect(r.recorded).toMatch(/^local-response-norm: no prebuilt binary for \S+( \(\w+\))?, and could not build it \(not found: make; log: .*install\.log\)\. Every call runs on the TypeScript implementation .* then run `npm rebuild local-response-norm`\.$/);
    expect(r.stderr).toContain(r.recorded);
    const loaded = loadNative(dir);
    expect(loaded.addon).toBeNull();
    expect(loaded.reason).toBe(r.recorded);
  });

  it('LRN_SKIP_BUILD=1 skips the build and says so', () => {
    const r = install(packageCopy(), { LRN_SKIP_BUILD: '1' });
    expect(r.status).toBe(0);
    expect(r.built).toBe(false);
    expect(r.recorded).toMatch(/LRN_SKIP_BUILD=1 skips building it\. .*then unset LRN_SKIP_BUILD and run `npm rebuild local-response-norm`\.$/);
  });

  it('a binary that does not load is named, then a build is tried', () => {
    const r = install(packageCopy('not an ELF file'));
    expect(r.status).toBe(0);
    expect(r.built).toBe(true);
    expect(r.recorded).toMatch(/^local-response-norm: build\/Release\/local_response_norm\.node did not load \(.+\), and could not build it \(not found: make/);
  });

  it.runIf(loadNative().addon !== null)('a binary that loads is used as it is: no build, no message', () => {
    const r = install(packageCopy(loadedBinary()));
    expect(r).toMatchObject({ status: 0, built: false, recorded: undefined });
    expect(r.stderr).toBe('');
  });

  it('--build-from-source builds even with no binary, and says so when it fails', () => {
    const r = install(packageCopy(), { npm_config_build_from_source: 'true' });
    expect(r.status).toBe(0);
    expect(r.built).toBe(true);
    expect(r.recorded).toMatch(/^local-response-norm: building from source as asked, and could not build it/);
  });

  it.runIf(loadNative().addon !== null)('--build-from-source with a binary that loads: a failed build keeps it, no fallback', () => {
    const r = install(packageCopy(loadedBinary()), { npm_config_build_from_source: 'true' });
    expect(r).toMatchObject({ status: 0, built: true, recorded: undefined });
    expect(r.stderr).toMatch(/could not build \(not found: make; log: .*\); using build\/Release\/local_response_norm\.node/);
  });

  it('other packages\' --build-from-source and odd values of LRN_SKIP_BUILD change nothing', () => {
    const r = install(packageCopy(), { npm_config_build_from_source: 'sharp', LRN_SKIP_BUILD: 'no' });
    expect(r.recorded).toMatch(/^local-response-norm: no prebuilt binary for .*, and could not build it/);
  });
});

describe('loadNative and the install record', () => {
  const record = (dir: string, value: object) => {
    mkdirSync(join(dir, 'build'), { recursive: true });
    writeFileSync(join(dir, 'build', 'install.json'), JSON.stringify(value));
  };

  it.runIf(loadNative().addon !== null)('does not load a binary that crashed the install step', () => {
    const dir = packageCopy(loadedBinary());
    const binary = join(dir, 'build', 'Release', 'local_response_norm.node');
    record(dir, { reason: 'it crashed', binary, crashed: true });
    expect(loadNative(dir)).toEqual({ addon: null, reason: 'it crashed' });
  });

  it.runIf(loadNative().addon !== null)('ignores a record once a binary loads (npm rebuild after a failed install)', () => {
    const dir = packageCopy(loadedBinary());
    record(dir, { reason: 'no compiler', binary: null, crashed: false });
    expect(loadNative(dir).addon).not.toBeNull();
  });

  it('ignores a record about another binary than the one found now', () => {
    const dir = packageCopy('not an ELF file');
    record(dir, { reason: 'no compiler', binary: null, crashed: false });
    expect(loadNative(dir).reason).toMatch(/^native addon not loaded \(.+\); run `npm rebuild local-response-norm`/);
  });
});
