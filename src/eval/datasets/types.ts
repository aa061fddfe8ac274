/** The evaluation's view of a data set: items with images and targets, split into roles. */
import type { TemplateSet } from '../../tasks/templates.js';
import type { DatasetSpec } from './spec.js';

/** The evaluation tasks the runner knows. */
export const EVAL_TASKS = ['zeroshot', 'fewshot', 'retrieval'] as const;

/** One evaluation task. */
export type EvalTask = (typeof EVAL_TASKS)[number];

/** Where an item's image comes from: a file on disk, or 8-bit pixels already in memory (MedMNIST). */
export type ImageRef =
  | { kind: 'file'; path: string }
  | { kind: 'pixels'; name: string; width: number; height: number; channels: 1 | 3; data: Uint8Array };

/** A question-answer pair attached to an item (VQA-RAD). */
export interface QAPair {
  question: string;
  answer: string;
  answerType?: string;
}

/** One evaluation item: its image(s) and targets. An item with several images is embedded as their normalised mean. */
export interface EvalItem {
  /** Unique within the data set and stable across runs (a relative path, or `<split>/<index>`). */
  id: string;
  images: ImageRef[];
  /** Class index (single-label data sets). */
  label?: number;
  /** 0/1 per class (multi-label data sets). */
  labels?: number[];
  captions?: string[];
  qa?: QAPair[];
}

/** The roles a split can play in an evaluation. */
export type SplitRole = 'train' | 'val' | 'test';

/** A data set loaded for evaluation. */
export interface Dataset {
  spec: DatasetSpec;
  id: string;
  /** Class names as they appear in the data, in class-index order. */
  classes: string[];
  /** The label sentence of each class (the text the zero-shot task embeds), same order. */
  sentences: string[];
  /** Prompt templates the sentences are put into. */
  templates: TemplateSet;
  multiLabel: boolean;
  /** Items per role; `test` is what results are measured on. */
  splits: Partial<Record<SplitRole, EvalItem[]>> & { test: EvalItem[] };
  /** How the split was made (e.g. "manifest field split", "file models/.../busi.json", "stratified 70/10/20 seed 0"). */
  splitSource: string;
  /** Facts worth recording: rows dropped and why, fallbacks taken. */
  notes: string[];
}
