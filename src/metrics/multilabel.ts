/** Multi-label classification: one independent 0/1 label and probability per class. */
import { f1FromCounts } from './classification.js';
import { nanMean, rocAucBinary } from './roc.js';
import { checkMatrix, checkSameLength, metricsError } from './validate.js';

/** Result of `multilabelMetrics`. */
export interface MultilabelResult {
  /** Mean of the defined per-class AUROCs. */
  macroAuroc: number;
  /** AUROC per class; NaN for a class whose column holds only 0s or only 1s. */
  perClassAuroc: number[];
  /** Unweighted mean of the per-class F1 (zero_division = 0). */
  macroF1: number;
  /** F1 from tp/fp/fn summed over all classes. */
  microF1: number;
  /** Fraction of items whose whole predicted label set equals the true one. */
  subsetAccuracy: number;
  /** F1 per class (addition to the contract). */
  perClassF1: number[];
}

/**
 * Multi-label metrics. A class is predicted when `prob >= threshold` (default 0.5). Equals sklearn
 * `roc_auc_score(Y, P, average=None)`, `f1_score(Y, Ŷ, average='macro'|'micro', zero_division=0)` and
 * `accuracy_score(Y, Ŷ)` (subset accuracy).
 */
export function multilabelMetrics(yTrue: number[][], probs: ArrayLike<number>[], threshold = 0.5): MultilabelResult {
  checkSameLength('yTrue', yTrue, 'probs', probs);
  const k = checkMatrix('probs', probs);
  checkMatrix('yTrue', yTrue, k);
  yTrue.forEach((row, i) =>
    row.forEach((v, j) => {
      if (v !== 0 && v !== 1) throw metricsError(`yTrue[${i}][${j}] = ${v} is not 0 or 1`);
    }),
  );
  const perClassAuroc: number[] = [];
  const perClassF1: number[] = [];
  let tpAll = 0;
  let fpAll = 0;
  let fnAll = 0;
  for (let c = 0; c < k; c++) {
    const truth = yTrue.map((row) => row[c]);
    const scores = probs.map((row) => row[c]);
    perClassAuroc.push(rocAucBinary(truth, scores));
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < truth.length; i++) {
      const pred = scores[i] >= threshold;
      if (pred && truth[i] === 1) tp++;
      else if (pred) fp++;
      else if (truth[i] === 1) fn++;
    }
    perClassF1.push(f1FromCounts(tp, fp, fn));
    tpAll += tp;
    fpAll += fp;
    fnAll += fn;
  }
  let exact = 0;
  for (let i = 0; i < yTrue.length; i++) {
    let same = true;
    for (let c = 0; c < k && same; c++) same = (probs[i][c] >= threshold ? 1 : 0) === yTrue[i][c];
    if (same) exact++;
  }
  return {
    macroAuroc: nanMean(perClassAuroc),
    perClassAuroc,
    macroF1: k === 0 ? NaN : perClassF1.reduce((a, b) => a + b, 0) / k,
    microF1: f1FromCounts(tpAll, fpAll, fnAll),
    subsetAccuracy: yTrue.length === 0 ? NaN : exact / yTrue.length,
    perClassF1,
  };
}

/** Collects multi-label items batch by batch; `result()` = `multilabelMetrics` on everything added. */
export class MultilabelAccumulator {
  private readonly truth: number[][] = [];
  private readonly probs: number[][] = [];

  /** Add a batch of rows (true 0/1 labels and per-class probabilities). */
  add(yTrue: number[][], probs: ArrayLike<number>[]): void {
    checkSameLength('yTrue', yTrue, 'probs', probs);
    for (let i = 0; i < yTrue.length; i++) {
      this.truth.push([...yTrue[i]]);
      this.probs.push(Array.from(probs[i]));
    }
  }

  /** Metrics over all rows added so far. */
  result(threshold = 0.5): MultilabelResult {
    return multilabelMetrics(this.truth, this.probs, threshold);
  }
}
