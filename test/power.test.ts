// The fallback's B^(-beta): its shortcuts must agree with Math.pow, special values included.
import { describe, expect, it } from 'vitest';
import { invPow } from '../lib/fallback/power.js';

const BETAS = [0, 0.25, 0.5, 0.6, 0.75, 1, 1.3, 2, 7.5, 40];
const BASES = [0, 5e-324, 1e-310, 1e-300, 1e-20, 0.5, 1, 1.0001, 2, 3.7, 1e20, 1e300, 1.7e308, Infinity, NaN];

describe('invPow', () => {
  it.each(BETAS)('beta %d agrees with Math.pow to 1e-13, IEEE special cases exactly', (beta) => {
    for (const b of BASES) {
      const expected = Math.pow(b, -beta);
      const got = invPow(b, beta);
      if (!Number.isFinite(expected) || expected === 0) expect(got).toBe(expected);
      else expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-13 * expected);
    }
  });
});
