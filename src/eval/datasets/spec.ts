/**
 * Data set descriptions as data: the JSON files in `datasets/` (one per data set) say where the files
 * are, how to read them, the class names with their label sentences, the prompt templates, the
 * splits and which tasks apply. This module validates them.
 */
import { readFileSync } from 'node:fs';
import { inputError } from '../../core/errors.js';
import { EVAL_TASKS, type EvalTask } from './types.js';

/** A row filter: leave out rows whose `field` starts with `startsWith`. */
export interface DropRule {
  field: string;
  startsWith: string;
}

/**
 * A manifest (JSONL, or CSV with a header): one row per item. Image paths are relative to the
 * manifest's folder. `format: "medpix"` is a manifest with MedPix 2.0's field names as defaults
 * (image, caption); rows are dropped only by explicit `drop` rules.
 */
export interface ManifestSource {
  format: 'manifest' | 'medpix';
  /** Relative to the data root. */
  path: string;
  /** Field with the image path; a JSON array (JSONL) or `a|b` (CSV) gives several images per item. */
  image?: string;
  /** Field with the class name (single-label). */
  label?: string;
  /** Field with several class names: a JSON array or `a|b` (multi-label). */
  labels?: string;
  /** Field with the caption (retrieval); a JSON array gives several. */
  caption?: string;
  question?: string;
  answer?: string;
  /** Field that makes the item id (default: the image field). */
  id?: string;
  drop?: DropRule[];
}

/** Folder per class: `<path>/<class>/<image>`, or `<path>/<split>/<class>/<image>` with `split.kind: "folders"`. */
export interface FolderSource {
  format: 'folder';
  path: string;
}

/** A MedMNIST `.npz`: `<split>_images` (N x H x W uint8, or N x H x W x 3) and `<split>_labels` (N x 1, or N x K multi-label). */
export interface MedMnistSource {
  format: 'medmnist';
  path: string;
}

/** VQA-RAD's `qa.jsonl`: rows of question/answer per image; items are the unique images with their QA pairs. */
export interface VqaRadSource {
  format: 'vqarad';
  path: string;
  /** Field with the class name (default `image_organ`). */
  label?: string;
}

/** Where the files are and how to read them. */
export type DatasetSource = ManifestSource | FolderSource | MedMnistSource | VqaRadSource;

/** A seeded stratified split of all items: fractions of each class for train / val / test. */
export interface StratifiedSplit {
  kind: 'stratified';
  seed: number;
  train: number;
  val: number;
  test: number;
}

/** How items are assigned to train / val / test. Values are the names used in the data. */
export type SplitSpec =
  | { kind: 'field'; field: string; test: string; train?: string; val?: string }
  | { kind: 'arrays'; test: string; train?: string; val?: string }
  | { kind: 'folders'; test: string; train?: string; val?: string }
  | { kind: 'file'; file: string; fallback: StratifiedSplit }
  | StratifiedSplit
  | { kind: 'all' };

/** One class: its name in the data and the sentence the zero-shot task embeds for it. */
export interface ClassSpec {
  name: string;
  sentence: string;
}

/** A data set description (`datasets/<id>.json`). */
export interface DatasetSpec {
  id: string;
  title: string;
  description?: string;
  licence?: string;
  citation?: string;
  /** True when nothing may be trained or tuned on it (VQA-RAD). */
  evaluationOnly?: boolean;
  source: DatasetSource;
  classes?: ClassSpec[];
  multiLabel?: boolean;
  /** Template set name (templates/) or the templates themselves. */
  templates?: string | string[];
  split: SplitSpec;
  tasks: EvalTask[];
}

const FORMATS = ['manifest', 'medpix', 'folder', 'medmnist', 'vqarad'];
const SPLIT_KINDS = ['field', 'arrays', 'folders', 'file', 'stratified', 'all'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Check a parsed description and return it typed.
 * @throws InputError E_DATASET_INVALID naming the file and the first thing wrong.
 */
export function validateDatasetSpec(value: unknown, file: string): DatasetSpec {
  const bad = (what: string) => inputError('E_DATASET_INVALID', file, what);
  if (!isObject(value)) throw bad('expected a JSON object');
  const v = value;
  if (typeof v.id !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(v.id)) throw bad('"id" must be a lower-case name such as "medpix-modality"');
  if (typeof v.title !== 'string') throw bad('"title" must be a string');
  if (!isObject(v.source) || typeof v.source.format !== 'string' || !FORMATS.includes(v.source.format)) {
    throw bad(`"source.format" must be one of ${FORMATS.join(', ')}`);
  }
  if (typeof v.source.path !== 'string') throw bad('"source.path" must be a path relative to the data root');
  if (!isObject(v.split) || typeof v.split.kind !== 'string' || !SPLIT_KINDS.includes(v.split.kind)) {
    throw bad(`"split.kind" must be one of ${SPLIT_KINDS.join(', ')}`);
  }
  if (!Array.isArray(v.tasks) || !v.tasks.every((t) => (EVAL_TASKS as readonly string[]).includes(t as string))) {
    throw bad(`"tasks" must list some of ${EVAL_TASKS.join(', ')}`);
  }
  if (v.classes !== undefined) {
    if (!Array.isArray(v.classes) || v.classes.length < 2 || !v.classes.every((c) => isObject(c) && typeof c.name === 'string' && typeof c.sentence === 'string')) {
      throw bad('"classes" must be at least two {"name", "sentence"} objects');
    }
  }
  const t = v.templates;
  if (t !== undefined && typeof t !== 'string' && !(Array.isArray(t) && t.length > 0 && t.every((s) => typeof s === 'string' && s.includes('{}')))) {
    throw bad('"templates" must be a template set name or a list of strings containing {}');
  }
  const needsClasses = (v.tasks as string[]).some((x) => x === 'zeroshot' || x === 'fewshot');
  if (needsClasses && v.classes === undefined) throw bad('"classes" are required for the zeroshot and fewshot tasks');
  return v as unknown as DatasetSpec;
}

/** Read and validate one description file. */
export function readDatasetSpec(file: string): DatasetSpec {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw inputError('E_DATASET_INVALID', file, `not valid JSON (${(e as Error).message})`, e);
  }
  return validateDatasetSpec(parsed, file);
}
