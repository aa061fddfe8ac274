/** The full single-label classification report: point metrics with bootstrap CIs, ROC, calibration. */
import { bootstrapCI, type CI } from './bootstrap.js';
import { expectedCalibrationError, type CalibrationBin } from './calibration.js';
import { accuracy, balancedAccuracy, confusionMatrix, f1Scores } from './classification.js';
import { rocAucOvR, rocCurve } from './roc.js';
import { argmax, checkLabels, checkMatrix, checkSameLength } from './validate.js';

/** Options of `classificationReport`. */
export interface ClassificationReportOptions {
  /** Bootstrap resamples for the CIs (default 1000; 0 gives lo = hi = NaN). */
  bootstrap?: number;
  /** Seed of the bootstrap PRNG (default 0). */
  seed?: number;
  /** 1 - confidence level of the CIs (default 0.05). */
  alpha?: number;
  /** ECE bins (default 15). */
  nBins?: number;
}

/** Result of `classificationReport`; plain JSON (NaN becomes null when serialised). */
export interface ClassificationReport {
  n: number;
  accuracy: CI;
  balancedAccuracy: CI;
  macroF1: CI;
  macroAuroc: CI;
  perClassAuroc: number[];
  perClassF1: number[];
  ece: number;
  confusion: number[][];
  reliability: CalibrationBin[];
  roc: { fpr: number[]; tpr: number[] }[];
}

/**
 * Everything a single-label evaluation reports, from the true labels and the N x k probabilities
 * (prediction = argmax, first on ties). CIs are percentile bootstraps over items; all four metrics use
 * the same resamples (same seed).
 */
export function classificationReport(
  yTrue: number[],
  probs: ArrayLike<number>[],
  opts: ClassificationReportOptions = {},
): ClassificationReport {
  checkSameLength('yTrue', yTrue, 'probs', probs);
  const k = checkMatrix('probs', probs);
  checkLabels('yTrue', yTrue, k);
  const yPred = probs.map(argmax);
  const n = yTrue.length;
  const boot = { samples: opts.bootstrap ?? 1000, seed: opts.seed ?? 0, alpha: opts.alpha };
  const pick = <T>(a: ArrayLike<T>, idx: number[]): T[] => idx.map((i) => a[i]);
  const ovr = rocAucOvR(yTrue, probs);
  const calibration = expectedCalibrationError(yTrue, probs, opts.nBins ?? 15);
  return {
    n,
    accuracy: bootstrapCI(n, (idx) => accuracy(pick(yTrue, idx), pick(yPred, idx)), boot),
    balancedAccuracy: bootstrapCI(n, (idx) => balancedAccuracy(pick(yTrue, idx), pick(yPred, idx), k), boot),
    macroF1: bootstrapCI(n, (idx) => f1Scores(pick(yTrue, idx), pick(yPred, idx), k).macro, boot),
    macroAuroc: bootstrapCI(n, (idx) => rocAucOvR(pick(yTrue, idx), pick(probs, idx)).macro, boot),
    perClassAuroc: ovr.perClass,
    perClassF1: f1Scores(yTrue, yPred, k).perClass,
    ece: calibration.ece,
    confusion: confusionMatrix(yTrue, yPred, k),
    reliability: calibration.bins,
    roc: Array.from({ length: k }, (_, c) => {
      const { fpr, tpr } = rocCurve(
        yTrue.map((y) => (y === c ? 1 : 0)),
        probs.map((row) => row[c]),
      );
      return { fpr, tpr };
    }),
  };
}

/** Collects single-label items batch by batch; `result()` = `classificationReport` on everything added. */
export class ClassificationAccumulator {
  private readonly truth: number[] = [];
  private readonly probs: number[][] = [];

  /** Add a batch: true class indices and their probability rows. */
  add(yTrue: number[], probs: ArrayLike<number>[]): void {
    checkSameLength('yTrue', yTrue, 'probs', probs);
    for (let i = 0; i < yTrue.length; i++) {
      this.truth.push(yTrue[i]);
      this.probs.push(Array.from(probs[i]));
    }
  }

  /** Number of items added so far. */
  get size(): number {
    return this.truth.length;
  }

  /** The report over all items added so far. */
  result(opts: ClassificationReportOptions = {}): ClassificationReport {
    return classificationReport(this.truth, this.probs, opts);
  }
}
