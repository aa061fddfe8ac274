/**
 * The two halves of adding images to an index, shared by `addToIndex` (one process) and the work
 * queue (enqueuer plans, workers encode, one committer writes):
 * - `planIndexAdd` decides, from content hashes, which files are new, changed, unchanged or
 *   duplicates of indexed content;
 * - `encodeIndexBatch` reads, decodes and encodes one batch (images and their manifest texts) into
 *   index entries, a bad file becoming a `FileError` while the batch goes on.
 */
import { resolve } from 'node:path';
import { errorToJSON } from '../core/errors.js';
import type { ManifestRecord } from '../index-store/manifest.js';
import type { DicomIds, IndexEntry } from '../index-store/store.js';
import { matchesWhere, type WhereFilter } from '../index-store/where.js';
import { fileError } from '../io/read.js';
import type { DualEncoder } from '../models/capabilities.js';
import { sha256File } from '../runtime/hashing.js';
import type { ViewOptions } from '../transforms/index.js';
import { encodePrepared, isFileError, prepareInput, type EncodedImage, type FileError } from './batch.js';

/** One file to encode: its path, the manifest record that describes it, and its content hash. */
export interface PlannedFile {
  path: string;
  record?: ManifestRecord;
  hash: string;
  /** An entry exists at this path with other content: it is replaced. */
  replaces: boolean;
}

/** What `planIndexAdd` found. */
export interface IndexAddPlan {
  todo: PlannedFile[];
  unchanged: string[];
  duplicates: Array<{ file: string; duplicateOf: string }>;
  filteredOut: number;
  errors: FileError[];
}

/** Inputs of `planIndexAdd`. */
export interface PlanOptions {
  manifest?: ManifestRecord[];
  where?: WhereFilter[];
  /** Called once per file that needs no encoding (unchanged, duplicate, unreadable). */
  onSettled?: (file: string) => void;
}

/**
 * Decide what to encode: files (or, with none, every manifest image) that pass `where`, hashed, and
 * compared with `existing` (path → hash of what the index holds).
 */
export async function planIndexAdd(existing: Map<string, string>, files: string[], opts: PlanOptions = {}): Promise<IndexAddPlan> {
  const byPath = new Map((opts.manifest ?? []).map((r) => [r.path, r]));
  let candidates = files.length ? files.map((f) => ({ path: resolve(f), record: byPath.get(resolve(f)) })) : [...byPath.values()].map((record) => ({ path: record.path, record }));
  const before = candidates.length;
  const where = opts.where ?? [];
  if (where.length) candidates = candidates.filter((c) => matchesWhere({ ...flatMetadata(c.record), path: c.path }, where));
  const plan: IndexAddPlan = { todo: [], unchanged: [], duplicates: [], filteredOut: before - candidates.length, errors: [] };
  const pathByHash = new Map<string, string>();
  for (const [p, h] of existing) if (!pathByHash.has(h)) pathByHash.set(h, p);
  for (const c of candidates) {
    let hash: string;
    try {
      hash = await hashFile(c.path);
    } catch (e) {
      plan.errors.push({ file: c.path, error: errorToJSON(e, c.path) });
      opts.onSettled?.(c.path);
      continue;
    }
    const old = existing.get(c.path);
    if (old === hash) {
      plan.unchanged.push(c.path);
      opts.onSettled?.(c.path);
      continue;
    }
    const twin = pathByHash.get(hash);
    if (twin !== undefined && twin !== c.path) {
      plan.duplicates.push({ file: c.path, duplicateOf: twin });
      opts.onSettled?.(c.path);
      continue;
    }
    pathByHash.set(hash, c.path);
    plan.todo.push({ ...c, hash, replaces: old !== undefined });
  }
  return plan;
}

/** One file of a batch to encode (a `PlannedFile` or the same fields from a queue job). */
export interface BatchItem {
  path: string;
  texts?: Record<string, string>;
  metadata?: ManifestRecord['metadata'];
  source?: Record<string, unknown>;
}

/** What `encodeIndexBatch` made of a batch: entries in input order, and the files that failed. */
export interface EncodedBatch {
  entries: IndexEntry[];
  errors: FileError[];
  /** Milliseconds reading + decoding, and in the model. */
  readMs: number;
  encodeMs: number;
}

/**
 * Read each file once (the stored hash is of the very bytes decoded), make the model view, encode the
 * images in one call and their texts in another, and build the index entries. Images take the
 * library's one batch path (`encodePrepared`); a file that cannot be read or decoded becomes a
 * `FileError` and the others go on.
 */
export async function encodeIndexBatch(encoder: DualEncoder, items: BatchItem[], view?: ViewOptions): Promise<EncodedBatch> {
  const t0 = performance.now();
  const timing = { encodeMs: 0 };
  const results = await encodePrepared(encoder, items.length, (i) => prepareInput(items[i].path, i, { ...(view ? { view } : {}), hash: true }), (i) => items[i].path, {
    batchSize: Math.max(1, items.length),
    timing,
  });
  let encodeMs = timing.encodeMs;
  const errors: FileError[] = [];
  const ready: Array<{ item: BatchItem; r: EncodedImage }> = [];
  results.forEach((r, i) => (isFileError(r) ? errors.push(r) : ready.push({ item: items[i], r })));
  const readMs = performance.now() - t0 - encodeMs;
  if (ready.length === 0) return { entries: [], errors, readMs, encodeMs };
  const t1 = performance.now();
  const textItems = ready.flatMap((x, i) => Object.entries(x.item.texts ?? {}).map(([field, text]) => ({ i, field, text })));
  const textVecs = textItems.length ? await encoder.encodeTexts(textItems.map((x) => x.text)) : [];
  encodeMs += performance.now() - t1;
  const entries = ready.map(({ item, r }, i) => {
    const metadata = { ...(item.metadata ?? {}) };
    if (!metadata.modality && r.header?.modality) metadata.modality = r.header.modality;
    const entry: IndexEntry = {
      path: item.path,
      hash: r.hash!,
      vector: r.embedding,
      metadata,
      texts: textItems.flatMap((x, j) => (x.i === i ? [{ field: x.field, text: x.text, vector: textVecs[j] }] : [])),
    };
    const dicom = dicomIds(r.header?.phi ?? {});
    if (Object.keys(dicom).length) entry.dicom = dicom;
    if (item.source) entry.source = item.source;
    return entry;
  });
  return { entries, errors, readMs, encodeMs };
}

/** A planned file as a batch item (texts, metadata and the raw manifest line from its record). */
export function batchItemOf(p: Pick<PlannedFile, 'path' | 'record'>): BatchItem {
  return { path: p.path, ...(p.record ? { texts: p.record.texts, metadata: p.record.metadata, source: p.record.raw } : {}) };
}

/** sha256 of a file's bytes (E_FILE_NOT_FOUND, E_FILE_UNREADABLE naming the file). */
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
