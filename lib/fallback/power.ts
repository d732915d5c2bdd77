/**
 * B^(-beta) in float64, with exact-enough shortcuts for the common betas. Square roots are
 * correctly rounded, so the shortcuts stay within a few ulps of Math.pow and keep its IEEE
 * behaviour for 0, Infinity and NaN (beta = 0 gives 1 for every B, as pow does).
 */
export function invPow(b: number, beta: number): number {
  if (beta === 0.75) {
    const s = Math.sqrt(b);
    return 1 / (s * Math.sqrt(s));
  }
  if (beta === 0.5) return 1 / Math.sqrt(b);
  if (beta === 1) return 1 / b;
  return Math.pow(b, -beta);
}
