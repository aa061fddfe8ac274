/** The full single-label classification report: point metrics with bootstrap CIs, ROC, calibration. */
import { bootstrapCI, type CI } from './bootstrap.js';
import { expectedCalibrationError, type CalibrationBin } from './calibration.js';
import { confusionMatrix, f1Scores } from './classification.js';
import { confusionStats, multiplicities, sortScores, weightedAuc, weightedConfusion } from './resample.js';
import { nanMean, rocAucOvR, rocCurve } from './roc.js';
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
 * the same resamples (same seed). `value`s equal `accuracy`, `balancedAccuracy`, `f1Scores().macro` and
 * `rocAucOvR().macro` (AUROC to ~1e-15: the bootstrap path sums the trapezoid in integers).
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
  const ovr = rocAucOvR(yTrue, probs);
  const calibration = expectedCalibrationError(yTrue, probs, opts.nBins ?? 15);
  const sorted = Array.from({ length: k }, (_, c) =>
    sortScores(
      yTrue.map((y) => y === c),
      probs.map((row) => row[c]),
    ),
  );
  const counts = (idx: number[]) => confusionStats(weightedConfusion(yTrue, yPred, k, multiplicities(n, idx)));
  const auroc = (idx: number[]): number => {
    const w = multiplicities(n, idx);
    return nanMean(sorted.map((s) => weightedAuc(s, w)));
  };
  return {
    n,
    accuracy: bootstrapCI(n, (idx) => counts(idx).accuracy, boot),
    balancedAccuracy: bootstrapCI(n, (idx) => counts(idx).balancedAccuracy, boot),
    macroF1: bootstrapCI(n, (idx) => counts(idx).macroF1, boot),
    macroAuroc: bootstrapCI(n, auroc, boot),
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
