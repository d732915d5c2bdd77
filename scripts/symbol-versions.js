#!/usr/bin/env node
// Checks that Linux binaries of the addon load wherever Node's official Linux binaries do: no
// symbol needs a glibc newer than 2.28 or a libstdc++ newer than GCC 5's (docs/prebuilds.md).
// Reads the dynamic symbol table with objdump -T (the target's own objdump for a foreign CPU).
//
//   node scripts/symbol-versions.js prebuilds/linux-*/*.node
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

/** The newest version each library may be asked for. Families not listed fail the check. */
const LIMITS = { GLIBC: '2.28', GLIBCXX: '3.4.21', CXXABI: '1.3.9' };

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

/** Every versioned symbol the binary imports, as { symbol, family, version }. */
function importedVersions(file, objdump) {
  const table = execFileSync(objdump, ['-T', file], { encoding: 'utf8' });
  const imports = [];
  for (const line of table.split('\n')) {
    const match = /\*UND\*\s+\S+\s+\(?([A-Z]+)_([0-9.]+)\)?\s+(\S+)\s*$/.exec(line);
    if (match) imports.push({ family: match[1], version: match[2], symbol: match[3] });
  }
  return imports;
}

/** { ok, text }: the newest version needed from each library, and every symbol past a limit. */
function checkBinary(file) {
  const machine = machineOf(file);
  const imports = importedVersions(file, machine.objdump);
  const newest = {};
  const over = [];
  for (const { family, version, symbol } of imports) {
    if (newest[family] === undefined || compareVersions(version, newest[family]) > 0) newest[family] = version;
    const limit = LIMITS[family];
    if (limit === undefined || compareVersions(version, limit) > 0) {
      over.push(`${symbol} needs ${family}_${version} (limit ${limit === undefined ? 'none allowed' : `${family}_${limit}`})`);
    }
  }
  const needs = Object.entries(newest).map(([family, version]) => `${family}_${version}`).join(', ');
  const lines = [`${file} (${machine.name}): needs at most ${needs || 'no versioned symbols'}`];
  for (const problem of over) lines.push(`  too new: ${problem}`);
  return { ok: over.length === 0, text: lines.join('\n') };
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
