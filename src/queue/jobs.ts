/**
 * What travels through Redis: a job is a batch of files to encode (paths, manifest texts and
 * metadata, the content hash the enqueuer saw, the view options); its return value is the
 * embeddings (float32 bytes in base64, exact) and what the worker read from each file.
 */
import { createHash } from 'node:crypto';
import type { DicomIds, IndexEntry } from '../index-store/store.js';
import type { EntryMetadata } from '../index-store/manifest.js';
import type { FileError } from '../tasks/batch.js';
import type { ViewOptions } from '../transforms/index.js';

/** One file of a job. */
export interface JobItem {
  path: string;
  /** sha256 of the bytes when enqueued (the worker stores the hash of what it actually read). */
  hash: string;
  texts?: Record<string, string>;
  metadata?: EntryMetadata;
  source?: Record<string, unknown>;
}

/** Data of an encode job. */
export interface EncodeJobData {
  items: JobItem[];
  view?: ViewOptions;
  /** Key of the model the job was made for (see `modelKey`). */
  model: string;
}

/** One encoded file in a job's return value. */
export interface WireEntry {
  path: string;
  hash: string;
  /** Image embedding, float32 little-endian, base64. */
  vector: string;
  /** Text embeddings by field, same encoding. */
  texts: Record<string, string>;
  /** Modality read from the file when the manifest had none. */
  modality?: string;
  dicom?: DicomIds;
}

/** Return value of an encode job. */
export interface EncodeJobResult {
  entries: WireEntry[];
  errors: FileError[];
}

/** Float32 embedding → base64 of its bytes (lossless). */
export function vectorToWire(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

/** base64 → Float32Array (copied, aligned). */
export function vectorFromWire(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** A stable key for a model's weights: sha256 over its files' hashes. */
export function modelKey(fileHashes: Record<string, string>): string {
  const lines = Object.keys(fileHashes)
    .sort()
    .map((k) => `${k}=${fileHashes[k]}`);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/**
 * The job id of a batch: a hash of the model key, the view options and each file's path, content hash
 * and texts. Enqueuing the same work twice names the same job, which BullMQ adds only once.
 */
export function batchJobId(model: string, view: ViewOptions | undefined, items: JobItem[]): string {
  const h = createHash('sha256');
  h.update(model).update('\0').update(JSON.stringify(view ?? {}));
  for (const it of items) h.update('\0').update(it.path).update('\0').update(it.hash).update('\0').update(JSON.stringify(it.texts ?? {}));
  return `enc-${h.digest('hex').slice(0, 40)}`;
}

/** An index entry as a worker sends it back. */
export function entryToWire(e: IndexEntry): WireEntry {
  const texts: Record<string, string> = {};
  for (const t of e.texts) texts[t.field] = vectorToWire(t.vector);
  return {
    path: e.path,
    hash: e.hash,
    vector: vectorToWire(e.vector),
    texts,
    ...(e.metadata.modality ? { modality: e.metadata.modality } : {}),
    ...(e.dicom ? { dicom: e.dicom } : {}),
  };
}

/** Rebuild the index entry from the job's item (texts, metadata, manifest line) and the worker's result. */
export function entryFromWire(item: JobItem, w: WireEntry): IndexEntry {
  const metadata: EntryMetadata = { ...(item.metadata ?? {}) };
  if (!metadata.modality && w.modality) metadata.modality = w.modality;
  const entry: IndexEntry = {
    path: w.path,
    hash: w.hash,
    vector: vectorFromWire(w.vector),
    metadata,
    texts: Object.entries(item.texts ?? {}).flatMap(([field, text]) => (w.texts[field] ? [{ field, text, vector: vectorFromWire(w.texts[field]) }] : [])),
  };
  if (w.dicom && Object.keys(w.dicom).length) entry.dicom = w.dicom;
  if (item.source) entry.source = item.source;
  return entry;
}
