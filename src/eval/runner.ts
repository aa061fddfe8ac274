/**
 * The evaluation grid: every (model, data set, task) cell writes one JSON result atomically; a cell whose
 * file exists is skipped (unless `force`), so an interrupted run resumes where it stopped. Image
 * embeddings go through the on-disk cache, so a second run over the same images does not encode them again.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { errorToJSON, inputError, type ErrorCode } from '../core/errors.js';
import { packageVersion } from '../core/paths.js';
import type { DualEncoder } from '../models/capabilities.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import type { ViewOptions } from '../transforms/index.js';
import { removeStaleTempFiles, writeAtomic } from '../core/atomic.js';
import { EmbeddingCache } from './cache.js';
import { datasetPresent, findDatasetSpec, loadDataset, resolveDataRoot } from './datasets/registry.js';
import type { DatasetSpec } from './datasets/spec.js';
import { splitHash } from './datasets/split.js';
import type { Dataset, EvalItem, EvalTask } from './datasets/types.js';
import { embedItems, type EmbeddedItems, type ItemFailure } from './embed.js';
import { CELL_SCHEMA, type CellItem, type CellMetrics, type CellResult, type FewShotItems, type RetrievalItems } from './result.js';
import { FEWSHOT_DEFAULTS, fewShotMetrics, shotOrder } from './tasks/fewshot.js';
import { captionGallery, retrievalResult } from './tasks/retrieval.js';
import { classEmbeddings, zeroShotItems, zeroShotMetrics, zeroShotScores } from './tasks/zero-shot.js';

/** One cell of the grid. */
export interface Cell {
  model: string;
  dataset: string;
  task: EvalTask;
}

/** What the runner reports while it works (the CLI turns these into lines and progress bars). */
export type EvalEvent =
  | { type: 'dataset-missing'; dataset: string; message: string }
  | { type: 'cell-skip'; cell: Cell; reason: 'exists' | 'not-applicable'; detail: string }
  | { type: 'cell-start'; cell: Cell; index: number; total: number }
  | { type: 'embed-start'; cell: Cell; split: string; images: number }
  | { type: 'embed-progress'; done: number; total: number; name: string }
  | { type: 'embed-end'; cell: Cell }
  | { type: 'cell-done'; cell: Cell; file: string; result: CellResult }
  | { type: 'cell-failed'; cell: Cell; error: { code: ErrorCode; message: string } };

/** Options of `runEval`. */
export interface RunEvalOptions {
  models: string[];
  /** Data set ids (or description files). */
  datasets: string[];
  tasks: EvalTask[];
  /** Results folder. */
  out: string;
  /** Loads a model by id (the CLI passes its loader; tests may count calls). */
  load: (model: string) => Promise<DualEncoder>;
  dataRoot?: string;
  /** Embedding cache folder (default `$MEDVLM_CACHE/embeddings`, else `<out>/.cache/medvlm/embeddings`). */
  cacheDir?: string;
  force?: boolean;
  /** First seed (default 0): bootstrap seed, and few-shot seeds seed … seed + seeds - 1. */
  seed?: number;
  /** Few-shot seeds (default 3). */
  seeds?: number;
  /** Few-shot shots per class (default 1, 2, 4, 8, 16). */
  shots?: number[];
  /** Bootstrap resamples for the CIs (default 1000). */
  bootstrap?: number;
  /** Linear-probe C (default 1, as sklearn). */
  probeC?: number;
  view?: ViewOptions;
  batchSize?: number;
  onEvent?: (e: EvalEvent) => void;
  /** Stops the grid: no further cell starts, and a cell being embedded stops at its next batch (not recorded as failed). */
  signal?: AbortSignal;
}

/** What a run did. */
export interface EvalSummary {
  written: string[];
  skipped: Array<{ cell: Cell; reason: string }>;
  missingDatasets: Array<{ dataset: string; message: string }>;
  failed: Array<{ cell: Cell; error: { code: ErrorCode; message: string } }>;
}

/** A file-system-safe name for a model id: hub ids keep their name, folders get basename + a short hash of the path. */
export function modelSlug(id: string): string {
  const looksLikePath = id.startsWith('.') || id.startsWith('/') || id.includes('\\') || (existsSync(id) && id.includes('/'));
  if (looksLikePath) {
    const abs = resolve(id);
    return `${basename(abs).replace(/[^A-Za-z0-9._-]+/g, '_')}-${createHash('sha256').update(abs).digest('hex').slice(0, 8)}`;
  }
  return id.replace(/[^A-Za-z0-9._-]+/g, '--');
}

