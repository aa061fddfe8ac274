/** Zero-shot classification metrics of a data set from item embeddings and label sentences. */
import { classificationReport, multilabelMetrics } from '../../metrics/index.js';
import type { DualEncoder } from '../../models/capabilities.js';
import { labelEmbeddings, scoreLabels, type Scorer } from '../../tasks/zero-shot.js';
import type { Dataset } from '../datasets/types.js';
import type { CellItem, ZeroShotMulti, ZeroShotSingle } from '../result.js';

/** Class text embeddings of a data set (label sentences ensembled over its templates). */
export function classEmbeddings(encoder: DualEncoder, dataset: Dataset): Promise<Float32Array[]> {
  return labelEmbeddings(encoder, dataset.sentences, dataset.templates);
}

/**
 * Per-item class probabilities for single-label metrics: the model's scores (softmax for CLIP-style
 * models; sigmoid scores of SigLIP-style models are divided by their sum so that rows sum to 1).
 */
export function zeroShotProbs(encoder: Scorer, images: Float32Array[], classEmbs: Float32Array[]): number[][] {
  return images.map((img) => {
    const s = scoreLabels(encoder, img, classEmbs);
    if (encoder.scoring === 'softmax') return s;
    const sum = s.reduce((a, b) => a + b, 0) || 1;
    return s.map((v) => v / sum);
  });
}

/** Per-item scores the metrics are computed from: class probabilities (single-label) or independent class scores (multi-label). */
export function zeroShotScores(encoder: Scorer, dataset: Dataset, images: Float32Array[], classEmbs: Float32Array[]): number[][] {
  return dataset.multiLabel ? images.map((img) => scoreLabels(encoder, img, classEmbs)) : zeroShotProbs(encoder, images, classEmbs);
}

/** Per-item outputs of a zero-shot cell (id, truth, the scores behind the metrics), for paired re-analysis. */
export function zeroShotItems(ids: string[], truth: { label?: number; labels?: number[] }[], scores: number[][]): CellItem[] {
  return ids.map((id, i) => ({ id, truth: truth[i].labels ?? truth[i].label!, scores: scores[i].map((v) => Math.round(v * 1e8) / 1e8) }));
}

/** Zero-shot metrics: the classification report (single-label) or multi-label metrics at threshold 0.5. */
export function zeroShotMetrics(
  encoder: Scorer,
  dataset: Dataset,
  images: Float32Array[],
  truth: { label?: number; labels?: number[] }[],
  classEmbs: Float32Array[],
  opts: { bootstrap: number; seed: number; scores?: number[][] },
): ZeroShotSingle | ZeroShotMulti {
  if (dataset.multiLabel) {
    // independent scores per class: sigmoid models as they are; softmax models get per-class softmax scores
    const probs = opts.scores ?? zeroShotScores(encoder, dataset, images, classEmbs);
    return { kind: 'multi-label', n: images.length, threshold: 0.5, ...multilabelMetrics(truth.map((t) => t.labels!), probs, 0.5) };
  }
  const probs = opts.scores ?? zeroShotProbs(encoder, images, classEmbs);
  const report = classificationReport(truth.map((t) => t.label!), probs, { bootstrap: opts.bootstrap, seed: opts.seed });
  return {
    kind: 'single-label',
    probabilities: encoder.scoring === 'softmax' ? 'softmax over classes' : 'sigmoid scores divided by their sum over classes',
    ...report,
  };
}
