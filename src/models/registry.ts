/**
 * `loadDualEncoder` (Node), the one entry point that turns a model id (bundled name, folder, hub id)
 * into a DualEncoder. Families are looked up in families.ts.
 */
export { registerDualEncoderFamily, supportedModelTypes, familyForConfig } from './families.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelLoadError, OptionError } from '../core/errors.js';
import { resolveRuntimeSettings, type RuntimeOptions } from '../runtime/env.js';
import { isModelDtype, MODEL_DTYPES, type ModelDtype } from '../runtime/dtype.js';
import { loadConfigJson, type EngineLoadContext, type LoadProgress } from '../runtime/engine.js';
import { folderModelFiles } from '../runtime/model-files-node.js';
import { exclusiveLoad } from '../runtime/load-queue.js';
import {
  hubCacheFolder,
  missingModelFiles,
  offlineMessage,
  resolveModelSource,
  validateModelFolder,
  type ModelSource,
} from '../runtime/sources.js';
import type { DualEncoder } from './capabilities.js';
import { familyForConfig } from './families.js';
import { TransformersDualEncoder, type BatchSizes } from './transformers-dual-encoder.js';

/** Options of `loadDualEncoder`. */
export interface LoadDualEncoderOptions extends RuntimeOptions {
  /** Weights variant (default 'fp32'). */
  dtype?: ModelDtype;
  /** Called with byte progress while hub files download. */
  onProgress?: (info: LoadProgress) => void;
  /** Folder of bundled models (default `<package root>/models`). */
  bundledDir?: string;
  /** Encoding batch sizes (default 16 images, 64 texts). */
  batchSize?: Partial<BatchSizes>;
}


function readConfig(folder: string): Record<string, unknown> {
  const path = join(folder, 'config.json');
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('not a JSON object');
    return value as Record<string, unknown>;
  } catch (e) {
    throw new ModelLoadError('E_MODEL_INVALID', `${path}: cannot read config.json: ${e instanceof Error ? e.message : String(e)}`, { file: path, cause: e });
  }
}

/**
 * Load a CLIP-family dual encoder from a bundled name, a local folder (Hugging Face layout) or a
 * hub id. Hub models already in the cache load offline; otherwise offline mode gives
 * E_MODEL_OFFLINE with a hint to use a local folder.
 */
export function loadDualEncoder(id: string, opts: LoadDualEncoderOptions = {}): Promise<DualEncoder> {
  return exclusiveLoad(() => loadDualEncoderNow(id, opts));
}

async function loadDualEncoderNow(id: string, opts: LoadDualEncoderOptions): Promise<DualEncoder> {
  const dtype = opts.dtype ?? 'fp32';
  if (!isModelDtype(dtype)) {
    throw new OptionError('E_BAD_OPTION', `dtype: expected one of ${MODEL_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`, { option: 'dtype' });
  }
  const settings = resolveRuntimeSettings(opts);
  const resolved = resolveModelSource(id, { bundledDir: opts.bundledDir });
  let source: ModelSource = resolved;
  if (resolved.kind === 'hub') {
    const cached = hubCacheFolder(settings.cacheDir, resolved.location);
    if (missingModelFiles(cached, dtype).length === 0) source = { kind: 'folder', location: cached };
    else if (settings.offline) throw new ModelLoadError('E_MODEL_OFFLINE', offlineMessage(id, dtype, 'offline mode is on'));
  } else {
    validateModelFolder(resolved.location, dtype);
  }
  const ctx: EngineLoadContext = { id, source, settings, dtype, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) };
  const config = source.kind === 'hub' ? await loadConfigJson(ctx) : readConfig(source.location);
  const family = familyForConfig(config, source.location);
  const files = source.kind === 'hub' ? { ...folderModelFiles(hubCacheFolder(settings.cacheDir, source.location)), remote: true } : folderModelFiles(source.location);
  return TransformersDualEncoder.load(family, ctx, config, resolved.kind, files, opts.batchSize);
}

export { loadTextSegmenter, type LoadSegmenterOptions } from './text-segmenter.js';
export { loadPromptableSegmenter, samRecipe, SamSegmenter, type SamPrediction } from './sam.js';
