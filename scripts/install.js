#!/usr/bin/env node
// npm's install step. Uses a prebuilt binary (prebuilds/) or an existing build when one loads;
// otherwise builds the addon with node-gyp. When there is nothing to load and no build (no
// compiler, LRN_SKIP_BUILD=1), it says so in one paragraph and succeeds anyway: every call then
// runs on the TypeScript implementation, and backend().reason repeats the paragraph, which
// build/install.json keeps for it. It never fails the install.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const name = 'local-response-norm';
const record = path.join(root, 'build', 'install.json');
const log = path.join(root, 'build', 'install.log');
const TOOLCHAIN = 'python3, make and a C++17 compiler';

function flag(value) {
  return value !== undefined && !['', '0', 'false'].includes(value.toLowerCase());
}

// npm install --build-from-source (all packages) or --build-from-source=local-response-norm.
function buildFromSource() {
  const value = process.env.npm_config_build_from_source;
  return value !== undefined && (value.split(',').includes(name) || flag(value));
}

function platform() {
  const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
  const libc = process.platform !== 'linux' ? '' : glibc ? ' (glibc)' : ' (musl)';
  return `${process.platform}-${os.arch()}${libc}`;
}

// Child processes run the `node` that npm ran this script with (the PATH's, as npm's command
// line for it says), or this process's executable where the PATH has none.
function runNode(args, options) {
  const result = spawnSync('node', args, options);
  return result.error?.code === 'ENOENT' ? spawnSync(process.execPath, args, options) : result;
}

/** '' when node-gyp-build finds a binary that loads, else why not (one line). The binary is
 *  loaded in a child process: one that crashes must not take the install with it. */
function loadProblem() {
  const probe = `require(${JSON.stringify(require.resolve('node-gyp-build'))})(${JSON.stringify(root)})`;
  const result = runNode(['-e', probe], { encoding: 'utf8' });
  if (result.status === 0) return '';
  const firstLine = `${result.stderr}`.split('\n').find((line) => /Error/.test(line)) ?? `exit ${result.status}`;
  return /No native build was found/.test(firstLine)
    ? `no prebuilt binary for ${platform()}`
    : `the binary for ${platform()} did not load (${firstLine.replace(/^\w*Error: /, '').trim()})`;
}

function nodeGypScript() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

// The line of node-gyp's output that says what went wrong, for a one-line summary.
function cause(output) {
  const lines = output.split('\n').map((line) => line.replace(/^gyp ERR! (stack )?(Error: )?/, '').trim());
  const found = lines.find((line) => /Could not find any Python|not found|No such file|command not found/i.test(line)) ??
    lines.find((line) => /error/i.test(line));
  return (found ?? 'node-gyp failed').slice(0, 200);
}

/** '' when node-gyp built the addon, else why not. Its output goes to build/install.log. */
function build(problem) {
  console.error(`${name}: ${problem}; building the native addon with node-gyp (about a minute)`);
  const script = nodeGypScript();
  const options = { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 };
  const result = script === undefined ? spawnSync('node-gyp', ['rebuild'], options) : runNode([script, 'rebuild'], options);
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `${result.error.message}\n` : ''}`;
  save(log, output);
  if (result.status === 0 && loadProblem() === '') return '';
  return `could not build it (${result.status === 0 ? 'the build did not load' : cause(output)}; log: ${log})`;
}

function save(file, text) {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  } catch {
    // A read-only install still works; only the record for backend().reason is lost.
  }
}

/** The paragraph for the install log, and backend().reason at run time. */
function fallbackReason(what, retry) {
  return `${name}: ${what}. Every call runs on the TypeScript implementation (same results, ` +
    `slower). To get the native addon, install ${TOOLCHAIN}, then run \`${retry}\`.`;
}

function main() {
  fs.rmSync(record, { force: true });
  const problem = buildFromSource() ? 'building from source as asked' : loadProblem();
  if (problem === '') return;
  let reason;
  if (flag(process.env.LRN_SKIP_BUILD)) {
    reason = fallbackReason(`${problem}, and LRN_SKIP_BUILD=${process.env.LRN_SKIP_BUILD} skips building it`,
      `LRN_SKIP_BUILD= npm rebuild ${name}`);
  } else {
    const failure = build(problem);
    if (failure === '') return;
    reason = fallbackReason(`${problem}, and ${failure}`, `npm rebuild ${name}`);
  }
  console.error(reason);
  save(record, `${JSON.stringify({ reason })}\n`);
}

try {
  main();
} catch (error) {
  console.error(fallbackReason(`the install step failed (${error && error.message})`, `npm rebuild ${name}`));
}
