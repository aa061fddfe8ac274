/** Expected calibration error with equal-width confidence bins. */
import { argmax, checkLabels, checkMatrix, checkSameLength, metricsError } from './validate.js';

/** One reliability-diagram bin: items whose confidence lies in (lo, hi] (the first bin also holds 0). */
export interface CalibrationBin {
  lo: number;
  hi: number;
  count: number;
  /** Mean max-probability of the bin's items (0 when the bin is empty). */
  confidence: number;
  /** Fraction of the bin's items whose argmax is the true class (0 when the bin is empty). */
  accuracy: number;
}

/**
 * ECE (Guo et al. 2017): confidence = max probability, prediction = argmax (first on ties); items go
 * into `nBins` equal-width bins on [0, 1], bin b = (b/nBins, (b+1)/nBins]; ECE = sum over bins of
 * (count/N) * |accuracy - confidence|. Edges are `b * (1/nBins)` with the last edge exactly 1, as
 * `numpy.linspace(0, 1, nBins + 1)`. Default 15 bins. NaN for no items.
 */
export function expectedCalibrationError(
  yTrue: number[],
  probs: ArrayLike<number>[],
  nBins = 15,
): { ece: number; bins: CalibrationBin[] } {
  checkSameLength('yTrue', yTrue, 'probs', probs);
  const k = checkMatrix('probs', probs);
  checkLabels('yTrue', yTrue, Math.max(k, 1));
  if (!Number.isInteger(nBins) || nBins < 1) throw metricsError(`nBins must be a positive integer, got ${nBins}`);
  const edges = Array.from({ length: nBins + 1 }, (_, b) => (b === nBins ? 1 : b * (1 / nBins)));
  const count = new Array<number>(nBins).fill(0);
  const confSum = new Array<number>(nBins).fill(0);
  const hitSum = new Array<number>(nBins).fill(0);
  for (let i = 0; i < yTrue.length; i++) {
    const pred = argmax(probs[i]);
    const conf = probs[i][pred];
    const b = binOf(conf, edges);
    count[b]++;
    confSum[b] += conf;
    if (pred === yTrue[i]) hitSum[b]++;
  }
  const n = yTrue.length;
  let ece = 0;
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < nBins; b++) {
    const c = count[b];
    const confidence = c === 0 ? 0 : confSum[b] / c;
    const acc = c === 0 ? 0 : hitSum[b] / c;
    if (c > 0) ece += (c / n) * Math.abs(acc - confidence);
    bins.push({ lo: edges[b], hi: edges[b + 1], count: c, confidence, accuracy: acc });
  }
  return { ece: n === 0 ? NaN : ece, bins };
}

function binOf(conf: number, edges: number[]): number {
  const nBins = edges.length - 1;
  for (let b = 0; b < nBins; b++) if (conf <= edges[b + 1]) return b;
  return nBins - 1;
}
