// vitest's test API on node:test, with vitest's own `expect` (@vitest/expect on chai), for Node
// builds that vitest itself cannot run on: Node 18 on arm64 under qemu-user, where the suite
// tests the installed package's prebuilt binary (test/node-test/README.md). The parts of the
// API the suite uses: describe, it, hooks, .each, .skipIf, .runIf.
'use strict';
const test = require('node:test');
const { format, inspect } = require('node:util');

let chaiExpect;

/** Called once by the runner before any test runs: @vitest/expect and chai are ES modules. */
function useExpect(expect) {
  chaiExpect = expect;
}

function expect(...args) {
  if (chaiExpect === undefined) throw new Error('test/node-test/run.cjs did not install expect');
  return chaiExpect(...args);
}

// vitest's names for .each: printf-style %s %d %i %f %j %o %p, %# for the index, $key for a
// property of an object row.
function title(template, row, index) {
  const values = Array.isArray(row) ? row : [row];
  let next = 0;
  const named = String(template)
    .replace(/%#/g, String(index))
    .replace(/\$([A-Za-z_][\w.]*)/g, (match, key) =>
      row !== null && typeof row === 'object' && key in row ? inspect(row[key]) : match);
  const printf = named.replace(/%[sdifjop%]/g, (spec) => {
    if (spec === '%%') return '%';
    if (next >= values.length) return spec;
    const value = values[next++];
    return spec === '%s' ? String(value) : spec === '%j' ? JSON.stringify(value) : format(spec === '%p' ? '%o' : spec, value);
  });
  return printf;
}

function withEach(register) {
  // As vitest: rows are spread into arguments only when every row is an array.
  const each = (table) => (template, body, timeout) => {
    const spread = table.every(Array.isArray);
    table.forEach((row, index) => {
      const args = spread ? row : [row];
      register(title(template, row, index), (...context) => body(...args, ...context), timeout);
    });
  };
  return each;
}

// vitest.config.mts gives every test 60 s; under qemu-user everything runs several times slower.
const TIMEOUT_MS = 600_000;

function makeIt(skip) {
  // A test without a body is a todo in vitest, not a pass.
  const it = (name, body, timeout) => body === undefined
    ? test.it(name, { todo: true })
    : test.it(name, { skip, timeout: typeof timeout === 'number' ? timeout : TIMEOUT_MS }, () => body());
  it.each = withEach(it);
  it.skipIf = (condition) => (condition ? skippedIt : it);
  it.runIf = (condition) => (condition ? it : skippedIt);
  it.skip = (name, body) => skippedIt(name, body);
  return it;
}

function makeDescribe(skip) {
  const describe = (name, body) => test.describe(name, { skip }, body);
  describe.each = withEach(describe);
  describe.skipIf = (condition) => (condition ? skippedDescribe : describe);
  describe.runIf = (condition) => (condition ? describe : skippedDescribe);
  describe.skip = (name, body) => skippedDescribe(name, body);
  return describe;
}

const skippedIt = makeIt(true);
const skippedDescribe = makeDescribe(true);
const it = makeIt(false);
const describe = makeDescribe(false);

module.exports = {
  useExpect,
  expect,
  it,
  test: it,
  describe,
  // vitest runs a function that beforeAll returns (or resolves to) after the suite.
  beforeAll: (fn) => {
    let teardown;
    test.before(async () => {
      teardown = await fn();
    });
    test.after(() => (typeof teardown === 'function' ? teardown() : undefined));
  },
  afterAll: (fn) => test.after(() => fn()),
  beforeEach: (fn) => test.beforeEach(() => fn()),
  afterEach: (fn) => test.afterEach(() => fn()),
};
