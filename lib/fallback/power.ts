import { productInvPowScaled, timesInvPowScaled } from './scaled-power.js';

/**
 * B^(-beta) in float64. Square roots are correctly rounded, so the shortcuts for the common
 * betas stay within a few ulps of Math.pow and keep its IEEE results for 0, Infinity and NaN.
 * Other betas use exp(-beta * log B), about 2.7x faster than Math.pow in V8; its relative error
 * is about |beta * log B| * 2^-53, so beyond |beta * log B| = 512 (error 6e-14) Math.pow takes over.
 */
export function invPow(b: number, beta: number): number {
  if (beta === 0.75) {
    const s = Math.sqrt(b);
    return 1 / (s * Math.sqrt(s));
  }
  if (beta === 0.5) return 1 / Math.sqrt(b);
  if (beta === 1) return 1 / b;
  if (beta === 0) return 1; // pow(anything, 0), NaN included
  const t = -beta * Math.log(b);
  return t < 512 && t > -512 ? Math.exp(t) : Math.pow(b, -beta);
}

const NORMAL_MIN = 2 ** -1022;

function normalPositive(v: number): boolean {
  return v >= NORMAL_MIN && v <= Number.MAX_VALUE;
}

/**
 * v * B^(-beta), rounded once from a value within a few units of float64's last place wherever B
 * is positive and finite, even where B^(-beta) itself leaves float64's normal range and the
 * product does not (docs/float64-ranges.md); elsewhere (B 0, infinite or NaN, v not finite)
 * v * invPow(b, beta).
 */
export function timesInvPow(v: number, b: number, beta: number): number {
  const r = invPow(b, beta);
  if (normalPositive(r) || !(b > 0 && b <= Number.MAX_VALUE && Number.isFinite(v))) return v * r;
  return timesInvPowScaled(v, b, beta, r);
}

/**
 * The backward's two factors at one element, each as timesInvPow: term1[i] = dy * B^(-beta) and
 * t[i] = dy * x * B^(-beta-1) (dy * x never formed where it would leave float64's normal range).
 */
export function gradientTerms(
  dy: number, x: number, b: number, beta: number, term1: Float64Array, t: Float64Array, i: number,
): void {
  const r = invPow(b, beta);
  const q = r / b;
  const dyx = dy * x;
  const inRange = normalPositive(r) && normalPositive(q) && (normalPositive(Math.abs(dyx)) || dy === 0 || x === 0);
  if (inRange || !(b > 0 && b <= Number.MAX_VALUE && Number.isFinite(dy) && Number.isFinite(x))) {
    term1[i] = dy * r;
    t[i] = dyx * q;
    return;
  }
  term1[i] = normalPositive(r) ? dy * r : timesInvPowScaled(dy, b, beta, r);
  t[i] = productInvPowScaled(dy, x, b, beta + 1, q);
}
