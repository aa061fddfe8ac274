/**
 * `loadGenerator`: the one entry that turns a model id into a VisionLanguageGenerator. Remote ids
 * (`openai:`, `anthropic:`, `gemini:`) become HTTP clients; anything else is a local model folder,
 * bundled name or hub id loaded by transformers.js and chosen by config.json `model_type`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { LLAVA_LAYOUT, LLAVA_TYPES, loadLlava } from './generative/llava.js';
import { checkGeneratorFolder, layoutFiles, type GeneratorLayout } from './generative/dtype-files.js';
import { basename, join } from 'node:path';
import { ModelLoadError } from '../core/errors.js';
import { resolveDtypes, type DtypeSpec, type WeightDtype } from '../runtime/dtype.js';
import { loadConfigJson, type EngineLoadContext, type LoadProgress } from '../runtime/engine.js';
import { resolveRuntimeSettings, type RuntimeOptions } from '../runtime/env.js';
import { exclusiveLoad } from '../runtime/load-queue.js';
import { hubCacheFolder, resolveModelSource, type ModelSource } from '../runtime/sources.js';
import type { VisionLanguageGenerator } from './capabilities.js';
import { isRemoteModelId } from './remote/endpoint.js';
import { createRemoteGenerator, type RemoteGeneratorOptions } from './remote/generator.js';
import {
  loadVisionEncoderDecoder,
  VISION_ENCODER_DECODER_LAYOUT,
  VISION_ENCODER_DECODER_TYPES,
} from './generative/vision-encoder-decoder.js';

/** Options of `loadGenerator` (local and remote settings together). */
export interface LoadGeneratorOptions extends RuntimeOptions, RemoteGeneratorOptions {
  /**
   * Weights variant of local models (default 'fp32'): fp32, q8 (`*_quantized.onnx`), q4
   * (`*_q4.onnx`, 4-bit MatMulNBits), or one per ONNX file keyed by base name, e.g.
   * `{ decoder_model_merged: 'q4' }` (files left out stay fp32).
   */
  dtype?: DtypeSpec;
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

/** The decoder's dtype (what messages about the whole model name). */
function mainDtype(dtypes: Record<string, WeightDtype>): WeightDtype {
  return dtypes.decoder_model_merged ?? 'fp32';
}

async function loadLocalGenerator(id: string, opts: LoadGeneratorOptions): Promise<VisionLanguageGenerator> {
  const spec = opts.dtype ?? 'fp32';
  // validate the dtype (names and values) against both layouts before touching any file
  const dtypesFor = (layout: GeneratorLayout) => resolveDtypes(spec, layout.sessions, id);
  const layouts = [VISION_ENCODER_DECODER_LAYOUT, LLAVA_LAYOUT];
  const fitting = layouts.filter((l) => typeof spec === 'string' || Object.keys(spec).every((k) => l.sessions.includes(k)));
  if (fitting.length === 0) dtypesFor(VISION_ENCODER_DECODER_LAYOUT);
  const settings = resolveRuntimeSettings(opts);
  const resolved = resolveModelSource(id, { ...(opts.bundledDir ? { bundledDir: opts.bundledDir } : {}) });
  let source: ModelSource = resolved;
  if (resolved.kind === 'hub') {
    const cached = hubCacheFolder(settings.cacheDir, resolved.location);
    const complete = (layout: GeneratorLayout): boolean => layoutFiles(layout, dtypesFor(layout)).every((f) => existsSync(join(cached, f)));
    if (fitting.some(complete)) source = { kind: 'folder', location: cached };
    else if (settings.offline) {
      throw new ModelLoadError('E_MODEL_OFFLINE', `${id}: offline mode is on and the model is not in the cache; give a local folder as the model (CLI: --model /path/to/folder)`);
    }
  }
  const ctxFor = (dtypes: Record<string, WeightDtype>): EngineLoadContext<WeightDtype> => ({
    id,
    source,
    settings,
    dtype: mainDtype(dtypes),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  const config = source.kind === 'hub' ? await loadConfigJson(ctxFor({})) : readConfig(source.location);
  const type = config.model_type;
  const name = source.kind === 'hub' ? id : basename(source.location);
  if (typeof type === 'string' && VISION_ENCODER_DECODER_TYPES.includes(type)) {
    const dtypes = dtypesFor(VISION_ENCODER_DECODER_LAYOUT);
    if (source.kind !== 'hub') checkGeneratorFolder(source.location, VISION_ENCODER_DECODER_LAYOUT, dtypes);
    return loadVisionEncoderDecoder(ctxFor(dtypes), name, dtypes);
  }
  if (typeof type === 'string' && LLAVA_TYPES.includes(type)) {
    const dtypes = dtypesFor(LLAVA_LAYOUT);
    if (source.kind !== 'hub') checkGeneratorFolder(source.location, LLAVA_LAYOUT, dtypes);
    return loadLlava(ctxFor(dtypes), name, config, dtypes);
  }
  throw new ModelLoadError(
    'E_MODEL_INVALID',
    `${source.location}: config.json model_type ${JSON.stringify(type ?? null)} is not a generative model medvlm loads ` +
      `(local: ${supportedGeneratorTypes().join(', ')}; served models: openai:URL#MODEL, anthropic:MODEL, gemini:MODEL)`,
    { file: source.location },
  );
}
export { destinationOf, isRemoteModelId } from './remote/endpoint.js';
export { parseDtypeSpec, WEIGHT_DTYPES, type DtypeSpec, type WeightDtype } from '../runtime/dtype.js';
