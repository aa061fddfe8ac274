/**
 * On-disk cache of image embeddings, keyed by (model file hashes + dtype + view options) and the image's
 * content hash. One pair of files per (model, data set): `<dataset>.npy` (float32 [N, D], opens with
 * numpy) and `<dataset>.json` (the row keys). Rows are only ever appended, and the `.npy` is written
 * before the index, so an index always describes a prefix of the array even after a kill.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpyFloat32 } from '../io/npy.js';
import type { ModelInfo } from '../models/capabilities.js';
import type { ViewOptions } from '../transforms/index.js';
import { writeAtomic } from '../core/atomic.js';
import { readNpy } from './datasets/npy.js';

/** The index file of one cache shard. */
interface CacheIndex {
  schema: 'medvlm.embedding-cache/1';
  modelKey: string;
  model: { id: string; dtype: string; fileHashes: Record<string, string> };
  view: unknown;
  dim: number;
  keys: string[];
}

/** sha256 over what determines an image embedding apart from the image: model files, dtype, view options. */
export function modelCacheKey(info: Pick<ModelInfo, 'fileHashes' | 'dtype'>, view: ViewOptions = {}): string {
  const files = Object.keys(info.fileHashes).sort().map((k) => [k, info.fileHashes[k]]);
  return createHash('sha256').update(JSON.stringify({ files, dtype: info.dtype, view })).digest('hex');
}

/** Where `embedItems` looks embeddings up by image content hash and puts new ones. */
export interface EmbeddingStore {
  get(contentHash: string): Float32Array | undefined;
  put(contentHash: string, embedding: Float32Array): void;
  /** Persist what was put (a no-op for stores kept in memory). */
  flush(): Promise<void>;
}

/** The embedding cache of one (model, data set). */
export class EmbeddingCache implements EmbeddingStore {
  private readonly rows: Float32Array[] = [];
  private readonly keys: string[] = [];
  private readonly byKey = new Map<string, number>();
  private flushed = 0;
  private readonly npyPath: string;
  private readonly indexPath: string;

  /**
   * @param root folder of all caches (e.g. `<results>/.cache/medvlm/embeddings`)
   * @param info the model (its file hashes and dtype key the cache)
   */
  constructor(
    root: string,
    private readonly info: Pick<ModelInfo, 'id' | 'fileHashes' | 'dtype'>,
    datasetId: string,
    private readonly view: ViewOptions = {},
  ) {
    const key = modelCacheKey(info, view);
    const dir = join(root, key.slice(0, 16));
    this.npyPath = join(dir, `${datasetId}.npy`);
    this.indexPath = join(dir, `${datasetId}.json`);
    this.load(key);
  }

  private load(key: string): void {
    if (!existsSync(this.indexPath) || !existsSync(this.npyPath)) return;
    try {
      const index = JSON.parse(readFileSync(this.indexPath, 'utf8')) as CacheIndex;
      if (index.modelKey !== key) return;
      const arr = readNpy(new Uint8Array(readFileSync(this.npyPath)), this.npyPath);
      const [n, dim] = arr.shape;
      if (!(arr.data instanceof Float32Array) || dim !== index.dim || n < index.keys.length) return;
      index.keys.forEach((k, i) => {
        this.byKey.set(k, i);
        this.keys.push(k);
        this.rows.push((arr.data as Float32Array).slice(i * dim, (i + 1) * dim));
      });
      this.flushed = this.rows.length;
    } catch {
      // an unreadable cache is a cache miss, never an error
    }
  }

  /** Number of embeddings held. */
  get size(): number {
    return this.rows.length;
  }

  /** The cached embedding of an image content hash. */
  get(contentHash: string): Float32Array | undefined {
    const i = this.byKey.get(contentHash);
    return i === undefined ? undefined : this.rows[i];
  }

  /** Add an embedding (kept in memory until `flush`). */
  put(contentHash: string, embedding: Float32Array): void {
    if (this.byKey.has(contentHash)) return;
    this.byKey.set(contentHash, this.rows.length);
    this.keys.push(contentHash);
    this.rows.push(embedding);
  }

  /** Embeddings added since the last flush. */
  get pending(): number {
    return this.rows.length - this.flushed;
  }

  /** Write the cache atomically (array first, then index) when something was added. */
  async flush(): Promise<void> {
    if (this.pending === 0 || this.rows.length === 0) return;
    const dim = this.rows[0].length;
    const count = this.rows.length;
    await writeAtomic(this.npyPath, encodeNpyFloat32(this.rows.slice(0, count), dim));
    const index: CacheIndex = {
      schema: 'medvlm.embedding-cache/1',
      modelKey: modelCacheKey(this.info, this.view),
      model: { id: this.info.id, dtype: this.info.dtype, fileHashes: this.info.fileHashes },
      view: this.view,
      dim,
      keys: this.keys.slice(0, count),
    };
    await writeAtomic(this.indexPath, JSON.stringify(index));
    this.flushed = count;
  }
}
