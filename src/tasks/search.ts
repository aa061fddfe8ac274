/**
 * Similar-case search: fill an index with images (and the texts that describe them), and query it
 * by text (text→image), by image (image→image) or for the texts nearest an image (image→text).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { errorToJSON, inputError, type ErrorCode } from '../core/errors.js';
import { matchesWhere, type WhereFilter } from '../index-store/where.js';
import type { ManifestRecord } from '../index-store/manifest.js';
import type { CaseIndex, DicomIds, IndexEntry, IndexHit, IndexSearchOptions } from '../index-store/store.js';
import type { DualEncoder, RGBImage } from '../models/capabilities.js';
import { sha256File } from '../runtime/hashing.js';
import type { ViewOptions } from '../transforms/index.js';
import { readFileBytes } from '../io/read.js';
import { bytesToView, fileToView, type FileError, type ProgressFn } from './encode-files.js';

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

interface Candidate {
  path: string;
  record?: ManifestRecord;
}

/**
 * Add image files to an index: each file is hashed, read, encoded (image and its manifest texts) and
 * stored in batches, one commit per batch. With no files but a manifest, every manifest image that
 * passes the filters is added.
 */
export async function addToIndex(encoder: DualEncoder, index: CaseIndex, files: string[], opts: AddToIndexOptions = {}): Promise<AddToIndexResult> {
  const byPath = new Map((opts.manifest ?? []).map((r) => [r.path, r]));
  let candidates: Candidate[] = files.length
    ? files.map((f) => ({ path: resolve(f), record: byPath.get(resolve(f)) }))
    : [...byPath.values()].map((record) => ({ path: record.path, record }));
  const before = candidates.length;
  const where = opts.where ?? [];
  if (where.length) candidates = candidates.filter((c) => matchesWhere({ ...flatMetadata(c.record), path: c.path }, where));
  const result: AddToIndexResult = {
    added: [],
    replaced: [],
    unchanged: [],
    duplicates: [],
    filteredOut: before - candidates.length,
    errors: [],
    timing: { hashMs: 0, readMs: 0, encodeMs: 0, indexMs: 0, optimizeMs: 0 },
    annBuilt: false,
  };
  const total = candidates.length;
  let done = 0;
  const progress = (file: string): void => opts.onProgress?.(++done, total, file);

  let t = performance.now();
  const existing = await index.hashes();
  const pathByHash = new Map<string, string>();
  for (const [p, h] of existing) if (!pathByHash.has(h)) pathByHash.set(h, p);
  const todo: Array<Candidate & { hash: string; replaces: boolean }> = [];
  for (const c of candidates) {
    let hash: string;
    try {
      hash = await hashFile(c.path);
    } catch (e) {
      result.errors.push({ file: c.path, error: errorToJSON(e, c.path) });
      progress(c.path);
      continue;
    }
    const old = existing.get(c.path);
    if (old === hash) {
      result.unchanged.push(c.path);
      progress(c.path);
      continue;
    }
    const twin = pathByHash.get(hash);
    if (twin !== undefined && twin !== c.path) {
      result.duplicates.push({ file: c.path, duplicateOf: twin });
      progress(c.path);
      continue;
    }
    pathByHash.set(hash, c.path);
    todo.push({ ...c, hash, replaces: old !== undefined });
  }
  result.timing.hashMs += performance.now() - t;

  const batchSize = Math.max(1, opts.batchSize ?? 16);
  for (let start = 0; start < todo.length; start += batchSize) {
    const batch = todo.slice(start, start + batchSize);
    t = performance.now();
    const ready: Array<{ c: (typeof batch)[number]; rgb: RGBImage; modality?: string; dicom: DicomIds }> = [];
    for (const c of batch) {
      try {
        // one read: the stored hash is of the very bytes that were decoded, even if the file changed since pass 1
        const bytes = await readFileBytes(c.path);
        c.hash = createHash('sha256').update(bytes).digest('hex');
        const { image, rgb } = await bytesToView(bytes, c.path, opts.view);
        ready.push({ c, rgb, ...(image.modality ? { modality: image.modality } : {}), dicom: dicomIds(image.phi) });
      } catch (e) {
        result.errors.push({ file: c.path, error: errorToJSON(e, c.path) });
        progress(c.path);
      }
    }
    result.timing.readMs += performance.now() - t;
    if (ready.length === 0) continue;
    t = performance.now();
    const imageVecs = await encoder.encodeImages(ready.map((r) => r.rgb));
    const textItems = ready.flatMap((r, i) => Object.entries(r.c.record?.texts ?? {}).map(([field, text]) => ({ i, field, text })));
    const textVecs = textItems.length ? await encoder.encodeTexts(textItems.map((x) => x.text)) : [];
    result.timing.encodeMs += performance.now() - t;
    const entries: IndexEntry[] = ready.map((r, i) => {
      const metadata = { ...(r.c.record?.metadata ?? {}) };
      if (!metadata.modality && r.modality) metadata.modality = r.modality;
      const entry: IndexEntry = {
        path: r.c.path,
        hash: r.c.hash,
        vector: imageVecs[i],
        metadata,
        texts: textItems.flatMap((x, j) => (x.i === i ? [{ field: x.field, text: x.text, vector: textVecs[j] }] : [])),
      };
      if (Object.keys(r.dicom).length) entry.dicom = r.dicom;
      if (r.c.record) entry.source = r.c.record.raw;
      return entry;
    });
    t = performance.now();
    try {
      await index.upsert(entries);
    } catch (e) {
      // nothing of this batch was committed (one batch, one commit); on a full disk nothing later can be
      const err = errorToJSON(e, index.dir);
      result.writeError ??= err;
      const stop = err.code === 'E_DISK_FULL';
      const notAdded = stop ? [...ready.map((r) => r.c.path), ...todo.slice(start + batchSize).map((c) => c.path)] : ready.map((r) => r.c.path);
      for (const file of notAdded) {
        result.errors.push({ file, error: { code: err.code, message: `${file}: not added: ${err.message}` } });
        progress(file);
      }
      result.timing.indexMs += performance.now() - t;
      if (stop) break;
      continue;
    }
    result.timing.indexMs += performance.now() - t;
    for (const r of ready) {
      (r.c.replaces ? result.replaced : result.added).push(r.c.path);
      progress(r.c.path);
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

/** sha256 of a file's bytes; a missing file is E_FILE_NOT_FOUND. */
async function hashFile(path: string): Promise<string> {
  try {
    return await sha256File(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw inputError('E_FILE_NOT_FOUND', path, 'no such file');
    throw inputError('E_FILE_NOT_FOUND', path, `cannot read: ${(e as Error).message}`, e);
  }
}

function flatMetadata(record: ManifestRecord | undefined): Record<string, unknown> {
  return record ? { ...record.metadata, labels: record.metadata.labels ?? [] } : {};
}

/** Study/series/SOP instance UIDs from a DICOM image's identifiers. */
export function dicomIds(phi: Record<string, string>): DicomIds {
  const d: DicomIds = {};
  if (phi.StudyInstanceUID) d.studyUid = phi.StudyInstanceUID;
  if (phi.SeriesInstanceUID) d.seriesUid = phi.SeriesInstanceUID;
  if (phi.SOPInstanceUID) d.sopUid = phi.SOPInstanceUID;
  return d;
}

/** What to search with. */
export type SearchQuery = { text: string } | { image: string };

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

/** Embed a query (text or image file) with the index's model. */
export async function embedQuery(encoder: DualEncoder, query: SearchQuery, view?: ViewOptions): Promise<Float32Array> {
  if ('text' in query) return (await encoder.encodeTexts([query.text]))[0];
  const { rgb } = await fileToView(query.image, view);
  return (await encoder.encodeImages([rgb]))[0];
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
  return { query: 'text' in query ? { text: query.text } : { image: query.image }, target, exact, hits };
}
