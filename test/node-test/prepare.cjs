// Lays out test files to run with test/node-test/run.cjs against an installed copy of the
// package: each test file and helper transpiled to CommonJS, `../lib` pointing at the installed
// package's dist/, and `vitest` resolved to test/node-test/vitest.cjs (README.md here).
//
//   node test/node-test/prepare.cjs <out> <installed package folder> test/golden.test.ts ...
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const repo = path.join(__dirname, '..', '..');
const [out, installed, ...tests] = process.argv.slice(2);
if (!out || !installed || tests.length === 0) {
  console.error('usage: node test/node-test/prepare.cjs <out> <installed package folder> <test files...>');
  process.exit(2);
}

function transpile(file) {
  const source = fs.readFileSync(path.join(repo, file), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const target = path.join(out, file.replace(/\.ts$/, '.js'));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, outputText);
  return target;
}

function link(target, at) {
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.rmSync(at, { recursive: true, force: true });
  fs.symlinkSync(path.resolve(target), at);
}

fs.rmSync(out, { recursive: true, force: true });
const helpers = fs.readdirSync(path.join(repo, 'test', 'helpers')).filter((f) => f.endsWith('.ts'));
for (const helper of helpers) transpile(path.join('test', 'helpers', helper));
const files = tests.map((file) => transpile(path.relative(repo, path.resolve(file))));
link(path.join(repo, 'test', 'fixtures'), path.join(out, 'test', 'fixtures'));
link(path.join(installed, 'dist'), path.join(out, 'lib'));
link(path.join(repo, 'node_modules', 'fast-check'), path.join(out, 'node_modules', 'fast-check'));
fs.mkdirSync(path.join(out, 'node_modules', 'vitest'), { recursive: true });
fs.copyFileSync(path.join(__dirname, 'vitest.cjs'), path.join(out, 'node_modules', 'vitest', 'index.js'));
fs.copyFileSync(path.join(__dirname, 'run.cjs'), path.join(out, 'run.cjs'));
const config = {
  chai: require.resolve('chai', { paths: [require.resolve('@vitest/expect')] }),
  vitestExpect: require.resolve('@vitest/expect'),
  files: files.map((file) => path.relative(out, file)),
};
fs.writeFileSync(path.join(out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
console.log(`prepared ${files.length} test files in ${out}`);
