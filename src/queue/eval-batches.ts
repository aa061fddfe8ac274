/**
 * One evaluation cell split into image batches (`medvlm eval --queue --image-batch B`): the worker that
 * takes the cell lists the images the cell embeds (`cellImageItems`, the runner's own list) and adds
 * ⌈N/B⌉ child jobs to the eval queue, each embedding B consecutive images of one split on any worker;
 * when BullMQ has all of them done, the cell job runs again, puts the returned embeddings into the
 * embedding cache and runs the cell with the same `runEval`, which then finds every image there. B is a
 * multiple of the encoder batch size, so each image is encoded in the same encoder batch as in a local
 * run and the result is identical.
 */
import type { Job } from 'bullmq';
import { OptionError } from '../core/errors.js';
import { EmbeddingCache, type EmbeddingStore } from '../eval/cache.js';
import { findDatasetSpec, loadDataset, resolveDataRoot } from '../eval/datasets/registry.js';
import type { Dataset, EvalItem } from '../eval/datasets/types.js';
import { embedItems } from '../eval/embed.js';
import { cellImageItems, type Cell } from '../eval/runner.js';
import type { DualEncoder, ModelInfo } from '../models/capabilities.js';
import type { ViewOptions } from '../transforms/index.js';
import { vectorFromWire, vectorToWire } from './jobs.js';

/** Job name of an image batch on the eval queue. */
export const EVAL_BATCH_JOB = 'eval-images';

/** Data of an image-batch job: images [start, end) of one split of a cell's image list. */
export interface EvalBatchData {
  cell: Cell;
  /** The cell's options that decide which images and how they are viewed and batched. */
  options: { seed?: number; seeds?: number; shots?: number[]; view?: ViewOptions; batchSize?: number; dataRoot?: string };
  split: 'test' | 'train';
  start: number;
  end: number;
}

/** What an image-batch job returns: the model it used and one embedding per image content hash. */
export interface EvalBatchResult {
  model: Pick<ModelInfo, 'id' | 'dtype' | 'fileHashes'>;
  /** [sha256 of the image, float32 embedding as base64]. */
  embeddings: Array<[string, string]>;
}

/** One item per image, in the order `embedItems` encodes a split's images. */
function imageItems(items: EvalItem[]): EvalItem[] {
  return items.flatMap((it) => it.images.map((ref, k) => ({ id: `${it.id}#${k}`, images: [ref] })));
}

/**
 * Check `--image-batch` against the encoder batch size.
 * @throws OptionError E_BAD_OPTION when it is not a positive multiple of it.
 */
export function checkImageBatch(imageBatch: number, batchSize = 16): void {
  if (!Number.isInteger(imageBatch) || imageBatch < 1 || imageBatch % batchSize !== 0) {
    throw new OptionError('E_BAD_OPTION', `--image-batch ${imageBatch}: must be a positive multiple of --batch-size ${batchSize} (so that every image meets the encoder in the batch a local run gives it)`, { option: '--image-batch' });
  }
}

/**
 * The image-batch jobs of a cell: ⌈N/B⌉ per split, ids derived from the cell job's id (adding them
 * again after a stalled cell job is a no-op).
 * @throws E_BAD_OPTION when `imageBatch` is not a positive multiple of the encoder batch size.
 */
export function evalBatchJobs(parentId: string, dataset: Dataset, data: Omit<EvalBatchData, 'split' | 'start' | 'end'>, imageBatch: number): Array<{ name: string; data: EvalBatchData; jobId: string }> {
  checkImageBatch(imageBatch, data.options.batchSize);
  const jobs: Array<{ name: string; data: EvalBatchData; jobId: string }> = [];
  for (const { split, items } of cellImageItems(dataset, data.cell, data.options)) {
    const n = imageItems(items).length;
    for (let start = 0; start < n; start += imageBatch) {
      jobs.push({ name: EVAL_BATCH_JOB, data: { ...data, split, start, end: Math.min(n, start + imageBatch) }, jobId: `${parentId}-${split}-${start}` });
    }
  }
  return jobs;
}

/** A store kept in memory (what one batch encodes). */
class MemoryStore implements EmbeddingStore {
  readonly map = new Map<string, Float32Array>();
  get(hash: string): Float32Array | undefined {
    return this.map.get(hash);
  }
  put(hash: string, embedding: Float32Array): void {
    this.map.set(hash, embedding);
  }
  async flush(): Promise<void> {}
}

/** Encode one image batch through the library's batch path (`embedItems`). Images that fail are left out: the cell meets them again and reports them as a local run does. */
export async function encodeEvalBatch(encoder: DualEncoder, dataset: Dataset, data: EvalBatchData): Promise<EvalBatchResult> {
  const groups = cellImageItems(dataset, data.cell, data.options);
  const items = imageItems(groups.find((g) => g.split === data.split)?.items ?? []).slice(data.start, data.end);
  const store = new MemoryStore();
  await embedItems(encoder, items, { cache: store, view: data.options.view ?? {}, batchSize: data.options.batchSize ?? 16 });
  const { id, dtype, fileHashes } = encoder.info;
  return { model: { id, dtype, fileHashes }, embeddings: [...store.map].map(([h, v]) => [h, vectorToWire(v)]) };
}

/**
 * Put the embeddings of a cell's finished batches into the embedding cache under `cacheRoot`, where
 * `runEval` will look them up (keyed by the batches' model files, dtype and view: a worker with other
 * weights simply finds nothing there and encodes itself). Returns how many were put.
 */
export async function cacheBatchResults(cacheRoot: string, datasetId: string, view: ViewOptions, results: EvalBatchResult[]): Promise<number> {
  const caches = new Map<string, EmbeddingCache>();
  let n = 0;
  for (const r of results) {
    const key = JSON.stringify([r.model.dtype, r.model.fileHashes]);
    let cache = caches.get(key);
    if (!cache) caches.set(key, (cache = new EmbeddingCache(cacheRoot, r.model, findDatasetSpec(datasetId).id, view)));
    for (const [hash, v] of r.embeddings) {
      cache.put(hash, vectorFromWire(v));
      n++;
    }
  }
  for (const c of caches.values()) await c.flush();
  return n;
}

/** The results of a cell job's finished image batches. */
export async function batchResultsOf(job: Job): Promise<EvalBatchResult[]> {
  return Object.values(await job.getChildrenValues<EvalBatchResult>());
}

/** Loads data sets for batch jobs, keeping the last one (a worker takes many batches of one cell in a row). */
export class DatasetMemo {
  private last?: { key: string; dataset: Dataset };
  /** The data set `id` under `dataRoot` (resolved as `runEval` does). */
  get(id: string, dataRoot?: string): Dataset {
    const root = resolveDataRoot(dataRoot);
    const key = `${root}\0${id}`;
    if (this.last?.key !== key) this.last = { key, dataset: loadDataset(findDatasetSpec(id), root) };
    return this.last.dataset;
  }
}
