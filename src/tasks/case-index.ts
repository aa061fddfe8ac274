/**
 * The case index as tasks see it: which model an index needs, opening it with a loaded model, and the
 * administrative operations (remove, stats, export) that need no model. Surfaces call these rather
 * than the store.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { inputError } from '../core/errors.js';
import { CaseIndex, type IndexStats, type StoredEntry } from '../index-store/store.js';
import { indexModelFrom, readMeta } from '../index-store/meta.js';

export { indexModelFrom };
import { parseWhere, type WhereFilter } from '../index-store/where.js';
import type { DualEncoder } from '../models/capabilities.js';
import { DEFAULT_MODEL } from '../models/defaults.js';
import { loadDualEncoder, type LoadDualEncoderOptions } from '../models/registry.js';
import type { FileError } from './batch.js';
import { addToIndex, type AddToIndexOptions, type AddToIndexResult } from './search.js';

/** A model choice: the id and weights variant to load. */
export interface ModelChoice {
  model: string;
  dtype: 'fp32' | 'q8';
}

/**
 * The model to use with an index: what the caller named, else the index's own model and dtype (else
 * the default model for a new index).
 * @throws InputError E_INDEX_NOT_FOUND when `mustExist` and `dir` holds no index (checked before any model loads)
 */
export function modelForIndex(dir: string, asked: { model?: string; dtype?: 'fp32' | 'q8' }, mustExist = true): ModelChoice {
  const meta = readMeta(dir);
  if (!meta && mustExist) {
    throw inputError(
      'E_INDEX_NOT_FOUND',
      dir,
      existsSync(dir) ? 'not a medvlm index (no medvlm-index.json); create one with medvlm index add' : 'no such index folder; create one with medvlm index add',
    );
  }
  return {
    model: asked.model ?? meta?.model.id ?? DEFAULT_MODEL,
    dtype: asked.dtype ?? ((meta?.model.dtype as ModelChoice['dtype'] | undefined) ?? 'fp32'),
  };
}

/** Open an index for a loaded model (refused unless the model's weights match the index's). */
export function openIndexFor(dir: string, encoder: DualEncoder, create = false): Promise<CaseIndex> {
  return CaseIndex.open(dir, { create, model: indexModelFrom(encoder.info) });
}

/** Filters given as `key=value` strings or already parsed. */
export function toWhere(where: ReadonlyArray<string | WhereFilter> | undefined): WhereFilter[] {
  return (where ?? []).map((w) => (typeof w === 'string' ? parseWhere([w])[0] : w));
}

async function withIndex<T>(dir: string, body: (index: CaseIndex) => Promise<T>): Promise<T> {
  const index = await CaseIndex.open(dir);
  try {
    return await body(index);
  } finally {
    index.close();
  }
}

/** What `removeFromIndex` did. */
export interface RemoveResult {
  index: string;
  removed: number;
  requested: number;
}

/** Remove entries (and their texts) by image path (resolved to absolute paths). */
export function removeFromIndex(dir: string, paths: string[]): Promise<RemoveResult> {
  return withIndex(dir, async (index) => {
    const abs = paths.map((p) => resolve(p));
    const removed = await index.remove(abs);
    await index.optimize({ ann: false });
    return { index: resolve(dir), removed, requested: abs.length };
  });
}

/** Entries, texts, model, approximate-search state and size of an index. */
export function indexStats(dir: string): Promise<IndexStats> {
  return withIndex(dir, (index) => index.stats());
}

/** Options of `exportIndex`. */
export interface ExportIndexOptions {
  where?: ReadonlyArray<string | WhereFilter>;
  /** Include the image embeddings (as number arrays). */
  vectors?: boolean;
  /** Include DICOM study/series/SOP instance UIDs. */
  showPhi?: boolean;
}

/** One exported entry (plain JSON). */
export type ExportedEntry = Omit<StoredEntry, 'vector' | 'dicom'> & { vector?: number[]; dicom?: StoredEntry['dicom'] };

/** Every entry (path, hash, metadata, texts; embeddings with `vectors`), DICOM UIDs only with `showPhi`. */
export function exportIndex(dir: string, opts: ExportIndexOptions = {}): Promise<ExportedEntry[]> {
  const where = toWhere(opts.where);
  return withIndex(dir, async (index) => {
    const entries = await index.entries({ where, withVectors: Boolean(opts.vectors) });
    return entries.map((e) => withoutPhi({ ...e, vector: e.vector ? Array.from(e.vector) : undefined }, Boolean(opts.showPhi)));
  });
}

/** DICOM identifiers are kept only with `showPhi`. */
export function withoutPhi<T extends { dicom?: unknown }>(x: T, showPhi: boolean): T {
  if (showPhi) return x;
  const copy = { ...x };
  delete copy.dicom;
  return copy;
}

/** Options of `addToIndexFolder`: the model (default: the index's own, else the default model) and the add options. */
export interface AddToIndexFolderOptions extends AddToIndexOptions {
  model?: string;
  dtype?: 'fp32' | 'q8';
  /** How the model loads (threads, offline, download progress, ...). */
  load?: Omit<LoadDualEncoderOptions, 'dtype'>;
}

/** What `addToIndexFolder` did, as `medvlm index add --json` prints it. */
export interface IndexAddSummary {
  index: string;
  model: string;
  added: number;
  replaced: number;
  unchanged: number;
  duplicates: AddToIndexResult['duplicates'];
  filteredOut: number;
  errors: FileError[];
  annBuilt: boolean;
  /** The index could not be written (full disk, a writer that never let go): the files not added are in `errors`. */
  writeError?: AddToIndexResult['writeError'];
  /** Entries were committed but compaction or the approximate index failed. */
  optimizeError?: AddToIndexResult['optimizeError'];
  timingMs: Record<string, number>;
}

/**
 * Add images to the index in `dir` (created when missing) with the index's model: load it, open the
 * index (refused when the weights differ), add, close.
 */
export async function addToIndexFolder(dir: string, files: string[], opts: AddToIndexFolderOptions = {}): Promise<IndexAddSummary> {
  const { model, dtype, load, ...rest } = opts;
  const choice = modelForIndex(dir, { ...(model ? { model } : {}), ...(dtype ? { dtype } : {}) }, false);
  const encoder = await loadDualEncoder(choice.model, { ...load, dtype: choice.dtype });
  let result: AddToIndexResult;
  try {
    const index = await openIndexFor(dir, encoder, true);
    try {
      result = await addToIndex(encoder, index, files, rest);
    } finally {
      index.close();
    }
  } finally {
    await encoder.dispose();
  }
  return {
    index: resolve(dir),
    model: encoder.info.id,
    added: result.added.length,
    replaced: result.replaced.length,
    unchanged: result.unchanged.length,
    duplicates: result.duplicates,
    filteredOut: result.filteredOut,
    errors: result.errors,
    annBuilt: result.annBuilt,
    ...(result.writeError ? { writeError: result.writeError } : {}),
    ...(result.optimizeError ? { optimizeError: result.optimizeError } : {}),
    timingMs: Object.fromEntries(Object.entries(result.timing).map(([k, v]) => [k, Math.round(v)])),
  };
}
