import { OptionError } from '../core/errors.js';
import type { DualEncoder, ScoringRule } from '../models/capabilities.js';
import { encodeFiles, isFileError, type EncodeFilesOptions, type FileError } from './encode-files.js';
import { DEFAULT_TEMPLATES, fillTemplate, loadTemplates, type TemplateSet } from './templates.js';

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
    throw new OptionError('E_LABELS_EMPTY', '--labels: no labels given (expected a comma-separated list such as "CT,MRI,X-ray")');
  }
  return unique;
}

/** Mean of L2-normalised vectors, normalised again (CLIP's prompt ensembling). */
export function meanNormalised(vectors: Float32Array[]): Float32Array {
  const out = new Float32Array(vectors[0].length);
  for (const v of vectors) for (let i = 0; i < v.length; i++) out[i] += v[i];
  return normalise(out);
}

/** L2-normalise in place and return the vector. */
export function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

/** Dot product (cosine similarity for normalised vectors). */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** One text embedding per label, ensembled over the templates. */
export async function labelEmbeddings(encoder: DualEncoder, labels: string[], templates: TemplateSet): Promise<Float32Array[]> {
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

/** Options of `classifyFiles`. */
export interface ClassifyOptions extends EncodeFilesOptions {
  labels: string | string[];
  /** Built-in template set name or JSON file (default "medical"). */
  templates?: string | TemplateSet;
}

/**
 * Zero-shot classification of image files. Files that cannot be read get `{file, error}` and the
 * others still get their labels; the order of `files` is kept.
 */
export async function classifyFiles(
  encoder: DualEncoder,
  files: string[],
  opts: ClassifyOptions,
): Promise<Array<ClassifyResult | FileError>> {
  const labels = parseLabels(opts.labels);
  const templates = typeof opts.templates === 'object' ? opts.templates : loadTemplates(opts.templates ?? DEFAULT_TEMPLATES);
  const labelEmbs = await labelEmbeddings(encoder, labels, templates);
  const encoded = await encodeFiles(encoder, files, opts);
  return encoded.map((r) =>
    isFileError(r) ? r : { file: r.file, labels: rankLabels(labels, scoreLabels(encoder, r.embedding, labelEmbs)) },
  );
}
