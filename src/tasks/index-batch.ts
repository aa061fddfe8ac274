/**
 * The two halves of adding images to an index, shared by `addToIndex` (one process) and the work
 * queue (enqueuer plans, workers encode, one committer writes):
 * - `planIndexAdd` decides, from content hashes, which files are new, changed, unchanged or
 *   duplicates of indexed content;
 * - `encodeIndexBatch` reads, decodes and encodes one batch (images and their manifest texts) into
 *   index entries, a bad file becoming a `FileError` while the batch goes on.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { errorToJSON, inputError } from '../core/errors.js';
import type { ManifestRecord } from '../index-store/manifest.js';
import type { DicomIds, IndexEntry } from '../index-store/store.js';
import { matchesWhere, type WhereFilter } from '../index-store/where.js';
import { readFileBytes } from '../io/read.js';
import type { DualEncoder, RGBImage } from '../models/capabilities.js';
import { sha256File } from '../runtime/hashing.js';
import type { ViewOptions } from '../transforms/index.js';
import { bytesToView, type FileError } from './encode-files.js';

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
 * images in one call and their texts in another, and build the index entries. A file that cannot be
 * read or decoded becomes a `FileError`; the others go on.
 */
export async function encodeIndexBatch(encoder: DualEncoder, items: BatchItem[], view?: ViewOptions): Promise<EncodedBatch> {
  let t = performance.now();
  const errors: FileError[] = [];
  const ready: Array<{ item: BatchItem; hash: string; rgb: RGBImage; modality?: string; dicom: DicomIds }> = [];
  for (const item of items) {
    try {
      const bytes = await readFileBytes(item.path);
      const hash = createHash('sha256').update(bytes).digest('hex');
      const { image, rgb } = await bytesToView(bytes, item.path, view);
      ready.push({ item, hash, rgb, ...(image.modality ? { modality: image.modality } : {}), dicom: dicomIds(image.phi) });
    } catch (e) {
      errors.push({ file: item.path, error: errorToJSON(e, item.path) });
    }
  }
  const readMs = performance.now() - t;
  if (ready.length === 0) return { entries: [], errors, readMs, encodeMs: 0 };
  t = performance.now();
  const imageVecs = await encoder.encodeImages(ready.map((r) => r.rgb));
  const textItems = ready.flatMap((r, i) => Object.entries(r.item.texts ?? {}).map(([field, text]) => ({ i, field, text })));
  const textVecs = textItems.length ? await encoder.encodeTexts(textItems.map((x) => x.text)) : [];
  const encodeMs = performance.now() - t;
  const entries = ready.map((r, i) => {
    const metadata = { ...(r.item.metadata ?? {}) };
    if (!metadata.modality && r.modality) metadata.modality = r.modality;
    const entry: IndexEntry = {
      path: r.item.path,
      hash: r.hash,
      vector: imageVecs[i],
      metadata,
      texts: textItems.flatMap((x, j) => (x.i === i ? [{ field: x.field, text: x.text, vector: textVecs[j] }] : [])),
    };
    if (Object.keys(r.dicom).length) entry.dicom = r.dicom;
    if (r.item.source) entry.source = r.item.source;
    return entry;
  });
  return { entries, errors, readMs, encodeMs };
}

/** A planned file as a batch item (texts, metadata and the raw manifest line from its record). */
export function batchItemOf(p: Pick<PlannedFile, 'path' | 'record'>): BatchItem {
  return { path: p.path, ...(p.record ? { texts: p.record.texts, metadata: p.record.metadata, source: p.record.raw } : {}) };
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
