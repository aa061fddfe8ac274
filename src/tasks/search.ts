/**
 * Similar-case search: fill an index with images (and the texts that describe them), and query it
 * by text (text→image), by image (image→image) or for the texts nearest an image (image→text).
 */
import { resolve } from 'node:path';
import { errorToJSON } from '../core/errors.js';
import { inputName, type ImageInput } from '../io/image-input.js';
import { fileError } from '../io/read.js';
import { matchesWhere, type WhereFilter } from '../index-store/where.js';
import type { ManifestRecord } from '../index-store/manifest.js';
import type { CaseIndex, DicomIds, IndexEntry, IndexHit, IndexSearchOptions } from '../index-store/store.js';
import type { DualEncoder } from '../models/capabilities.js';
import { sha256File } from '../runtime/hashing.js';
import type { ViewOptions } from '../transforms/index.js';
import { embedOne, encodePrepared, isFileError, prepareInput, type EncodedImage, type FileError, type ProgressFn } from './batch.js';

/** Options of `addToIndex`. */
export interface AddToIndexOptions {
  /** Texts and metadata per image (from `--text-from`); keyed by absolute path. */
  manifest?: ManifestRecord[];
  /** Only images whose metadata passes these filters are added (e.g. split=train). */
  where?: WhereFilter[];
  view?: ViewOptions;
  /** Images per model call and per index commit (default 16). */
  batchSize?: number;
  /** Files read and decoded at once (default: the batch size). */
  concurrency?: number;
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

  // one read per file: the stored hash is of the very bytes that were decoded, even if the file changed since pass 1
  const timed: Pick<DualEncoder, 'encodeImages'> = {
    encodeImages: async (images) => {
      const e0 = performance.now();
      const out = await encoder.encodeImages(images);
      result.timing.encodeMs += performance.now() - e0;
      return out;
    },
  };
  const loop0 = performance.now();
  let indexMs = 0;
  await encodePrepared(timed, todo.length, (i) => prepareInput(todo[i].path, i, { view: opts.view, hash: true }), (i) => todo[i].path, {
    batchSize: opts.batchSize ?? 16,
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    onProgress: (_done, _total, file) => progress(file),
    onBatch: async (batch) => {
      const ready: Array<{ c: (typeof todo)[number]; r: EncodedImage }> = [];
      for (const { position, result: r } of batch) {
        if (isFileError(r)) result.errors.push(r);
        else ready.push({ c: { ...todo[position], hash: r.hash! }, r });
      }
      if (ready.length === 0) return;
      const e0 = performance.now();
      const textItems = ready.flatMap((x, i) => Object.entries(x.c.record?.texts ?? {}).map(([field, text]) => ({ i, field, text })));
      const textVecs = textItems.length ? await encoder.encodeTexts(textItems.map((x) => x.text)) : [];
      result.timing.encodeMs += performance.now() - e0;
      const entries = ready.map((x, i) => indexEntry(x.c, x.r, textItems.flatMap((t, j) => (t.i === i ? [{ field: t.field, text: t.text, vector: textVecs[j] }] : []))));
      const i0 = performance.now();
      await index.upsert(entries);
      indexMs += performance.now() - i0;
      for (const x of ready) (x.c.replaces ? result.replaced : result.added).push(x.c.path);
    },
  });
  result.timing.indexMs = indexMs;
  result.timing.readMs = Math.max(0, performance.now() - loop0 - indexMs - result.timing.encodeMs);
  t = performance.now();
  if (todo.length) result.annBuilt = (await index.optimize({ ann: opts.ann ?? 'auto', ...(opts.annMinRows ? { annMinRows: opts.annMinRows } : {}) })).annBuilt;
  result.timing.optimizeMs = performance.now() - t;
  return result;
}

/** The index entry of an encoded image: its manifest texts and metadata, the file's modality and DICOM UIDs. */
function indexEntry(c: Candidate & { hash: string }, r: EncodedImage, texts: IndexEntry['texts']): IndexEntry {
  const metadata = { ...(c.record?.metadata ?? {}) };
  if (!metadata.modality && r.header?.modality) metadata.modality = r.header.modality;
  const entry: IndexEntry = { path: c.path, hash: c.hash, vector: r.embedding, metadata, texts };
  const dicom = dicomIds(r.header?.phi ?? {});
  if (Object.keys(dicom).length) entry.dicom = dicom;
  if (c.record) entry.source = c.record.raw;
  return entry;
}

/** sha256 of a file's bytes; a missing file is E_FILE_NOT_FOUND. */
async function hashFile(path: string): Promise<string> {
  try {
    return await sha256File(path);
  } catch (e) {
    throw fileError(e, path);
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
