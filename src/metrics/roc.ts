/** ROC curves and AUROC with scikit-learn semantics (ties share one threshold; area by the trapezoid rule). */
import { checkLabels, checkMatrix, checkSameLength, metricsError } from './validate.js';

/** A ROC curve: one point per distinct score plus the (0, 0) start. */
export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Decreasing; `thresholds[0]` is `Infinity` (sklearn >= 1.3; sklearn 1.2 used `max + 1`). */
  thresholds: number[];
}

function checkBinary(yTrue01: ArrayLike<number>, scores: ArrayLike<number>): void {
  checkSameLength('yTrue', yTrue01, 'scores', scores);
  for (let i = 0; i < yTrue01.length; i++) {
    if (yTrue01[i] !== 0 && yTrue01[i] !== 1) throw metricsError(`yTrue[${i}] = ${yTrue01[i]} is not 0 or 1`);
    if (!Number.isFinite(scores[i])) throw metricsError(`scores[${i}] is not a finite number (${scores[i]})`);
  }
}

/**
 * ROC curve = sklearn `roc_curve(y, s, drop_intermediate=False)`: items sorted by score, one point per
 * distinct score (a point is "score >= threshold is positive"). With no positives `tpr` is NaN, with no
 * negatives `fpr` is NaN (sklearn warns and does the same).
 */
export function rocCurve(yTrue01: ArrayLike<number>, scores: ArrayLike<number>): RocCurve {
  checkBinary(yTrue01, scores);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const tps = [0];
  const fps = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < order.length; r++) {
    const i = order[r];
    if (yTrue01[i] === 1) tp++;
    else fp++;
    const last = r === order.length - 1 || scores[order[r + 1]] !== scores[i];
    if (last) {
      tps.push(tp);
      fps.push(fp);
      thresholds.push(scores[i]);
    }
  }
  return { fpr: fps.map((f) => f / fp), tpr: tps.map((t) => t / tp), thresholds };
}

/** Area under a curve by the trapezoid rule (x increasing). */
export function trapezoid(x: number[], y: number[]): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return area;
}

/**
 * Binary AUROC = sklearn `roc_auc_score(y, s)`: trapezoid area under `rocCurve`, so tied scores count
 * one half. NaN when `yTrue01` holds only one class (sklearn raises instead).
 */
export function rocAucBinary(yTrue01: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { fpr, tpr } = rocCurve(yTrue01, scores);
  if (Number.isNaN(fpr[fpr.length - 1]) || Number.isNaN(tpr[tpr.length - 1])) return NaN;
  return trapezoid(fpr, tpr);
}

/**
 * One-vs-rest AUROC: `perClass[c]` = AUROC of "class c" against `probs[:, c]`; `macro` = mean of the
 * defined ones. Equals sklearn `roc_auc_score(y, probs, multi_class='ovr', average='macro'|None)` when
 * every class occurs; a class absent from `yTrue` (or the only class) gets NaN and is left out of `macro`
 * (sklearn raises).
 */
export function rocAucOvR(yTrue: number[], probs: ArrayLike<number>[]): { macro: number; perClass: number[] } {
  checkSameLength('yTrue', yTrue, 'probs', probs);
  const k = checkMatrix('probs', probs);
  checkLabels('yTrue', yTrue, k);
  const perClass: number[] = [];
  for (let c = 0; c < k; c++) {
    perClass.push(rocAucBinary(yTrue.map((y) => (y === c ? 1 : 0)), probs.map((row) => row[c])));
  }
  return { macro: nanMean(perClass), perClass };
}

/** Mean of the non-NaN values (NaN when there are none). */
export function nanMean(values: number[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    sum += v;
    n++;
  }
  return n === 0 ? NaN : sum / n;
}
