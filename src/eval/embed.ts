/**
 * Image embeddings of evaluation items, through the embedding cache: an image is read and hashed;
 * only images whose hash is not cached are decoded and encoded. In-memory 8-bit arrays (MedMNIST)
 * become RGB by `toRGB8` (grey replicated); files go through the library's batch path (decode → `toModelView`).
 */
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../core/errors.js';
import { meanNormalised } from '../core/vectors.js';
import type { DualEncoder, RGBImage } from '../models/capabilities.js';
import { encodePrepared, isFileError, prepareInput, type PreparedImage } from '../tasks/batch.js';
import { toRGB8, type ViewOptions } from '../transforms/index.js';
import type { EmbeddingStore } from './cache.js';
import type { EvalItem, ImageRef } from './datasets/types.js';

/** An item that could not be embedded (a file that cannot be read), left out of the metrics. */
export interface ItemFailure {
  id: string;
  code: ErrorCode;
  message: string;
}

/** Counters of one embedding run (results record them). */
export interface EmbedStats {
  images: number;
  encoded: number;
  fromCache: number;
  /** Wall time spent in `encodeImages` (ms). */
  encodeMs: number;
  /** Wall time of the whole run: read, hash, decode, view, encode (ms). */
  totalMs: number;
}

/** Options of `embedItems`. */
export interface EmbedItemsOptions {
  /** Embeddings by image content hash: looked up before decoding, filled with new ones (the on-disk EmbeddingCache, or one kept in memory). */
  cache?: EmbeddingStore;
  view?: ViewOptions;
  /** Images per encoder call (default 16). */
  batchSize?: number;
  /** Called after each image with (done, total, image name). */
  onProgress?: (done: number, total: number, name: string) => void;
  /** Write the cache after this many new embeddings (default 256), so an interrupted run keeps its work. */
  flushEvery?: number;
}

/** Result of `embedItems`: one normalised embedding per item (null when it failed), in item order. */
export interface EmbeddedItems {
  embeddings: Array<Float32Array | null>;
  failures: ItemFailure[];
  stats: EmbedStats;
}

/** Display name of an image reference (messages, progress). */
export function imageName(ref: ImageRef): string {
  return ref.kind === 'file' ? ref.path : ref.name;
}

function pixelsToRGB(ref: Extract<ImageRef, { kind: 'pixels' }>): RGBImage {
  const values = new Float32Array(ref.data.length);
  for (let i = 0; i < values.length; i++) values[i] = ref.data[i] / 255;
  return toRGB8(values, ref.width, ref.height, ref.channels);
}

function pixelsHash(ref: Extract<ImageRef, { kind: 'pixels' }>): string {
  return createHash('sha256').update(`pixels:${ref.width}x${ref.height}x${ref.channels}:`).update(ref.data).digest('hex');
}

/**
 * Embed items (each the normalised mean of its images' embeddings), using and filling `cache`.
 * Unreadable images make their item a failure; the others go on. Files take the library's one batch
 * path (read → hash → decode → view → encode); in-memory pixel arrays are hashed and viewed here.
 */
export async function embedItems(encoder: DualEncoder, items: EvalItem[], opts: EmbedItemsOptions = {}): Promise<EmbeddedItems> {
  const t0 = performance.now();
  const refs = items.flatMap((item, i) => item.images.map((ref) => ({ item: i, ref })));
  const stats: EmbedStats = { images: refs.length, encoded: 0, fromCache: 0, encodeMs: 0, totalMs: 0 };
  const flushEvery = opts.flushEvery ?? 256;
  let sinceFlush = 0;
  const cached = opts.cache ? (hash: string) => opts.cache!.get(hash) : undefined;
  const prepare = async (slot: number): Promise<PreparedImage> => {
    const ref = refs[slot].ref;
    if (ref.kind === 'file') return prepareInput(ref.path, slot, { ...(opts.view ? { view: opts.view } : {}), hash: true, ...(cached ? { cached } : {}) });
    const hash = pixelsHash(ref);
    const known = cached?.(hash);
    return known ? { file: ref.name, hash, embedding: known } : { file: ref.name, hash, rgb: pixelsToRGB(ref) };
  };
  const results = await encodePrepared(encoder, refs.length, prepare, (slot) => imageName(refs[slot].ref), {
    batchSize: opts.batchSize ?? 16,
    timing: stats,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    onBatch: async (batch) => {
      for (const { result } of batch) {
        if (isFileError(result)) continue;
        if (result.fromCache) stats.fromCache++;
        else {
          stats.encoded++;
          sinceFlush++;
          opts.cache?.put(result.hash!, result.embedding);
        }
      }
      if (opts.cache && sinceFlush >= flushEvery) {
        await opts.cache.flush();
        sinceFlush = 0;
      }
    },
  });
  await opts.cache?.flush();

  const failed = new Map<number, ItemFailure>();
  results.forEach((r, slot) => {
    const item = refs[slot].item;
    if (isFileError(r) && !failed.has(item)) failed.set(item, { id: items[item].id, code: r.error.code, message: r.error.message });
  });
  const byItem = new Map<number, Float32Array[]>();
  results.forEach((r, slot) => {
    const item = refs[slot].item;
    if (!isFileError(r) && !failed.has(item)) byItem.set(item, [...(byItem.get(item) ?? []), r.embedding]);
  });
  const embeddings: Array<Float32Array | null> = items.map(() => null);
  for (const [i, embs] of byItem) embeddings[i] = embs.length === 1 ? embs[0] : meanNormalised(embs);
  stats.totalMs = performance.now() - t0;
  return { embeddings, failures: [...failed.values()], stats };
}
