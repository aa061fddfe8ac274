/**
 * Single-label classification metrics with scikit-learn semantics. Labels are class indices 0..k-1.
 * ROC curves (`roc.ts`), calibration, multi-label metrics and the full report live in their own modules.
 */
import { checkLabels, checkSameLength } from './validate.js';

/** k x k confusion matrix, rows = true class, columns = predicted class (= sklearn `confusion_matrix(labels=range(k))`). */
export function confusionMatrix(yTrue: number[], yPred: number[], k: number): number[][] {
  checkSameLength('yTrue', yTrue, 'yPred', yPred);
  checkLabels('yTrue', yTrue, k);
  checkLabels('yPred', yPred, k);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

/** Fraction of items with `yPred == yTrue` (NaN for no items). */
export function accuracy(yTrue: number[], yPred: number[]): number {
  checkSameLength('yTrue', yTrue, 'yPred', yPred);
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return yTrue.length === 0 ? NaN : hits / yTrue.length;
}

/**
 * Mean per-class recall over the classes that occur in `yTrue` (sklearn `balanced_accuracy_score`:
 * a class that is only predicted, never true, is left out).
 */
export function balancedAccuracy(yTrue: number[], yPred: number[], k: number): number {
  const m = confusionMatrix(yTrue, yPred, k);
  let sum = 0;
  let classes = 0;
  for (let c = 0; c < k; c++) {
    const support = m[c].reduce((a, b) => a + b, 0);
    if (support === 0) continue;
    sum += m[c][c] / support;
    classes++;
  }
  return classes === 0 ? NaN : sum / classes;
}

/**
 * Per-class F1 and their unweighted mean over all k classes = sklearn
 * `f1_score(labels=range(k), average=None|'macro', zero_division=0)`. A class with no true and no
 * predicted item scores 0 (sklearn's default `labels=None` would drop it from the macro mean instead).
 */
export function f1Scores(yTrue: number[], yPred: number[], k: number): { perClass: number[]; macro: number } {
  const m = confusionMatrix(yTrue, yPred, k);
  const perClass: number[] = [];
  for (let c = 0; c < k; c++) {
    const tp = m[c][c];
    let trueCount = 0;
    let predCount = 0;
    for (let j = 0; j < k; j++) {
      trueCount += m[c][j];
      predCount += m[j][c];
    }
    perClass.push(f1FromCounts(tp, predCount - tp, trueCount - tp));
  }
  return { perClass, macro: perClass.reduce((a, b) => a + b, 0) / k };
}

/** F1 = 2tp / (2tp + fp + fn), 0 when the denominator is 0 (sklearn `zero_division=0`). */
export function f1FromCounts(tp: number, fp: number, fn: number): number {
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? 0 : (2 * tp) / denom;
}
