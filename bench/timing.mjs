// Timing policy: one warm-up call, then samples of `inner` back-to-back calls (inner chosen so a
// sample lasts >= 5 ms), at least 7 samples and 0.25 s, at most 41 samples or 1.5 s.
// timeIt returns the per-call seconds of every sample; summarize turns samples into figures.
const envNumber = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const now = () => Number(process.hrtime.bigint()) / 1e9;

export async function timeIt(fn) {
  const minSample = envNumber('LRN_BENCH_MIN_SAMPLE_S', 0.005);
  const minSamples = envNumber('LRN_BENCH_MIN_SAMPLES', 7);
  const maxSamples = envNumber('LRN_BENCH_MAX_SAMPLES', 41);
  const minTotal = envNumber('LRN_BENCH_MIN_TOTAL_S', 0.25);
  const maxTotal = envNumber('LRN_BENCH_MAX_TOTAL_S', 1.5);
  const isAsync = typeof fn()?.then === 'function';
  if (isAsync) await fn();
  const t0 = now();
  if (isAsync) await fn(); else fn();
  const inner = Math.max(1, Math.ceil(minSample / Math.max(now() - t0, 1e-9)));
  const perCall = [];
  const start = now();
  for (;;) {
    const a = now();
    if (isAsync) for (let i = 0; i < inner; i++) await fn();
    else for (let i = 0; i < inner; i++) fn();
    const b = now();
    perCall.push((b - a) / inner);
    const elapsed = b - start;
    if (perCall.length >= maxSamples) break;
    if (perCall.length >= minSamples && elapsed >= minTotal) break;
    if (perCall.length >= 3 && elapsed >= maxTotal) break;
  }
  return { perCall, inner };
}

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Median and minimum ms per call over all samples (seconds per call), and the spread:
 *  interquartile range / median. */
export function summarize(perCall) {
  const s = [...perCall].sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  return {
    medianMs: median * 1e3,
    minMs: s[0] * 1e3,
    spread: (quantile(s, 0.75) - quantile(s, 0.25)) / median,
    samples: s.length,
  };
}