/** Path of a cell's result file (any grid's cell: classification, dense or generative task names). */
export function cellPath(out: string, cell: Pick<Cell, 'model' | 'dataset'> & { task: string }): string {
  return join(out, modelSlug(cell.model), cell.dataset, `${cell.task}.json`);
}

/** Default embedding cache folder for a results folder. */
export function defaultCacheDir(out: string): string {
  return process.env.MEDVLM_CACHE ? join(process.env.MEDVLM_CACHE, 'embeddings') : join(out, '.cache', 'medvlm', 'embeddings');
}

function isComplete(file: string): boolean {
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { schema?: string }).schema === CELL_SCHEMA;
  } catch {
    return false;
  }
}

/** Why a task does not apply to a data set, or undefined when it does. */
export function notApplicable(spec: DatasetSpec, task: EvalTask): string | undefined {
  if (!spec.tasks.includes(task)) return `${spec.id} does not offer ${task} (it offers ${spec.tasks.join(', ')})`;
  if (task === 'fewshot' && spec.evaluationOnly) return `${spec.id} is evaluation-only: nothing may be trained on it`;
  if (task === 'fewshot' && spec.multiLabel) return 'few-shot is implemented for single-label data sets only';
  return undefined;
}

/** Per (model, data set) state shared by its cells. */
interface Context {
  encoder: DualEncoder;
  dataset: Dataset;
  cache: EmbeddingCache;
}

/** Embed items with progress events. */
async function embed(ctx: Context, cell: Cell, split: string, items: EvalItem[], opts: RunEvalOptions): Promise<EmbeddedItems> {
  const emit = opts.onEvent ?? (() => {});
  emit({ type: 'embed-start', cell, split, images: items.reduce((a, it) => a + it.images.length, 0) });
  try {
    return await embedItems(ctx.encoder, items, {
      cache: ctx.cache,
      view: opts.view ?? {},
      batchSize: opts.batchSize ?? 16,
      onProgress: (done, total, name) => {
        opts.signal?.throwIfAborted();
        emit({ type: 'embed-progress', done, total, name });
      },
    });
  } finally {
    emit({ type: 'embed-end', cell });
  }
}

