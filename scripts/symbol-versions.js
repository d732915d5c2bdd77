#!/usr/bin/env node
// Checks that Linux binaries of the addon load wherever Node's official Linux binaries do: they
// need only libraries every such system has, and no version of them newer than glibc 2.28 or
// GCC 5's libstdc++ (docs/prebuilds.md). Reads the version references and needed libraries with
// objdump -p, and names the symbols behind each version with objdump -T (the target's own
// objdump for a foreign CPU).
//
//   node scripts/symbol-versions.js prebuilds/linux-*/*.node
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

/** The newest version each library may be asked for. Families not listed (GLIBC_PRIVATE, say),
 *  and versions that are not numbers (GLIBC_ABI_DT_RELR), fail the check. */
const LIMITS = { GLIBC: '2.28', GLIBCXX: '3.4.21', CXXABI: '1.3.9', GCC: '7.0.0' };

/** The libraries a binary may need: the C and C++ runtimes, and nothing that a system may lack. */
const LIBRARIES = new Set(['libc.so.6', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'libstdc++.so.6', 'libgcc_s.so.1',
  'ld-linux-x86-64.so.2', 'ld-linux-aarch64.so.1']);

const MACHINES = { 62: { name: 'x86-64', objdump: 'objdump' }, 183: { name: 'aarch64', objdump: 'aarch64-linux-gnu-objdump' } };

function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function machineOf(file) {
  const header = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, 20, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (header.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
  const machine = MACHINES[header.readUInt16LE(18)];
  if (machine === undefined) throw new Error(`${file} is for ELF machine ${header.readUInt16LE(18)}, not x86-64 or aarch64`);
  return machine;
}

/** The libraries the binary needs, and the versions it requires of each: [{ library, name }]. */
function requirements(file, objdump) {
  const headers = execFileSync(objdump, ['-p', file], { encoding: 'utf8' });
  const needed = [...headers.matchAll(/^\s*NEEDED\s+(\S+)$/gm)].map((m) => m[1]);
  const versions = [];
  let library = '';
  for (const line of headers.slice(headers.indexOf('Version References:')).split('\n')) {
    const from = /^\s*required from (\S+):$/.exec(line);
    if (from) library = from[1];
    const version = /^\s*0x[0-9a-f]+ 0x[0-9a-f]+ \d+ (\S+)$/.exec(line);
    if (version) versions.push({ library, name: version[1] });
  }
  return { needed, versions };
}

/** The symbols that ask for each version, from the dynamic symbol table. */
function symbolsByVersion(file, objdump) {
  const table = execFileSync(objdump, ['-T', file], { encoding: 'utf8' });
  const symbols = new Map();
  for (const line of table.split('\n')) {
    const match = /\*UND\*\s+\S+\s+\(?([A-Za-z0-9_.]+)\)?\s+(\S+)\s*$/.exec(line);
    if (match) symbols.set(match[1], [...(symbols.get(match[1]) ?? []), match[2]]);
  }
  return symbols;
}

/** { ok, text }: the newest version needed from each family, and everything past a limit. */
function checkBinary(file) {
  const machine = machineOf(file);
  const { needed, versions } = requirements(file, machine.objdump);
  const symbols = symbolsByVersion(file, machine.objdump);
  const newest = {};
  const problems = needed.filter((lib) => !LIBRARIES.has(lib)).map((lib) => `needs ${lib}, which not every system has`);
  for (const { library, name } of versions) {
    const numbered = /^([A-Z]+)_([0-9]+(?:\.[0-9]+)*)$/.exec(name);
    const limit = numbered ? LIMITS[numbered[1]] : undefined;
    if (numbered && (newest[numbered[1]] === undefined || compareVersions(numbered[2], newest[numbered[1]]) > 0)) {
      newest[numbered[1]] = numbered[2];
    }
    if (limit === undefined || compareVersions(numbered[2], limit) > 0) {
      const users = (symbols.get(name) ?? []).slice(0, 5).join(', ') || 'no symbol listed';
      problems.push(`${name} from ${library} (${users}); allowed: ${limit ? `up to ${numbered[1]}_${limit}` : 'none'}`);
    }
  }
  const needs = Object.entries(newest).map(([family, version]) => `${family}_${version}`).join(', ');
  const lines = [`${file} (${machine.name}): needs ${needed.join(', ')}; versions up to ${needs || 'none'}`];
  for (const problem of problems) lines.push(`  too new: ${problem}`);
  return { ok: problems.length === 0, text: lines.join('\n') };
}

module.exports = { checkBinary };

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node scripts/symbol-versions.js <file.node> ...');
    process.exit(2);
  }
  let ok = true;
  for (const file of files) {
    const report = checkBinary(file);
    console.log(report.text);
    ok &&= report.ok;
  }
  process.exit(ok ? 0 : 1);
}
