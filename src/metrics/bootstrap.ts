/** Seeded PRNG and percentile bootstrap confidence intervals. */
import { metricsError } from './validate.js';

/** A point estimate with a confidence interval (95% unless `alpha` says otherwise). */
export interface CI {
  value: number;
  lo: number;
  hi: number;
}

/**
 * The project's one seeded PRNG: mulberry32 (32-bit state, period 2^32), uniform in [0, 1).
 * The same seed always gives the same sequence, on every platform.
 */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Quantile of sorted values with linear interpolation (numpy's default `method='linear'`). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Percentile bootstrap over items. `stat(idx)` computes the statistic on the items listed in `idx`
 * (with repeats); `value` is `stat([0..n-1])`, `lo`/`hi` are the `alpha/2` and `1-alpha/2` quantiles
 * of `samples` resampled statistics (index draws: `floor(rng() * n)` from `mulberry32(seed)`).
 * Resamples whose statistic is NaN (e.g. AUROC with one class drawn) are left out; when all are NaN,
 * `lo` and `hi` are NaN. Defaults: samples 1000, seed 0, alpha 0.05. `samples: 0` gives lo = hi = NaN.
 */
export function bootstrapCI(
  n: number,
  stat: (idx: number[]) => number,
  opts: { samples?: number; seed?: number; alpha?: number } = {},
): CI {
  const samples = opts.samples ?? 1000;
  const alpha = opts.alpha ?? 0.05;
  if (!Number.isInteger(n) || n < 0) throw metricsError(`bootstrap item count must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(samples) || samples < 0) throw metricsError(`bootstrap samples must be a non-negative integer, got ${samples}`);
  if (!(alpha > 0 && alpha < 1)) throw metricsError(`bootstrap alpha must be in (0, 1), got ${alpha}`);
  const all = Array.from({ length: n }, (_, i) => i);
  const value = stat(all);
  if (n === 0) return { value, lo: NaN, hi: NaN };
  const rng = mulberry32(opts.seed ?? 0);
  const stats: number[] = [];
  for (let b = 0; b < samples; b++) {
    const idx = new Array<number>(n);
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rng() * n);
    const s = stat(idx);
    if (!Number.isNaN(s)) stats.push(s);
  }
  stats.sort((x, y) => x - y);
  return { value, lo: quantileSorted(stats, alpha / 2), hi: quantileSorted(stats, 1 - alpha / 2) };
}
