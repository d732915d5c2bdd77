#!/usr/bin/env node
// npm's install step (docs/prebuilds.md, "The install step"). Uses the binary node-gyp-build
// finds (a local build, else prebuilds/) when it loads; otherwise builds the addon with node-gyp.
// When nothing loads in the end (no compiler, LRN_SKIP_BUILD=1), it says so in one paragraph and
// succeeds anyway: calls run on the TypeScript implementation, and build/install.json keeps the
// paragraph for backend().reason. It never fails the install.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const name = 'local-response-norm';
const build = path.join(root, 'build');
const record = path.join(build, 'install.json');
const BUILD_TIMEOUT_MS = 20 * 60 * 1000;

const yes = (value) => value === '1' || value === 'true';

// npm install --build-from-source (every package) or --build-from-source=local-response-norm.
function buildFromSource() {
  const value = process.env.npm_config_build_from_source ?? '';
  return yes(value) || value.split(',').includes(name);
}

function platform() {
  if (process.platform !== 'linux') return `${process.platform}-${os.arch()}`;
  const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
  return `linux-${os.arch()} (${glibc ? 'glibc' : 'musl'})`;
}

function toolchain() {
  if (process.platform === 'win32') return 'Python and the Visual Studio C++ build tools';
  if (process.platform === 'darwin') return "Xcode's command line tools (xcode-select --install)";
  return 'python3, make and a C++17 compiler';
}

// Child processes run the `node` that npm ran this script with (the PATH's, as npm's command
// line for it says), or this process's executable where the PATH has none.
function runNode(args, options) {
  const result = spawnSync('node', args, options);
  return result.error?.code === 'ENOENT' ? spawnSync(process.execPath, args, options) : result;
}

/** What node-gyp-build finds, and whether it loads: { ok, binary, problem, crashed }. The
 *  binary is loaded in a child process: one that crashes must not take the install with it. */
function probe() {
  const script = `
    const load = require(${JSON.stringify(require.resolve('node-gyp-build'))});
    let file;
    try { file = load.path(${JSON.stringify(root)}); } catch { process.exit(3); }
    process.stdout.write(JSON.stringify(file));
    require(file);`;
  const result = runNode(['-e', script], { encoding: 'utf8' });
  let binary = null;
  try {
    binary = JSON.parse(result.stdout);
  } catch {
    // No path printed: nothing found, or the child did not start.
  }
  if (result.status === 0) return { ok: true, binary };
  if (binary === null) return { ok: false, binary, problem: `no prebuilt binary for ${platform()}` };
  const shown = path.relative(root, binary);
  if (result.signal) return { ok: false, binary, crashed: true, problem: `${shown} crashed (${result.signal}) when loaded` };
  const error = `${result.stderr}`.split('\n').find((line) => /Error/.test(line)) ?? `exit ${result.status}`;
  return { ok: false, binary, problem: `${shown} did not load (${error.replace(/^\w*Error: /, '').trim()})` };
}

function nodeGyp() {
  const script = process.env.npm_config_node_gyp;
  if (script) return /\.[cm]?js$/.test(script) ? { node: [script] } : { command: script };
  try {
    return { node: [require.resolve('node-gyp/bin/node-gyp.js')] };
  } catch {
    return { command: 'node-gyp' };
  }
}

// The line of node-gyp's output that says what went wrong.
function cause(output) {
  const lines = output.split('\n').map((line) => line.replace(/^gyp ERR! (stack )?(Error: )?/, '').trim());
  const found = lines.find((line) => /Could not find any Python|not found|No such file|command not found/i.test(line)) ??
    lines.find((line) => /error/i.test(line));
  return (found ?? 'node-gyp failed').slice(0, 200);
}

/** Runs node-gyp rebuild; { ok, cause, log }. Its output goes to build/install.log. */
function runNodeGyp(problem) {
  console.error(`${name}: ${problem}; building the native addon with node-gyp (about a minute)`);
  // node-gyp starts by deleting build/, so the output is written elsewhere first.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lrn-install-'));
  const output = path.join(scratch, 'node-gyp.log');
  const fd = fs.openSync(output, 'w');
  const options = { cwd: root, stdio: ['ignore', fd, fd], timeout: BUILD_TIMEOUT_MS };
  const tool = nodeGyp();
  const result = tool.node ? runNode([...tool.node, 'rebuild'], options) : spawnSync(tool.command, ['rebuild'], options);
  fs.closeSync(fd);
  const text = fs.readFileSync(output, 'utf8') + (result.error ? `\n${result.error.message}\n` : '');
  fs.rmSync(scratch, { recursive: true, force: true });
  const log = path.join(build, 'install.log');
  save(log, text);
  if (result.status === 0) return { ok: true, log };
  return { ok: false, log, cause: result.error?.code === 'ETIMEDOUT' ? 'node-gyp timed out' : cause(text) };
}

