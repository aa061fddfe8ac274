/**
 * Similar-case search: fill an index with images (and the texts that describe them), and query it
 * by text (text→image), by image (image→image) or for the texts nearest an image (image→text).
 */
import { errorToJSON, type ErrorCode } from '../core/errors.js';
import type { WhereFilter } from '../index-store/where.js';
import type { ManifestRecord } from '../index-store/manifest.js';
import type { CaseIndex, IndexHit, IndexSearchOptions } from '../index-store/store.js';
import type { DualEncoder } from '../models/capabilities.js';
import type { ViewOptions } from '../transforms/index.js';
import { inputName, type ImageInput } from '../io/image-input.js';
import { embedOne, type FileError, type ProgressFn } from './batch.js';
import { batchItemOf, dicomIds, encodeIndexBatch, planIndexAdd } from './index-batch.js';

/** Options of `addToIndex`. */
export interface AddToIndexOptions {
  /** Texts and metadata per image (from `--text-from`); keyed by absolute path. */
  manifest?: ManifestRecord[];
  /** Only images whose metadata passes these filters are added (e.g. split=train). */
  where?: WhereFilter[];
  view?: ViewOptions;
  /** Images per model call and per index commit (default 16). */
  batchSize?: number;
  onProgress?: ProgressFn;
  /** Build/refresh the ANN index at the end: 'auto' (default) from `annMinRows` rows on. */
  ann?: 'auto' | boolean;
  annMinRows?: number;
}

/** What `addToIndex` did, file by file. */
export interface AddToIndexResult {
  added: string[];
  /** Paths already indexed whose content changed: the old entry was replaced. */
  replaced: string[];
  /** Paths already indexed with the same content: left as they were. */
  unchanged: string[];
  /** Files whose content is already indexed under another path: skipped. */
  duplicates: Array<{ file: string; duplicateOf: string }>;
  /** Files left out by the `where` filters. */
  filteredOut: number;
  errors: FileError[];
  /** Time spent in the model (image + text encoding) and in the index (commits, optimize), ms. */
  timing: { hashMs: number; readMs: number; encodeMs: number; indexMs: number; optimizeMs: number };
  annBuilt: boolean;
  /**
   * The first failed index write (full disk, write conflict), if any. The files it concerns, and on a
   * full disk every file not yet committed, are in `errors` with its code; what was committed before
   * stays in the index, readable.
   */
  writeError?: { code: ErrorCode; message: string };
  /** `optimize` failed after all entries were committed (they are searchable by exact scan). */
  optimizeError?: { code: ErrorCode; message: string };
}

/**
 * Add image files to an index: each file is hashed, read, encoded (image and its manifest texts) and
 * stored in batches, one commit per batch. With no files but a manifest, every manifest image that
 * passes the filters is added.
 */
