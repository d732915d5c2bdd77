// The package as users load it: `import` and `require` through package.json "exports",
// giving the same numbers and sharing one backend state.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(__dirname, '..');
const run = (file: string) =>
  JSON.parse(execFileSync(process.execPath, [join(__dirname, 'consumers', file)], { cwd: root, encoding: 'utf8' }));

it('is built (npm test builds dist/ first)', () => {
  for (const file of ['index.js', 'index.d.ts', 'index.mjs', 'index.d.mts']) {
    expect(existsSync(join(root, 'dist', file))).toBe(true);
  }
});

it('import and require give the same results and share one instance', () => {
  const esm = run('consumer.mjs');
  const cjs = run('consumer.cjs');
  expect(esm.format).toBe('esm');
  expect(cjs.format).toBe('cjs');
  expect(esm.y).toEqual(cjs.y);
  expect(esm.dx).toEqual(cjs.dx);
  expect(esm.y.length).toBe(36);
  expect(esm.y.every(Number.isFinite)).toBe(true);
  expect(esm.asyncEqual && cjs.asyncEqual).toBe(true);
  expect(esm.presets).toEqual(['alexnet', 'pytorch', 'onnx', 'cudnn', 'caffe', 'tensorflow', 'onednn']);
  expect(esm.sharedState).toBe(true);
});
