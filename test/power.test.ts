// The fallback's B^(-beta): its shortcuts must agree with Math.pow, special values included.
import { describe, expect, it } from 'vitest';
import { gradientTerms, invPow, timesInvPow } from '../lib/fallback/power.js';

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

describe('timesInvPow and gradientTerms past float64\'s normal range', () => {
  // Exact cases: powers of two to integer powers, and sqrt(2)'s.
  it.each([
    [1.5 * 2 ** 1000, 2 ** 1000, 1.5, 1.5 * 2 ** -500],
    [2 ** 1000, 2 ** 1000, 2, 2 ** -1000],
    [2 ** -1000, 2 ** -1000, 2, 2 ** 1000],
    [3, 2 ** 1000, 1.1, 3 * 2 ** -1100],
    [1, 2 ** 1001, 0.5, Math.SQRT1_2 * 2 ** -500],
    [2 ** 1023, 2 ** 1000, 2, 2 ** -977],
    [2 ** -1074, 2 ** -1000, 2, 2 ** 926],
    [2 ** 1000, 2 ** 1000, 3, 2 ** -2000], // 0: below the subnormals
    [2 ** -1000, 2 ** -1000, 3, 2 ** 2000], // Infinity
    [-0, 2 ** -1000, 3, -0], // 0 where B is positive, not 0 * Infinity
  ])('%d * %d^-%d is %d', (v, b, beta, want) => {
    const got = timesInvPow(v, b, beta);
    if (want === 0 || !Number.isFinite(want)) expect(got).toBe(want);
    else expect(Math.abs(got / want - 1)).toBeLessThan(4 * Number.EPSILON);
  });

  it('agrees with ((v * P) * P) * P, P = B^(-beta/3), across B, beta and v', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 20000; i++) {
      const b = 2 ** (2040 * random() - 1070) * (1 + random());
      const beta = [0.5, 0.75, 1, 0.2, 1.1, 1.3, 2, 7, 40][i % 9]!;
      const v = (random() < 0.5 ? -1 : 1) * 2 ** (2020 * random() - 1000); // normal: the partial products are then exact to a rounding
      const third = Math.pow(b, -beta / 3);
      const want = v * third * third * third;
      const got = timesInvPow(v, b, beta);
      if (!(Math.abs(want) >= 2 ** -1000 && Math.abs(want) <= 2 ** 1000) || !(third >= 2 ** -1022 && third <= 2 ** 1000)) continue;
      expect(Math.abs(got / want - 1), `${v} * ${b}^-${beta}`).toBeLessThan(1e-13 * Math.max(1, beta));
    }
  });

  it('gradientTerms: term1 and t with B^(-beta-1) rounding to 0', () => {
    const term1 = new Float64Array(1);
    const t = new Float64Array(1);
    gradientTerms(2 ** 300, 2 ** 60, 2 ** 1020, 0.2, term1, t, 0);
    // B^(-1.2) = 2^-1224 is below float64's subnormals; t = 2^360 2^-1224 is normal. (1.2 is not
    // exact in binary: the float64 beta's power differs from 2^-1224 by 3e-14 relative.)
    expect(Math.abs(term1[0]! / 2 ** 96 - 1)).toBeLessThan(1e-13);
    expect(Math.abs(t[0]! / 2 ** -864 - 1)).toBeLessThan(1e-13);
  });
});