export async function addToIndex(encoder: DualEncoder, index: CaseIndex, files: string[], opts: AddToIndexOptions = {}): Promise<AddToIndexResult> {
  let done = 0;
  let total = 0;
  const progress = (file: string): void => opts.onProgress?.(++done, total, file);
  let t = performance.now();
  const existing = await index.hashes();
  const plan = await planIndexAdd(existing, files, {
    ...(opts.manifest ? { manifest: opts.manifest } : {}),
    ...(opts.where ? { where: opts.where } : {}),
    onSettled: progress,
  });
  const { todo } = plan;
  total = done + todo.length;
  const result: AddToIndexResult = {
    added: [],
    replaced: [],
    unchanged: plan.unchanged,
    duplicates: plan.duplicates,
    filteredOut: plan.filteredOut,
    errors: plan.errors,
    timing: { hashMs: performance.now() - t, readMs: 0, encodeMs: 0, indexMs: 0, optimizeMs: 0 },
    annBuilt: false,
  };

  const batchSize = Math.max(1, opts.batchSize ?? 16);
  for (let start = 0; start < todo.length; start += batchSize) {
    const batch = todo.slice(start, start + batchSize);
    const encoded = await encodeIndexBatch(encoder, batch.map(batchItemOf), opts.view);
    result.timing.readMs += encoded.readMs;
    result.timing.encodeMs += encoded.encodeMs;
    for (const e of encoded.errors) {
      result.errors.push(e);
      progress(e.file);
    }
    const { entries } = encoded;
    if (entries.length === 0) continue;
    t = performance.now();
    try {
      await index.upsert(entries);
    } catch (e) {
      // nothing of this batch was committed (one batch, one commit); on a full disk nothing later can be
      const err = errorToJSON(e, index.dir);
      result.writeError ??= err;
      const stop = err.code === 'E_DISK_FULL';
      const notAdded = stop ? [...entries.map((x) => x.path), ...todo.slice(start + batchSize).map((c) => c.path)] : entries.map((x) => x.path);
      for (const file of notAdded) {
        result.errors.push({ file, error: { code: err.code, message: `${file}: not added: ${err.message}` } });
        progress(file);
      }
      result.timing.indexMs += performance.now() - t;
      if (stop) break;
      continue;
    }
    result.timing.indexMs += performance.now() - t;
    const replaces = new Set(batch.filter((c) => c.replaces).map((c) => c.path));
    for (const x of entries) {
      (replaces.has(x.path) ? result.replaced : result.added).push(x.path);
      progress(x.path);
    }
  }
  t = performance.now();
  if (result.added.length + result.replaced.length > 0 && result.writeError?.code !== 'E_DISK_FULL') {
    try {
      result.annBuilt = (await index.optimize({ ann: opts.ann ?? 'auto', ...(opts.annMinRows ? { annMinRows: opts.annMinRows } : {}) })).annBuilt;
    } catch (e) {
      result.optimizeError = errorToJSON(e, index.dir);
    }
  }
  result.timing.optimizeMs = performance.now() - t;
  return result;
}

export { dicomIds };

/** What to search with. */
export type SearchQuery = { text: string } | { image: ImageInput };

/** Options of `searchIndex`. */
export interface SearchOptions extends Omit<IndexSearchOptions, 'kind'> {
  /** Return images (default) or the stored texts nearest the query. */
  target?: 'image' | 'text';
  view?: ViewOptions;
}

/** A search answer: the query, what was searched, and the hits best first. */
export interface SearchResult {
  query: { text?: string; image?: string };
  target: 'image' | 'text';
  exact: boolean;
  hits: IndexHit[];
}

/** Embed a query (a text, or an image: path, URL, bytes or decoded image) with the index's model. */
export async function embedQuery(encoder: DualEncoder, query: SearchQuery, view?: ViewOptions): Promise<Float32Array> {
  if ('text' in query) return (await encoder.encodeTexts([query.text]))[0];
  return (await embedOne(encoder, query.image, view ? { view } : {})).embedding;
}

/**
 * Search the index. Text hits are de-duplicated by their text (a case's findings are stored once per
 * image), keeping the best-scoring copy.
 */
export async function searchIndex(encoder: DualEncoder, index: CaseIndex, query: SearchQuery, opts: SearchOptions = {}): Promise<SearchResult> {
  const vector = await embedQuery(encoder, query, opts.view);
  const target = opts.target ?? 'image';
  const k = Math.max(1, opts.k ?? 10);
  const ann = await index.annState();
  const exact = opts.exact === true || ann === null;
  let hits: IndexHit[];
  if (target === 'text') {
    const raw = await index.search(vector, { ...opts, kind: 'text', k: k * 4 });
    const seen = new Set<string>();
    hits = raw.filter((h) => (h.text === undefined || seen.has(h.text) ? false : (seen.add(h.text), true))).slice(0, k);
  } else {
    hits = await index.search(vector, { ...opts, kind: 'image', k });
  }
  return { query: 'text' in query ? { text: query.text } : { image: inputName(query.image) }, target, exact, hits };
}
