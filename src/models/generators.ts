/**
 * `loadGenerator`: the one entry that turns a model id into a VisionLanguageGenerator. Remote ids
 * (`openai:`, `anthropic:`, `gemini:`) become HTTP clients; anything else is a local model folder,
 * bundled name or hub id loaded by transformers.js and chosen by config.json `model_type`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { LLAVA_TYPES, llavaFiles, loadLlava, validateLlavaFolder } from './generative/llava.js';
import { basename, join } from 'node:path';
import { ModelLoadError, OptionError } from '../core/errors.js';
import { isModelDtype, MODEL_DTYPES, type ModelDtype } from '../runtime/dtype.js';
import { loadConfigJson, type EngineLoadContext, type LoadProgress } from '../runtime/engine.js';
import { resolveRuntimeSettings, type RuntimeOptions } from '../runtime/env.js';
import { exclusiveLoad } from '../runtime/load-queue.js';
import { hubCacheFolder, resolveModelSource, type ModelSource } from '../runtime/sources.js';
import type { VisionLanguageGenerator } from './capabilities.js';
import { isRemoteModelId } from './remote/endpoint.js';
import { createRemoteGenerator, type RemoteGeneratorOptions } from './remote/generator.js';
import {
  loadVisionEncoderDecoder,
  validateVisionEncoderDecoderFolder,
  VISION_ENCODER_DECODER_TYPES,
  visionEncoderDecoderFiles,
} from './generative/vision-encoder-decoder.js';

/** Options of `loadGenerator` (local and remote settings together). */
export interface LoadGeneratorOptions extends RuntimeOptions, RemoteGeneratorOptions {
  /** Weights variant of local models (default 'fp32'). */
  dtype?: ModelDtype;
  onProgress?: (info: LoadProgress) => void;
  /** Folder of bundled models (default `<package root>/models`). */
  bundledDir?: string;
}

/** config.json `model_type` values that load as local generators. */
export function supportedGeneratorTypes(): string[] {
  return [...VISION_ENCODER_DECODER_TYPES, ...LLAVA_TYPES].sort();
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
 * Load a generator. Remote: checks the privacy guard and the API key before any request. Local:
 * validates the folder, then loads through transformers.js.
 */
export async function loadGenerator(id: string, opts: LoadGeneratorOptions = {}): Promise<VisionLanguageGenerator> {
  if (isRemoteModelId(id)) return createRemoteGenerator(id, opts);
  return exclusiveLoad(() => loadLocalGenerator(id, opts));
}

async function loadLocalGenerator(id: string, opts: LoadGeneratorOptions): Promise<VisionLanguageGenerator> {
  const dtype = opts.dtype ?? 'fp32';
  if (!isModelDtype(dtype)) throw new OptionError('E_BAD_OPTION', `dtype: expected one of ${MODEL_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  const settings = resolveRuntimeSettings(opts);
  const resolved = resolveModelSource(id, { ...(opts.bundledDir ? { bundledDir: opts.bundledDir } : {}) });
  let source: ModelSource = resolved;
  if (resolved.kind === 'hub') {
    const cached = hubCacheFolder(settings.cacheDir, resolved.location);
    const complete = (files: string[]): boolean => files.every((f) => existsSync(join(cached, f)));
    if (complete(visionEncoderDecoderFiles(dtype)) || complete(llavaFiles(dtype))) source = { kind: 'folder', location: cached };
    else if (settings.offline) {
      throw new ModelLoadError('E_MODEL_OFFLINE', `${id}: offline mode is on and the model is not in the cache; give a local folder as the model (CLI: --model /path/to/folder)`);
    }
  }
  const ctx: EngineLoadContext = { id, source, settings, dtype, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) };
  const config = source.kind === 'hub' ? await loadConfigJson(ctx) : readConfig(source.location);
  const type = config.model_type;
  if (typeof type === 'string' && VISION_ENCODER_DECODER_TYPES.includes(type)) {
    if (source.kind !== 'hub') validateVisionEncoderDecoderFolder(source.location, dtype);
    return loadVisionEncoderDecoder(ctx, source.kind === 'hub' ? id : basename(source.location));
  }
  if (typeof type === 'string' && LLAVA_TYPES.includes(type)) {
    if (source.kind !== 'hub') validateLlavaFolder(source.location, dtype);
    return loadLlava(ctx, source.kind === 'hub' ? id : basename(source.location), config);
  }
  throw new ModelLoadError(
    'E_MODEL_INVALID',
    `${source.location}: config.json model_type ${JSON.stringify(type ?? null)} is not a generative model medvlm loads ` +
      `(local: ${supportedGeneratorTypes().join(', ')}; served models: openai:URL#MODEL, anthropic:MODEL, gemini:MODEL)`,
    { file: source.location },
  );
}
export { destinationOf, isRemoteModelId } from './remote/endpoint.js';
