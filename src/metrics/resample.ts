/**
 * Fast statistics on bootstrap resamples, from item multiplicities instead of copied arrays: scores are
 * sorted once, each resample costs O(N) per class. Used by `classificationReport`.
 */
import { f1FromCounts } from './classification.js';

/** Multiplicity of each item 0..n-1 in a resample. */
export function multiplicities(n: number, idx: number[]): Int32Array {
  const w = new Int32Array(n);
  for (const i of idx) w[i]++;
  return w;
}

/** Weighted confusion matrix (rows = truth). */
export function weightedConfusion(yTrue: number[], yPred: number[], k: number, w: Int32Array): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) if (w[i] > 0) m[yTrue[i]][yPred[i]] += w[i];
  return m;
}

/** Accuracy, balanced accuracy (classes with support only) and macro F1 (all k classes) from a confusion matrix. */
export function confusionStats(m: number[][]): { accuracy: number; balancedAccuracy: number; macroF1: number } {
  const k = m.length;
  let total = 0;
  let diag = 0;
  let recallSum = 0;
  let supported = 0;
  let f1Sum = 0;
  for (let c = 0; c < k; c++) {
    let row = 0;
    let col = 0;
    for (let j = 0; j < k; j++) {
      row += m[c][j];
      col += m[j][c];
    }
    total += row;
    diag += m[c][c];
    if (row > 0) {
      recallSum += m[c][c] / row;
      supported++;
    }
    f1Sum += f1FromCounts(m[c][c], col - m[c][c], row - m[c][c]);
  }
  return {
    accuracy: total === 0 ? NaN : diag / total,
    balancedAccuracy: supported === 0 ? NaN : recallSum / supported,
    macroF1: f1Sum / k,
  };
}

/** One class's items in descending score order, with the end of each tied-score group marked. */
export interface SortedScores {
  order: Int32Array;
  groupEnd: Uint8Array;
  positive: Uint8Array;
}

/** Sort one class's scores once for `weightedAuc`. */
export function sortScores(isPositive: ArrayLike<boolean>, scores: ArrayLike<number>): SortedScores {
  const n = scores.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const groupEnd = new Uint8Array(n);
  const positive = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    groupEnd[r] = r === n - 1 || scores[order[r + 1]] !== scores[order[r]] ? 1 : 0;
    positive[r] = isPositive[order[r]] ? 1 : 0;
  }
  return { order, groupEnd, positive };
}

/** AUROC (trapezoid, ties count 1/2) of the weighted items; NaN when one class has zero weight. */
export function weightedAuc(s: SortedScores, w: Int32Array): number {
  let tp = 0;
  let fp = 0;
  let tpPrev = 0;
  let fpPrev = 0;
  let twiceArea = 0;
  for (let r = 0; r < s.order.length; r++) {
    const wi = w[s.order[r]];
    if (s.positive[r]) tp += wi;
    else fp += wi;
    if (s.groupEnd[r]) {
      twiceArea += (fp - fpPrev) * (tp + tpPrev);
      tpPrev = tp;
      fpPrev = fp;
    }
  }
  return tp === 0 || fp === 0 ? NaN : twiceArea / (2 * tp * fp);
}