/** The test items that embedded, with their embeddings. */
function kept(items: EvalItem[], e: EmbeddedItems): { items: EvalItem[]; embs: Float32Array[] } {
  const idx = items.map((_, i) => i).filter((i) => e.embeddings[i] !== null);
  return { items: idx.map((i) => items[i]), embs: idx.map((i) => e.embeddings[i]!) };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

/** Few-shot draws: the seeds, shot counts, each seed's shot order and the train items any draw needs. */
function fewShotDraws(dataset: Dataset, opts: Pick<RunEvalOptions, 'seed' | 'seeds' | 'shots'>): { seeds: number[]; shots: number[]; orders: Array<ReturnType<typeof shotOrder>>; items: EvalItem[] } {
  const train = dataset.splits.train ?? [];
  const seed = opts.seed ?? 0;
  const nSeeds = opts.seeds ?? FEWSHOT_DEFAULTS.seeds;
  const shots = opts.shots ?? [...FEWSHOT_DEFAULTS.shots];
  const seeds = Array.from({ length: nSeeds }, (_, i) => seed + i);
  const orders = seeds.map((s) => shotOrder(train, dataset.classes.length, s));
  const maxK = Math.max(...shots);
  const needed = new Map<string, EvalItem>();
  for (const order of orders) for (const list of order) for (const it of list.slice(0, maxK)) needed.set(it.id, it);
  return { seeds, shots, orders, items: [...needed.values()] };
}

/**
 * The items whose images a cell embeds, per split, in the order the cell embeds them (the test split,
 * then for few-shot the train items its draws need). A queue worker splits a cell into image batches
 * from this list, so the batches hold the images a local run encodes, in the same encoder batches.
 */
export function cellImageItems(dataset: Dataset, cell: Cell, opts: Pick<RunEvalOptions, 'seed' | 'seeds' | 'shots'> = {}): Array<{ split: 'test' | 'train'; items: EvalItem[] }> {
  const out: Array<{ split: 'test' | 'train'; items: EvalItem[] }> = [{ split: 'test', items: dataset.splits.test }];
  if (cell.task === 'fewshot' && (dataset.splits.train ?? []).length) out.push({ split: 'train', items: fewShotDraws(dataset, opts).items });
  return out;
}

/** Run one cell and return its result (not yet written). */
async function runCell(ctx: Context, cell: Cell, opts: RunEvalOptions): Promise<CellResult> {
  const t0 = performance.now();
  const { encoder, dataset } = ctx;
  const seed = opts.seed ?? 0;
  const bootstrap = opts.bootstrap ?? 1000;
  const test = dataset.splits.test;
  const testEmb = await embed(ctx, cell, 'test', test, opts);
  const { items, embs } = kept(test, testEmb);
  const failures: ItemFailure[] = [...testEmb.failures];
  let textMs = 0;
  let embedMs = testEmb.stats.totalMs;
  let encodeImagesMs = testEmb.stats.encodeMs;
  const counts = { images: testEmb.stats.images, imagesEncoded: testEmb.stats.encoded, imagesFromCache: testEmb.stats.fromCache };
  let metrics: CellMetrics;
  let metricsMs: number;
  let cellItems: CellItem[] | undefined;
  let fewShotItems: FewShotItems | undefined;
  let retrievalItems: RetrievalItems | undefined;
  if (cell.task === 'retrieval') {
    const { texts, ofItem } = captionGallery(items.map((it) => it.captions ?? []));
    const [textEmbs, ms] = await timed(() => encoder.encodeTexts(texts));
    textMs += ms;
    const m0 = performance.now();
    retrievalItems = { imageToText: [], textToImage: [] };
    metrics = retrievalResult(embs, textEmbs, ofItem, undefined, { imageIds: items.map((it) => it.id), texts, out: retrievalItems });
    metricsMs = performance.now() - m0;
  } else {
    const [classEmbs, ms] = await timed(() => classEmbeddings(encoder, dataset));
    textMs += ms;
    if (cell.task === 'zeroshot') {
      const m0 = performance.now();
      const scores = zeroShotScores(encoder, dataset, embs, classEmbs);
      metrics = zeroShotMetrics(encoder, dataset, embs, items, classEmbs, { bootstrap, seed, scores });
      cellItems = zeroShotItems(items.map((it) => it.id), items, scores);
      metricsMs = performance.now() - m0;
    } else {
      const train = dataset.splits.train ?? [];
      if (train.length === 0) throw inputError('E_DATASET_INVALID', dataset.id, `few-shot needs a train split to draw shots from; this data set has none (${dataset.splitSource})`);
      const { seeds, shots, orders, items: neededItems } = fewShotDraws(dataset, opts);
      const trainEmb = await embed(ctx, cell, 'train', neededItems, opts);
      embedMs += trainEmb.stats.totalMs;
      encodeImagesMs += trainEmb.stats.encodeMs;
      counts.images += trainEmb.stats.images;
      counts.imagesEncoded += trainEmb.stats.encoded;
      counts.imagesFromCache += trainEmb.stats.fromCache;
      failures.push(...trainEmb.failures);
      const byId = new Map(neededItems.map((it, i) => [it.id, trainEmb.embeddings[i]] as const));
      const m0 = performance.now();
      fewShotItems = { ids: items.map((it) => it.id), truth: items.map((it) => it.label!), runs: [] };
      metrics = fewShotMetrics({
        encoder,
        classes: dataset.classes.length,
        test: { embeddings: embs, labels: items.map((it) => it.label!) },
        orders,
        seeds,
        trainEmbedding: (id) => byId.get(id) ?? undefined,
        classEmbs,
        shots,
        C: opts.probeC ?? FEWSHOT_DEFAULTS.C,
        train: { split: 'train', n: train.length, splitHash: splitHash(train) },
      }, fewShotItems.runs);
      metricsMs = performance.now() - m0;
    }
  }
  const info = encoder.info;
  return {
    schema: CELL_SCHEMA,
    medvlmVersion: packageVersion(),
    node: process.version,
    createdAt: new Date().toISOString(),
    task: cell.task,
    model: {
      id: info.id,
      family: info.family,
      dtype: info.dtype,
      embedDim: info.embedDim,
      fileHashes: info.fileHashes,
      scoring: encoder.scoring,
      logitScale: encoder.logitScale,
      logitBias: encoder.logitBias,
    },
    dataset: {
      id: dataset.id,
      title: dataset.spec.title,
      split: 'test',
      splitSource: dataset.splitSource,
      splitHash: splitHash(items),
      n: items.length,
      classes: dataset.classes,
      ...(dataset.spec.licence ? { licence: dataset.spec.licence } : {}),
      evaluationOnly: Boolean(dataset.spec.evaluationOnly),
      notes: dataset.notes,
    },
    ...(cell.task !== 'retrieval' ? { prompts: { templateSet: dataset.templates.name, templates: dataset.templates.templates, sentences: dataset.sentences } } : {}),
    seed,
    bootstrap,
    view: opts.view ?? {},
    metrics,
    ...(cellItems ? { items: cellItems } : {}),
    ...(fewShotItems ? { fewShotItems } : {}),
    ...(retrievalItems ? { retrievalItems } : {}),
    failures,
    timings: { totalMs: performance.now() - t0, embedMs, encodeImagesMs, textMs, metricsMs, ...counts },
    researchNotice: RESEARCH_NOTICE,
  };
}

/**
 * Run the grid. Missing data sets are reported and skipped; a failing cell is reported and the grid
 * goes on. Results are written as `<out>/<model slug>/<dataset>/<task>.json`.
 */
export async function runEval(opts: RunEvalOptions): Promise<EvalSummary> {
  const emit = opts.onEvent ?? (() => {});
  const summary: EvalSummary = { written: [], skipped: [], missingDatasets: [], failed: [] };
  const dataRoot = resolveDataRoot(opts.dataRoot);
  const cacheRoot = opts.cacheDir ?? defaultCacheDir(opts.out);
  removeStaleTempFiles(opts.out);
  removeStaleTempFiles(cacheRoot);
  const specs: DatasetSpec[] = [];
  for (const id of opts.datasets) {
    const spec = findDatasetSpec(id);
    if (!datasetPresent(spec, dataRoot)) {
      const message = `data set ${spec.id}: ${join(dataRoot, spec.source.path)} not found; skipped (set the dataRoot option or MEDVLM_DATA)`;
      summary.missingDatasets.push({ dataset: spec.id, message });
      emit({ type: 'dataset-missing', dataset: spec.id, message });
    } else specs.push(spec);
  }
  const todo: Array<{ cell: Cell; spec: DatasetSpec }> = [];
  for (const model of opts.models) {
    for (const spec of specs) {
      for (const task of opts.tasks) {
        const cell = { model, dataset: spec.id, task };
        const why = notApplicable(spec, task);
        if (why) {
          summary.skipped.push({ cell, reason: why });
          emit({ type: 'cell-skip', cell, reason: 'not-applicable', detail: why });
        } else if (!opts.force && isComplete(cellPath(opts.out, cell))) {
          summary.skipped.push({ cell, reason: 'result exists' });
          emit({ type: 'cell-skip', cell, reason: 'exists', detail: cellPath(opts.out, cell) });
        } else todo.push({ cell, spec });
      }
    }
  }
  const datasets = new Map<string, Dataset | Error>();
  let index = 0;
  for (const model of opts.models) {
    const cells = todo.filter((t) => t.cell.model === model);
    if (cells.length === 0) continue;
    if (opts.signal?.aborted) break;
    let encoder: DualEncoder;
    try {
      encoder = await opts.load(model);
    } catch (e) {
      for (const { cell } of cells) {
        const error = errorToJSON(e);
        summary.failed.push({ cell, error });
        emit({ type: 'cell-failed', cell, error });
      }
      index += cells.length;
      continue;
    }
    try {
      const caches = new Map<string, EmbeddingCache>();
      for (const { cell, spec } of cells) {
        if (opts.signal?.aborted) break;
        emit({ type: 'cell-start', cell, index: ++index, total: todo.length });
        try {
          let dataset = datasets.get(spec.id);
          if (!dataset) {
            try {
              dataset = loadDataset(spec, dataRoot);
            } catch (e) {
              dataset = e instanceof Error ? e : new Error(String(e));
            }
            datasets.set(spec.id, dataset);
          }
          if (dataset instanceof Error) throw dataset;
          let cache = caches.get(spec.id);
          if (!cache) caches.set(spec.id, (cache = new EmbeddingCache(cacheRoot, encoder.info, spec.id, opts.view ?? {})));
          const result = await runCell({ encoder, dataset, cache }, cell, opts);
          const file = cellPath(opts.out, cell);
          await writeAtomic(file, JSON.stringify(result, null, 2) + '\n');
          summary.written.push(file);
          emit({ type: 'cell-done', cell, file, result });
        } catch (e) {
          if (opts.signal?.aborted) break;
          const error = errorToJSON(e);
          summary.failed.push({ cell, error });
          emit({ type: 'cell-failed', cell, error });
        }
      }
    } finally {
      await encoder.dispose();
    }
  }
  return summary;
}
