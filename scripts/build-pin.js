#!/usr/bin/env node
// Builds the pin shim (native/pin/pin.cc) for one Node ABI from that Node's headers: a plain
// shared library, pin-abi<NODE_MODULE_VERSION>.so, which lrnAsync loads to hold ArrayBuffers
// without copies (docs/async-memory.md). scripts/prebuild.js builds one per supported Node major
// into prebuilds/; the install step's source build, and `npm run build:pin`, one for the running
// Node into build/pin/.
//
//   node scripts/build-pin.js [--headers <include/node folder>] [--out <folder>]
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');

/** NODE_MAJOR_VERSION and NODE_MODULE_VERSION of the headers in `headers` (an include/node folder). */
function versionOf(headers) {
  const text = fs.readFileSync(path.join(headers, 'node_version.h'), 'utf8');
  const read = (name) => Number(new RegExp(`#define ${name} (\\d+)`).exec(text)?.[1]);
  return { major: read('NODE_MAJOR_VERSION'), abi: read('NODE_MODULE_VERSION') };
}

/** The running Node's headers: npm_config_nodedir, the Node install's own, or node-gyp's cache,
 *  the first whose ABI is the running Node's (a stale folder of another version is passed over). */
function runningHeaders() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    path.join(os.homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ];
  return candidates.find((dir) => dir && fs.existsSync(path.join(dir, 'v8.h')) &&
    String(versionOf(dir).abi) === process.versions.modules);
}

/**
 * Compiles the shim against `headers` into `out`/pin-abi<abi>.so and returns its path. `cxx` is
 * the compiler (a cross compiler for another architecture). From Node 24 on, V8's headers need
 * C++20.
 */
function buildPin({ headers, out, cxx = process.env.CXX || 'c++', strip = null }) {
  const { major, abi } = versionOf(headers);
  if (!Number.isInteger(major) || !Number.isInteger(abi)) throw new Error(`no Node version in ${headers}/node_version.h`);
  const file = path.join(out, `pin-abi${abi}.so`);
  fs.mkdirSync(out, { recursive: true });
  const flags = [`-std=${major >= 24 ? 'c++20' : 'c++17'}`, '-O2', '-fPIC', '-shared', '-fvisibility=hidden', '-I', headers];
  if (process.platform === 'darwin') flags.push('-undefined', 'dynamic_lookup');
  // Linux shims load on glibc 2.28 like the addon (docs/prebuilds.md).
  if (process.platform === 'linux') flags.push('-include', path.join(root, 'native', 'compat', 'old_glibc.h'), '-I', path.join(root, 'native', 'compat'));
  execFileSync(cxx, [...flags, path.join(root, 'native', 'pin', 'pin.cc'), '-o', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (strip !== null) execFileSync(strip, ['--strip-unneeded', file]);
  return file;
}

module.exports = { buildPin, runningHeaders, versionOf };

if (require.main === module) {
  const option = (name) => {
    const at = process.argv.indexOf(name);
    return at === -1 ? undefined : process.argv[at + 1];
  };
  const headers = option('--headers') ?? runningHeaders();
  if (headers === undefined) {
    console.error(`build-pin: no headers of this Node's ABI (${process.versions.modules}) in Node's own include/node, ` +
      "npm_config_nodedir or node-gyp's cache; pass --headers");
    process.exit(1);
  }
  try {
    console.log(buildPin({ headers, out: option('--out') ?? path.join(root, 'build', 'pin') }));
  } catch (error) {
    console.error(`build-pin: ${error.message.split('\n')[0]}`);
    process.exit(1);
  }
}
