/**
 * The family registry: config.json `model_type` → family, and `loadDualEncoder`, the one entry
 * point that turns a model id (bundled name, folder, hub id) into a DualEncoder.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelLoadError, OptionError } from '../core/errors.js';
import { resolveRuntimeSettings, type RuntimeOptions } from '../runtime/env.js';
import { isModelDtype, MODEL_DTYPES, type ModelDtype } from '../runtime/dtype.js';
import { loadConfigJson, type EngineLoadContext, type LoadProgress } from '../runtime/engine.js';
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
import type { DualEncoderFamily } from './family.js';
import { clipFamily } from './clip/family.js';
import { siglipFamily } from './siglip/family.js';
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

const families = new Map<string, DualEncoderFamily>();


/** Register a family under each of its `model_type` values (later registrations win). */
export function registerDualEncoderFamily(family: DualEncoderFamily): void {
  for (const t of family.modelTypes) families.set(t, family);
}

registerDualEncoderFamily(clipFamily);
registerDualEncoderFamily(siglipFamily);

/** The `model_type` values that load as dual encoders, sorted. */
export function supportedModelTypes(): string[] {
  return [...families.keys()].sort();
}

/** The family for a config.json, or E_MODEL_INVALID listing the supported model types. */
export function familyForConfig(config: Record<string, unknown>, where: string): DualEncoderFamily {
  const type = config.model_type;
  const family = typeof type === 'string' ? families.get(type) : undefined;
  if (!family) {
    throw new ModelLoadError(
      'E_MODEL_INVALID',
      `${where}: config.json model_type ${JSON.stringify(type ?? null)} is not a supported dual encoder (supported: ${supportedModelTypes().join(', ')})`,
      { file: where },
    );
  }
  return family;
}

function readConfig(folder: string): Record<string, unknown> {
  const path = join(folder, 'config.json');
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
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
    throw new OptionError('E_BAD_OPTION', `dtype: expected one of ${MODEL_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
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
  return TransformersDualEncoder.load(family, ctx, config, resolved.kind, opts.batchSize);
}
