/**
 * medvlm's metrics: pure functions, each with an accumulator class that gives the same numbers.
 * Definitions, references and tolerances: docs/metrics.md.
 */
export { type CI, bootstrapCI, mulberry32, quantileSorted } from './bootstrap.js';
export { confusionMatrix, accuracy, balancedAccuracy, f1Scores, f1FromCounts } from './classification.js';
export { rocCurve, rocAucBinary, rocAucOvR, trapezoid, nanMean, type RocCurve } from './roc.js';
export { expectedCalibrationError, type CalibrationBin } from './calibration.js';
export { multilabelMetrics, MultilabelAccumulator, type MultilabelResult } from './multilabel.js';
export {
  classificationReport,
  ClassificationAccumulator,
  type ClassificationReport,
  type ClassificationReportOptions,
} from './report.js';
export { retrievalMetrics, RetrievalAccumulator, ranksOf, type RetrievalResult } from './retrieval.js';
export * from './text.js';
export {
  normalizeAnswer,
  closedAccuracy,
  openTokenScores,
  openTokenItem,
  VqaAccumulator,
  type OpenTokenScores,
  type VqaResult,
} from './vqa.js';
