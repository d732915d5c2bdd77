// Every case of the golden set (references computed and cross-checked against real frameworks),
// at the tolerance of docs/contract.md, "Accuracy", on every backend.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { lrn, lrnBackward, PRESETS } from '../lib/index.js';
import { makePlan } from '../lib/options.js';
import { forEachBackend } from './helpers/backends.js';
import { GOLDEN_CASES, GOLDEN_DIR, goldenOptions as optionsOf } from './helpers/golden.js';
import { readNpy } from './helpers/npy.js';
import { backwardError, forwardError, forwardF32Error } from './helpers/tolerance.js';

const load = (file: string) => readNpy(join(GOLDEN_DIR, file));

it('covers every preset, both layouts, both regions, both dtypes and backward', () => {
  const cases = GOLDEN_CASES;
  expect(cases.length).toBeGreaterThanOrEqual(49);
  expect(new Set(cases.map((c) => c.preset))).toEqual(new Set(Object.keys(PRESETS)));
  expect(new Set(cases.map((c) => `${c.op} ${c.layout} ${c.region} ${c.dtype}`)).size).toBeGreaterThan(8);
});

it.each(GOLDEN_CASES.map((c) => [c.name, c] as const))('%s resolves as the framework does', (_, c) => {
  const input = load(c.files.input);
  const plan = makePlan('test', input, optionsOf(c));
  expect(plan.a).toBeCloseTo(c.resolved.a, 15);
  expect(Math.abs(plan.a - c.resolved.a)).toBeLessThanOrEqual(1e-15 * c.resolved.a);
  expect([plan.before, plan.after, plan.k, plan.size, plan.alpha, plan.beta])
    .toEqual([c.resolved.L, c.resolved.R, c.resolved.k, c.resolved.size, c.resolved.alpha, c.resolved.beta]);
  expect(plan.layout).toBe(c.layout);
  expect(plan.region).toBe(c.region);
});

forEachBackend(() => {
  it.each(GOLDEN_CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const input = load(c.files.input);
    const before = input.slice();
    const expected = load(c.files.expected);
    const options = optionsOf(c);
    if (c.op === 'forward') {
      const y = lrn(input, options);
      expect(y.constructor).toBe(input.constructor);
      const ref = c.files.ref64 !== undefined ? load(c.files.ref64) : expected;
      expect(forwardError(y, ref)).toBeNull();
      if (y instanceof Float32Array) expect(forwardF32Error(y, ref)).toBeNull();
    } else {
      const dy = load(c.files.gradOutput!);
      const dx = lrnBackward(input, dy, options);
      const ref = c.files.ref64 !== undefined ? load(c.files.ref64) : expected;
      expect(backwardError(dx, ref, load(c.files.bound!))).toBeNull();
    }
    expect(input).toEqual(before);
  });
});
