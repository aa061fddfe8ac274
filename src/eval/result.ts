/** The JSON every evaluation cell writes (one file per model × data set × task). */
import type { ClassificationReport, MultilabelResult, RetrievalResult } from '../metrics/index.js';
import type { ScoringRule } from '../models/capabilities.js';
import type { EvalTask } from './datasets/types.js';
import type { ItemFailure } from './embed.js';

/** Schema tag of a cell result; bump on incompatible changes. */
export const CELL_SCHEMA = 'medvlm.eval.cell/1';

/** Mean, sample standard deviation (n - 1; 0 for one value) and the per-seed values. */
export interface MeanSd {
  mean: number;
  sd: number;
  values: number[];
}

/** Zero-shot, single-label: the metrics package's classification report. */
export interface ZeroShotSingle extends ClassificationReport {
  kind: 'single-label';
  /** How scores became probabilities for the metrics. */
  probabilities: string;
}

/** Zero-shot, multi-label. */
export interface ZeroShotMulti extends MultilabelResult {
  kind: 'multi-label';
  n: number;
  threshold: number;
}

/** Few-shot results of one method at one shot count, over seeds. */
export interface ShotRow {
  k: number;
  /** Shots per class actually drawn (fewer than k when a class has fewer training items), per seed. */
  shotsPerClass: number[][];
  accuracy: MeanSd;
  balancedAccuracy: MeanSd;
  macroF1: MeanSd;
  macroAuroc: MeanSd;
}

/** Few-shot cell metrics. */
export interface FewShotMetrics {
  kind: 'few-shot';
  n: number;
  shots: number[];
  seeds: number[];
  train: { split: string; n: number; splitHash: string };
  hyper: { linearProbe: { C: number; solver: string }; tipAdapter: { alpha: number; beta: number; logitScale: number } };
  /** The zero-shot classifier on the same test items (k = 0 of both curves). */
  zeroShot: { accuracy: number; balancedAccuracy: number; macroF1: number; macroAuroc: number };
  methods: { linearProbe: ShotRow[]; tipAdapter: ShotRow[] };
}

/** Retrieval in one direction. */
export interface RetrievalDirection extends RetrievalResult {
  nQueries: number;
  nGallery: number;
}

/** Retrieval cell metrics. */
export interface RetrievalMetricsResult {
  kind: 'retrieval';
  n: number;
  ks: number[];
  uniqueCaptions: number;
  imageToText: RetrievalDirection;
  textToImage: RetrievalDirection;
}

/** Any cell's metrics. */
export type CellMetrics = ZeroShotSingle | ZeroShotMulti | FewShotMetrics | RetrievalMetricsResult;

/**
 * One test item's output in a cell, kept so results can be re-analysed (e.g. paired comparisons of two
 * models on the same items) without rerunning: zero-shot cells store the class scores behind the metrics.
 */
export interface CellItem {
  /** The data set's item id (stable across models). */
  id: string;
  /** Class index (single-label) or class indices present (multi-label). */
  truth: number | number[];
  /** Class probabilities (single-label) or independent class scores (multi-label), 8 decimals. */
  scores: number[];
}

/**
 * Per-item outputs of a few-shot cell: the test items' class probabilities (8 decimals) for every
 * method, shot count and seed, so two models' few-shot cells can be compared on the same items.
 */
export interface FewShotItems {
  ids: string[];
  truth: number[];
  runs: Array<{ method: 'linearProbe' | 'tipAdapter'; k: number; seed: number; scores: number[][] }>;
}

/**
 * Per-item outputs of a retrieval cell: the 1-based rank of each query's best-ranked relevant item.
 * Image queries are named by item id, text queries by the sha256 of the caption (first 16 hex digits).
 */
export interface RetrievalItems {
  imageToText: Array<{ id: string; rank: number }>;
  textToImage: Array<{ id: string; rank: number }>;
}

/** One cell's result file. */
export interface CellResult {
  schema: typeof CELL_SCHEMA;
  medvlmVersion: string;
  node: string;
  createdAt: string;
  task: EvalTask;
  model: {
    id: string;
    family: string;
    dtype: string;
    embedDim: number;
    fileHashes: Record<string, string>;
    scoring: ScoringRule;
    logitScale: number;
    logitBias: number;
  };
  dataset: {
    id: string;
    title: string;
    split: 'test';
    splitSource: string;
    splitHash: string;
    /** Items the metrics are measured on (after failures are left out). */
    n: number;
    classes: string[];
    licence?: string;
    evaluationOnly: boolean;
    notes: string[];
  };
  prompts?: { templateSet: string; templates: string[]; sentences: string[] };
  seed: number;
  bootstrap: number;
  view: unknown;
  metrics: CellMetrics;
  /** Per-item outputs (zero-shot cells; absent in cells written before they were recorded). */
  items?: CellItem[];
  /** Per-item outputs of few-shot cells (absent in cells written before they were recorded). */
  fewShotItems?: FewShotItems;
  /** Per-query outputs of retrieval cells (absent in cells written before they were recorded). */
  retrievalItems?: RetrievalItems;
  failures: ItemFailure[];
  timings: {
    totalMs: number;
    embedMs: number;
    encodeImagesMs: number;
    textMs: number;
    metricsMs: number;
    images: number;
    imagesEncoded: number;
    imagesFromCache: number;
  };
  researchNotice: string;
}
