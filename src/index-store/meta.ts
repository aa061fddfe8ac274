/**
 * The index's own description (`medvlm-index.json` in the index folder): which model made every
 * vector in it. Written once, atomically (temporary file + rename), before the first vector is stored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeAtomic } from '../core/atomic.js';
import { join } from 'node:path';
import { inputError, MedvlmError } from '../core/errors.js';
import type { ModelInfo } from '../models/capabilities.js';

/** File name of the index description inside the index folder. */
export const META_FILE = 'medvlm-index.json';

/** Format tag and version of `medvlm-index.json`. */
export const INDEX_FORMAT = 'medvlm-index';
export const INDEX_FORMAT_VERSION = 1;

/** The model an index was built with. */
export interface IndexModel {
  id: string;
  family: string;
  dtype: string;
  embedDim: number;
  /** sha256 of each model file, as in `ModelInfo.fileHashes`: this, not the id, decides compatibility. */
  fileHashes: Record<string, string>;
}

/** Contents of `medvlm-index.json`. */
export interface IndexMeta {
  format: typeof INDEX_FORMAT;
  formatVersion: number;
  createdAt: string;
  model: IndexModel;
}

/** The model part of the metadata, from a loaded model's info. */
export function indexModelFrom(info: ModelInfo): IndexModel {
  return { id: info.id, family: info.family, dtype: info.dtype, embedDim: info.embedDim, fileHashes: { ...info.fileHashes } };
}

/** True when two model records describe the same weights (same files, same hashes). */
export function sameModel(a: IndexModel, b: IndexModel): boolean {
  if (a.embedDim !== b.embedDim) return false;
  const ka = Object.keys(a.fileHashes).sort();
  const kb = Object.keys(b.fileHashes).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a.fileHashes[k] === b.fileHashes[k]);
}

/**
 * Refuse a model whose weights differ from the index's.
 * @throws MedvlmError E_INDEX_MODEL_MISMATCH naming both models.
 */
export function assertSameModel(dir: string, meta: IndexMeta, model: IndexModel): void {
  if (sameModel(meta.model, model)) return;
  throw new MedvlmError(
    'E_INDEX_MODEL_MISMATCH',
    `${dir}: index was built with model ${meta.model.id} (${meta.model.dtype}, ${meta.model.embedDim}-d); ` +
      `${model.id} (${model.dtype}, ${model.embedDim}-d) has different weights and its embeddings are not comparable: ` +
      (meta.model.id === model.id && meta.model.dtype === model.dtype
        ? `the model files changed since the index was built: rebuild the index (a new --index folder) with the current model`
        : `use --model ${meta.model.id}${meta.model.dtype !== 'fp32' ? ` --dtype ${meta.model.dtype}` : ''} or another --index`),
    { file: dir },
  );
}

/** Read `medvlm-index.json`, or undefined when the folder has none. @throws E_INDEX_INVALID when unreadable. */
export function readMeta(dir: string): IndexMeta | undefined {
  const file = join(dir, META_FILE);
  if (!existsSync(file)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw inputError('E_INDEX_INVALID', file, `cannot read the index description: ${(e as Error).message}`, e);
  }
  const m = v as Partial<IndexMeta>;
  if (m?.format !== INDEX_FORMAT || typeof m.model?.embedDim !== 'number' || typeof m.model.fileHashes !== 'object') {
    throw inputError('E_INDEX_INVALID', file, `not a medvlm index description (expected "format": "${INDEX_FORMAT}" and a model record)`);
  }
  if ((m.formatVersion ?? 0) > INDEX_FORMAT_VERSION) {
    throw inputError('E_INDEX_INVALID', file, `index format version ${m.formatVersion} is newer than this medvlm understands (${INDEX_FORMAT_VERSION}); upgrade medvlm`);
  }
  return m as IndexMeta;
}

/** Write `medvlm-index.json` durably (temporary file, fsync, rename). */
export async function writeMeta(dir: string, meta: IndexMeta): Promise<void> {
  await writeAtomic(join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n');
}