function save(file, text) {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  } catch {
    // A read-only install still works; only the record for backend().reason is lost.
  }
}

/** The paragraph for the install's output, and backend().reason at run time. */
function fallbackParagraph(what, retry) {
  return `${name}: ${what}. Every call runs on the TypeScript implementation (same results, ` +
    `slower). To get the native addon, install ${toolchain()}, then ${retry}.`;
}

const REBUILD = `run \`npm rebuild ${name}\``;

/** After a source build: the pin shim for the running Node (scripts/build-pin.js), so that
 *  lrnAsync needs no copies. Its failure only leaves lrnAsync copying. */
function buildPinShim() {
  try {
    const { buildPin, runningHeaders } = require('./build-pin.js');
    const headers = runningHeaders();
    if (headers === undefined) {
      throw new Error(`no headers of this Node's ABI (${process.versions.modules}) in Node's include/node, npm_config_nodedir or node-gyp's cache`);
    }
    buildPin({ headers, out: path.join(build, 'pin') });
  } catch (error) {
    const first = `${error && error.message}`.split('\n')[0];
    console.error(`${name}: built, but not the pin shim for Node ${process.versions.node} (${first}); ` +
      'lrnAsync copies arrays over ordinary ArrayBuffers (docs/async-memory.md)');
  }
}

/** '' when a binary ends up loading, else the paragraph; `found` is what node-gyp-build finds. */
function install() {
  const forced = buildFromSource();
  const first = forced ? { ok: false, problem: 'building from source as asked' } : probe();
  if (first.ok) return { paragraph: '' };
  if (yes(process.env.LRN_SKIP_BUILD ?? '')) {
    const found = forced ? probe() : first;
    if (found.ok) return { paragraph: '' };
    const what = `${found.problem}, and LRN_SKIP_BUILD=${process.env.LRN_SKIP_BUILD} skips building it`;
    return { paragraph: fallbackParagraph(what, `unset LRN_SKIP_BUILD and ${REBUILD}`), found };
  }
  const built = runNodeGyp(first.problem);
  let after = probe();
  if (built.ok && !after.ok && after.binary !== null && path.dirname(after.binary) === path.join(build, 'Release')) {
    // A build that does not load must not hide a prebuilt binary that does.
    const failure = after.problem;
    fs.rmSync(path.join(build, 'Release'), { recursive: true, force: true });
    after = probe();
    if (after.ok) {
      console.error(`${name}: the new build did not load (${failure}); using ${path.relative(root, after.binary)}`);
      return { paragraph: '' };
    }
    return { paragraph: fallbackParagraph(`${first.problem}, and its build did not load (${failure})`, REBUILD), found: after };
  }
  if (after.ok) {
    if (!built.ok) console.error(`${name}: could not build (${built.cause}; log: ${built.log}); using ${path.relative(root, after.binary)}`);
    else if (path.dirname(after.binary) === path.join(build, 'Release')) buildPinShim();
    return { paragraph: '' };
  }
  const what = built.ok ? `${first.problem}, and ${after.problem}` : `${first.problem}, and could not build it (${built.cause}; log: ${built.log})`;
  return { paragraph: fallbackParagraph(what, REBUILD), found: after };
}

function main() {
  try {
    fs.rmSync(record, { force: true });
  } catch {
    // Unwritable: nothing to record either.
  }
  const { paragraph, found } = install();
  if (paragraph === '') return;
  console.error(paragraph);
  // loadNative uses the paragraph only while node-gyp-build finds the same binary (or none), and
  // does not load one that crashed here.
  save(record, `${JSON.stringify({ reason: paragraph, binary: found.binary ?? null, crashed: found.crashed === true })}\n`);
}

try {
  main();
} catch (error) {
  console.error(fallbackParagraph(`the install step failed (${error && error.message})`, REBUILD));
}
