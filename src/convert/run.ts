/**
 * `convertModel`: the whole conversion as one library call (what `medvlm convert` runs): fetch a hub
 * id into the cache when needed, convert, record the folder for `medvlm models`, and load the result
 * with medvlm to check it (q8 against fp32).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { OptionError } from '../core/errors.js';
import { recordConvertedFolder } from '../models/converted.js';
import { isModelDtype, type ModelDtype } from '../runtime/dtype.js';
import type { LoadProgress } from '../runtime/engine.js';
import { resolveRuntimeSettings } from '../runtime/env.js';
import { convertCheckpoint, recordParity, type ConvertResult } from './convert.js';
import { localSource } from './source.js';
import { selfCheck, type SelfCheck } from './verify.js';

/** Options of `convertModel`. */
export interface ConvertModelOptions {
  /** Output model folder (refused when it exists, unless `force`). */
  out: string;
  /** Weights variants to write (default fp32). */
  dtypes?: ModelDtype[];
  /** Architecture recipe (default: detected from the checkpoint's keys). */
  recipe?: string;
  force?: boolean;
  /** Load the result with medvlm afterwards (default true). */
  check?: boolean;
  /** Never contact a hub (default: MEDVLM_OFFLINE). */
  offline?: boolean;
  onProgress?: (message: string) => void;
  onDownload?: (p: LoadProgress) => void;
}

/** Parse a comma-separated dtype list ("fp32,q8"). */
export function parseDtypeList(value: string): ModelDtype[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((d) => !isModelDtype(d));
  if (list.length === 0 || bad.length > 0) throw new OptionError('E_BAD_OPTION', `dtype ${value}: expected a comma-separated list of fp32, q8`, { option: 'dtype' });
  return [...new Set(list)] as ModelDtype[];
}

/** Convert a checkpoint (file, folder or hub id) into a model folder every medvlm command loads. */
export async function convertModel(source: string, opts: ConvertModelOptions): Promise<ConvertResult & { check?: SelfCheck }> {
  const dtypes = opts.dtypes ?? ['fp32'];
  const settings = resolveRuntimeSettings(opts.offline ? { offline: true } : {});
  const local = await localSource(source, settings, opts.onDownload);
  const result = convertCheckpoint({
    source: local,
    out: opts.out,
    dtypes,
    ...(opts.force ? { force: true } : {}),
    ...(opts.recipe ? { recipe: opts.recipe } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  recordConvertedFolder(settings.cacheDir, { path: result.out, recipe: result.recipe, source: existsSync(source) ? resolve(source) : source, convertedAt: new Date().toISOString() });
  if (opts.check === false) return result;
  opts.onProgress?.('checking the converted folder with medvlm');
  const check = await selfCheck(result.out, dtypes);
  recordParity(result.out, { self_check: check });
  return { ...result, check };
}
