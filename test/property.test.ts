// Random whole calls against the independent float64 reference (test/helpers/reference.ts).
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { lrn, lrnBackward } from '../lib/index.js';
import { forEachBackend } from './helpers/backends.js';
import { caseArbitrary, values } from './helpers/cases.js';
import { refBackward, refForward, refParams } from './helpers/reference.js';
import { backwardBound, backwardError, forwardError } from './helpers/tolerance.js';

// LRN_PROPERTY_RUNS raises the count for a deeper search (the default keeps `npm test` quick).
const RUNS = Number(process.env.LRN_PROPERTY_RUNS ?? 400);

forEachBackend(() => {
  it('forward matches the float64 reference', () => {
    fc.assert(
      fc.property(caseArbitrary, (c) => {
        const length = c.options.shape.reduce((p, d) => p * d, 1);
        const x = values(c, length);
        const before = x.slice();
        const y = lrn(x, c.options);
        expect(forwardError(y, refForward(x, refParams(c.options)))).toBeNull();
        expect(x).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('backward matches the float64 reference', () => {
    fc.assert(
      fc.property(caseArbitrary, (c) => {
        if (c.magnitude === 'huge' || c.magnitude === 'mixed') return; // term bounds need finite products
        const length = c.options.shape.reduce((p, d) => p * d, 1);
        const x = values(c, length);
        const dy = values({ ...c, seed: c.seed ^ 0x5bd1e995, magnitude: 'unit' }, length);
        const dx = lrnBackward(x, dy, c.options);
        const ref = refBackward(x, dy, refParams(c.options));
        const bound = backwardBound(ref.term1, ref.term2, c.dtype === 'float32');
        expect(backwardError(dx, ref.dx, bound)).toBeNull();
      }),
      { numRuns: RUNS },
    );
  });
});
