import { optionError } from '../core/errors.js';
import type { DualEncoder, ScoringRule } from '../models/capabilities.js';
import { dot, meanNormalised } from '../core/vectors.js';
import type { ImageInput } from '../io/image-input.js';
import { encodeImageInputs, isFileError, type BatchOptions, type FileError } from './batch.js';
import { fillTemplate, type TemplateSet } from './templates.js';

/** One label's score for one image. */
export interface LabelScore {
  label: string;
  score: number;
}

/** Zero-shot result for one file: labels sorted by score, highest first. */
export interface ClassifyResult {
  file: string;
  labels: LabelScore[];
}

/** How a model turns cosine similarities into scores (a property of the model). */
export interface Scorer {
  scoring: ScoringRule;
  logitScale: number;
  logitBias: number;
}

/**
 * Split and clean a label list ("a, b ,c" or an array). Empty items are dropped, duplicates removed.
 * @throws OptionError E_LABELS_EMPTY when no label is left.
 */
export function parseLabels(labels: string | string[]): string[] {
  const items = (Array.isArray(labels) ? labels : labels.split(',')).map((l) => l.trim()).filter((l) => l.length > 0);
  const unique = [...new Set(items)];
  if (unique.length === 0) {
    throw optionError('labels', 'no labels given (expected a comma-separated list such as "CT,MRI,X-ray")', 'E_LABELS_EMPTY');
  }
  return unique;
}

/** One text embedding per label, ensembled over the templates. */
export async function labelEmbeddings(encoder: Pick<DualEncoder, 'encodeTexts'>, labels: string[], templates: TemplateSet): Promise<Float32Array[]> {
  const texts = labels.flatMap((l) => templates.templates.map((t) => fillTemplate(t, l)));
  const embs = await encoder.encodeTexts(texts);
  const k = templates.templates.length;
  return labels.map((_, i) => meanNormalised(embs.slice(i * k, (i + 1) * k)));
}

/**
 * Scores of one image embedding against label embeddings: softmax over labels for 'softmax' models
 * (they sum to 1), an independent sigmoid per label for 'sigmoid' models.
 */
export function scoreLabels(scorer: Scorer, image: Float32Array, labelEmbs: Float32Array[]): number[] {
  const logits = labelEmbs.map((t) => scorer.logitScale * dot(image, t) + scorer.logitBias);
  if (scorer.scoring === 'sigmoid') return logits.map((z) => 1 / (1 + Math.exp(-z)));
  const m = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** Labels with scores, sorted highest first. */
export function rankLabels(labels: string[], scores: number[]): LabelScore[] {
  return labels.map((label, i) => ({ label, score: scores[i] })).sort((a, b) => b.score - a.score);
}

/**
 * Label embeddings of one encoder, cached per (template set, label): a pipeline asked the same labels
 * again, or a superset of them, encodes only what it has not seen.
 */
export class LabelEmbeddingCache {
  private readonly known = new Map<string, Float32Array>();

  constructor(private readonly encoder: Pick<DualEncoder, 'encodeTexts'>) {}

  /** One embedding per label, in order. */
  async get(labels: string[], templates: TemplateSet): Promise<Float32Array[]> {
    const key = (label: string) => `${JSON.stringify(templates.templates)}\u0000${label}`;
    const missing = labels.filter((l, i) => !this.known.has(key(l)) && labels.indexOf(l) === i);
    if (missing.length) {
      const embs = await labelEmbeddings(this.encoder, missing, templates);
      missing.forEach((l, i) => this.known.set(key(l), embs[i]));
    }
    return labels.map((l) => this.known.get(key(l))!);
  }
}

/** Options of `classifyInputs`. */
export interface ClassifyOptions extends BatchOptions {
  labels: string | string[];
  /** The prompt templates (resolve names and files with `resolveTemplates` in Node). */
  templates: TemplateSet;
  /** Reuse label embeddings across calls (a pipeline keeps one). */
  labelCache?: LabelEmbeddingCache;
}

/**
 * Zero-shot classification of images (paths, URLs, bytes, decoded images). Inputs that cannot be read
 * get `{file, error}` and the others still get their labels; the order of `inputs` is kept.
 */
export async function classifyInputs(
  encoder: DualEncoder,
  inputs: readonly ImageInput[],
  opts: ClassifyOptions,
): Promise<Array<ClassifyResult | FileError>> {
  const labels = parseLabels(opts.labels);
  const labelEmbs = await (opts.labelCache ?? new LabelEmbeddingCache(encoder)).get(labels, opts.templates);
  const encoded = await encodeImageInputs(encoder, inputs, opts);
  return encoded.map((r) => (isFileError(r) ? r : { file: r.file, labels: rankLabels(labels, scoreLabels(encoder, r.embedding, labelEmbs)) }));
}
