/**
 * Paired comparisons of two models on the same items — "is model A better than model B on my data?":
 *
 * - `pairedBootstrap`: percentile bootstrap of the difference stat(A) − stat(B), resampling the same
 *   items for both models in every draw (index draws as `bootstrapCI`: `floor(rng() * n)` from
 *   `mulberry32(seed)`), with a two-sided bootstrap p-value (twice the smaller share of resampled
 *   differences on either side of 0, capped at 1). Works for per-item means (accuracy, token F1) and for
 *   corpus-level statistics (BLEU, CIDEr-D) alike, because the statistic receives the drawn indices.
 * - `delongTest`: DeLong, DeLong & Clarke-Pearson (1988) test of two correlated AUROCs on the same
 *   cases: placement values (ties count 1/2), the covariance of the two AUC estimates from their
 *   structural components, z = (AUC_A − AUC_B) / sqrt(var), two-sided normal p-value.
 */
import { mulberry32, quantileSorted, type CI } from './bootstrap.js';
import { metricsError } from './validate.js';

/** A paired difference with its CI and a bootstrap p-value. */
export interface PairedDifference {
  /** stat(A) on all items. */
  a: number;
  /** stat(B) on all items. */
  b: number;
  /** a − b, with the percentile CI of the resampled differences. */
  difference: CI;
  /** Two-sided bootstrap p-value of "no difference". */
  p: number;
  n: number;
  samples: number;
}

/**
 * Paired percentile bootstrap of statA − statB over `n` shared items.
 * @param statA statistic of model A on the items listed (with repeats)
 * @param statB statistic of model B on the same items
 */
export function pairedBootstrap(
  n: number,
  statA: (idx: number[]) => number,
  statB: (idx: number[]) => number,
  opts: { samples?: number; seed?: number; alpha?: number } = {},
): PairedDifference {
  const samples = opts.samples ?? 1000;
  const alpha = opts.alpha ?? 0.05;
  if (!Number.isInteger(n) || n < 1) throw metricsError(`paired bootstrap needs at least one item, got ${n}`);
  if (!Number.isInteger(samples) || samples < 1) throw metricsError(`paired bootstrap samples must be a whole number ≥ 1, got ${samples}`);
  if (!(alpha > 0 && alpha < 1)) throw metricsError(`paired bootstrap alpha must be in (0, 1), got ${alpha}`);
  const all = Array.from({ length: n }, (_, i) => i);
  const a = statA(all);
  const b = statB(all);
  const rng = mulberry32(opts.seed ?? 0);
  const diffs: number[] = [];
  for (let s = 0; s < samples; s++) {
    const idx = new Array<number>(n);
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rng() * n);
    const d = statA(idx) - statB(idx);
    if (!Number.isNaN(d)) diffs.push(d);
  }
  diffs.sort((x, y) => x - y);
  const below = diffs.filter((d) => d <= 0).length / diffs.length;
  const above = diffs.filter((d) => d >= 0).length / diffs.length;
  return {
    a,
    b,
    difference: { value: a - b, lo: quantileSorted(diffs, alpha / 2), hi: quantileSorted(diffs, 1 - alpha / 2) },
    p: diffs.length ? Math.min(1, 2 * Math.min(below, above)) : NaN,
    n,
    samples: diffs.length,
  };
}

/** Paired bootstrap of the difference of two per-item means (e.g. 0/1 correctness). */
export function pairedMeanBootstrap(valuesA: ArrayLike<number>, valuesB: ArrayLike<number>, opts: { samples?: number; seed?: number; alpha?: number } = {}): PairedDifference {
  if (valuesA.length !== valuesB.length) throw metricsError(`paired values differ in length: ${valuesA.length} vs ${valuesB.length}`);
  const mean = (v: ArrayLike<number>) => (idx: number[]) => idx.reduce((s, i) => s + v[i], 0) / idx.length;
  return pairedBootstrap(valuesA.length, mean(valuesA), mean(valuesB), opts);
}

/** Result of DeLong's test. */
export interface DeLongResult {
  aucA: number;
  aucB: number;
  difference: number;
  /** Variance of aucA − aucB. */
  variance: number;
  /** 95% normal CI of the difference. */
  ci: { lo: number; hi: number };
  z: number;
  p: number;
  positives: number;
  negatives: number;
}

/** Complementary error function: the published Chebyshev fit erfc(x) ≈ t·exp(−x² + P(t)), t = 1/(1 + x/2) (Press et al., Numerical Recipes, 2nd ed., §6.2), fractional error < 1.2e-7. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Two-sided p-value of a standard normal z. */
export function normalTwoSidedP(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

function placements(pos: number[], neg: number[]): { v10: number[]; v01: number[]; auc: number } {
  const psi = (x: number, y: number) => (x > y ? 1 : x === y ? 0.5 : 0);
  const v10 = pos.map((x) => neg.reduce((s, y) => s + psi(x, y), 0) / neg.length);
  const v01 = neg.map((y) => pos.reduce((s, x) => s + psi(x, y), 0) / pos.length);
  return { v10, v01, auc: v10.reduce((a, b) => a + b, 0) / pos.length };
}

function covariance(x: number[], y: number[]): number {
  const n = x.length;
  if (n < 2) return 0;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (x[i] - mx) * (y[i] - my);
  return s / (n - 1);
}

/**
 * DeLong's test for two AUROCs measured on the same cases.
 * @param positive true for the positive class, per item
 * @param scoresA model A's score for the positive class, per item
 * @param scoresB model B's score, per item
 */
export function delongTest(positive: ArrayLike<boolean>, scoresA: ArrayLike<number>, scoresB: ArrayLike<number>): DeLongResult {
  const n = positive.length;
  if (scoresA.length !== n || scoresB.length !== n) throw metricsError(`DeLong: ${n} labels but ${scoresA.length} and ${scoresB.length} scores`);
  const idxPos: number[] = [];
  const idxNeg: number[] = [];
  for (let i = 0; i < n; i++) (positive[i] ? idxPos : idxNeg).push(i);
  if (idxPos.length === 0 || idxNeg.length === 0) throw metricsError(`DeLong needs both classes (positives ${idxPos.length}, negatives ${idxNeg.length})`);
  const pa = placements(idxPos.map((i) => scoresA[i]), idxNeg.map((i) => scoresA[i]));
  const pb = placements(idxPos.map((i) => scoresB[i]), idxNeg.map((i) => scoresB[i]));
  const m = idxPos.length;
  const k = idxNeg.length;
  const s10 = [covariance(pa.v10, pa.v10), covariance(pa.v10, pb.v10), covariance(pb.v10, pb.v10)];
  const s01 = [covariance(pa.v01, pa.v01), covariance(pa.v01, pb.v01), covariance(pb.v01, pb.v01)];
  const varA = s10[0] / m + s01[0] / k;
  const varB = s10[2] / m + s01[2] / k;
  const cov = s10[1] / m + s01[1] / k;
  const variance = Math.max(0, varA + varB - 2 * cov);
  const difference = pa.auc - pb.auc;
  const sd = Math.sqrt(variance);
  const z = sd > 0 ? difference / sd : difference === 0 ? 0 : Math.sign(difference) * Infinity;
  return {
    aucA: pa.auc,
    aucB: pb.auc,
    difference,
    variance,
    ci: { lo: difference - 1.959963984540054 * sd, hi: difference + 1.959963984540054 * sd },
    z,
    p: sd > 0 ? normalTwoSidedP(z) : difference === 0 ? 1 : 0,
    positives: m,
    negatives: k,
  };
}
