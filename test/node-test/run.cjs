// Runs the test files that prepare.cjs laid out next to this file, in this process, on
// node:test with vitest's expect. Exits non-zero when a test fails.
'use strict';
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const config = require('./config.json');

async function main() {
  const chai = await import(pathToFileURL(config.chai).href);
  const { JestAsymmetricMatchers, JestChaiExpect, JestExtend } = await import(pathToFileURL(config.vitestExpect).href);
  chai.use(JestExtend);
  chai.use(JestChaiExpect);
  chai.use(JestAsymmetricMatchers);
  require('vitest').useExpect(chai.expect);
  for (const file of config.files) require(path.join(__dirname, file));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
