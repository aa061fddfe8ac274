/**
 * Image embeddings of evaluation items, through the embedding cache: an image is read and hashed;
 * only images whose hash is not cached are decoded and encoded. In-memory 8-bit arrays (MedMNIST)
 * become RGB by `toRGB8` (grey replicated); files go through `bytesToView` (decode → `toModelView`).
 */
import { createHash } from 'node:crypto';
import { errorToJSON, type ErrorCode } from '../core/errors.js';
import { readFileBytes } from '../io/read.js';
import type { DualEncoder, RGBImage } from '../models/capabilities.js';
import { bytesToView } from '../tasks/encode-files.js';
import { meanNormalised } from '../tasks/zero-shot.js';
import { toRGB8, type ViewOptions } from '../transforms/index.js';
import type { EmbeddingCache } from './cache.js';
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
  cache?: EmbeddingCache;
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

/** What one image needs: its content hash, and (when not cached) the RGB view. */
interface Prepared {
  slot: number;
  hash: string;
  rgb?: RGBImage;
}

/**
 * Embed items (each the normalised mean of its images' embeddings), using and filling `cache`.
 * Unreadable images make their item a failure; the others go on.
 */
export async function embedItems(encoder: DualEncoder, items: EvalItem[], opts: EmbedItemsOptions = {}): Promise<EmbeddedItems> {
  const t0 = performance.now();
  const refs = items.flatMap((item, i) => item.images.map((ref) => ({ item: i, ref })));
  const perImage: Array<Float32Array | undefined> = new Array(refs.length);
  const failed = new Map<number, ItemFailure>();
  const batchSize = Math.max(1, opts.batchSize ?? 16);
  const flushEvery = opts.flushEvery ?? 256;
  const stats: EmbedStats = { images: refs.length, encoded: 0, fromCache: 0, encodeMs: 0, totalMs: 0 };
  let done = 0;
  let sinceFlush = 0;
  const progress = (slot: number) => opts.onProgress?.(++done, refs.length, imageName(refs[slot].ref));
  const prepare = async (slot: number): Promise<Prepared | { error: { code: ErrorCode; message: string } }> => {
    const ref = refs[slot].ref;
    try {
      if (ref.kind === 'pixels') {
        const hash = pixelsHash(ref);
        return { slot, hash, ...(opts.cache?.get(hash) ? {} : { rgb: pixelsToRGB(ref) }) };
      }
      const bytes = await readFileBytes(ref.path);
      const hash = createHash('sha256').update(bytes).digest('hex');
      const rgb = opts.cache?.get(hash) ? undefined : (await bytesToView(bytes, ref.path, opts.view)).rgb;
      return { slot, hash, ...(rgb ? { rgb } : {}) };
    } catch (e) {
      return { error: errorToJSON(e, imageName(ref)) };
    }
  };

  for (let start = 0; start < refs.length; start += batchSize) {
    // read, hash and decode the batch concurrently (decoding runs on libvips' threads), keeping order
    const slots = Array.from({ length: Math.min(refs.length, start + batchSize) - start }, (_, i) => start + i);
    const attempts = await Promise.all(slots.map((slot) => prepare(slot)));
    const prepared: Prepared[] = [];
    attempts.forEach((a, i) => {
      const slot = slots[i];
      const item = refs[slot].item;
      if ('error' in a) {
        if (!failed.has(item)) failed.set(item, { id: items[item].id, ...a.error });
        progress(slot);
      } else if (failed.has(item)) progress(slot);
      else prepared.push(a);
    });
    const toEncode = prepared.filter((p) => p.rgb);
    if (toEncode.length) {
      const e0 = performance.now();
      const embs = await encoder.encodeImages(toEncode.map((p) => p.rgb!));
      stats.encodeMs += performance.now() - e0;
      toEncode.forEach((p, k) => opts.cache?.put(p.hash, embs[k]));
      toEncode.forEach((p, k) => (perImage[p.slot] = embs[k]));
      stats.encoded += toEncode.length;
      sinceFlush += toEncode.length;
    }
    for (const p of prepared) {
      if (!p.rgb) {
        perImage[p.slot] = opts.cache!.get(p.hash);
        stats.fromCache++;
      }
      progress(p.slot);
    }
    if (opts.cache && sinceFlush >= flushEvery) {
      await opts.cache.flush();
      sinceFlush = 0;
    }
  }
  await opts.cache?.flush();

  const embeddings: Array<Float32Array | null> = items.map(() => null);
  const byItem = new Map<number, Float32Array[]>();
  refs.forEach((r, slot) => {
    const e = perImage[slot];
    if (e && !failed.has(r.item)) byItem.set(r.item, [...(byItem.get(r.item) ?? []), e]);
  });
  for (const [i, embs] of byItem) embeddings[i] = embs.length === 1 ? embs[0] : meanNormalised(embs);
  stats.totalMs = performance.now() - t0;
  return { embeddings, failures: [...failed.values()], stats };
}
