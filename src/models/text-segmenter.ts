/**
 * Text-prompted segmenters on transformers.js (the TextPromptedSegmenter capability), by config.json:
 * - `model_type: "medvlm-text-segmenter"` (medvlm-tiny-seg): `onnx/model.onnx` with inputs pixel_values
 *   [B,3,S,S], input_ids, attention_mask [B,L] (int64) → `logits` [B,1,H',W']; config keys `image_size`,
 *   `max_text_length`, `threshold`, `prompts`; preprocessing from preprocessor_config.json (resize to S x S,
 *   no crop);
 * - `model_type: "clipseg"` (CLIPSegForImageSegmentation, e.g. Xenova/clipseg-rd64-refined): `logits`
 *   [B,H',W'] (or [H',W']); threshold 0.5 unless config.json has `threshold`.
 * Probability = sigmoid(logit). Anything else is E_MODEL_NOT_SEGMENTER.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceError, MedvlmError, ModelLoadError, OptionError } from '../core/errors.js';
import { resolveRuntimeSettings } from '../runtime/env.js';
import { isModelDtype, MODEL_DTYPES, onnxFileFor, type ModelDtype } from '../runtime/dtype.js';
import { loadConfigJson, loadImageProcessor, loadModel, loadTokenizer, type EngineLoadContext, type EngineModel, type EngineTokenizer } from '../runtime/engine.js';
import { PixelValues } from './pixel-values.js';
import { exclusiveLoad } from '../runtime/load-queue.js';
import { folderModelFiles } from '../runtime/model-files-node.js';
import { hubCacheFolder, offlineMessage, resolveModelSource, type ModelSource } from '../runtime/sources.js';
import type { ProbabilityMap, RGBImage, SegmenterInfo, TextPromptedSegmenter } from './capabilities.js';
import type { LoadDualEncoderOptions } from './registry.js';

/** What a segmenter family declares. */
interface SegmenterFamily {
  modelType: string;
  /** transformers.js class that loads `onnx/model.onnx`. */
  engineClass: string;
  /** Threshold when config.json has none. */
  defaultThreshold: number;
}

const FAMILIES: SegmenterFamily[] = [
  { modelType: 'medvlm-text-segmenter', engineClass: 'PreTrainedModel', defaultThreshold: 0.5 },
  { modelType: 'clipseg', engineClass: 'CLIPSegForImageSegmentation', defaultThreshold: 0.5 },
];

/** Options of `loadTextSegmenter` (the same runtime options as dual encoders). */
export type LoadSegmenterOptions = Omit<LoadDualEncoderOptions, 'batchSize'> & { batchSize?: number };

const SEGMENTER_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json'];

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

class TransformersTextSegmenter implements TextPromptedSegmenter {
  constructor(
    readonly info: SegmenterInfo,
    readonly threshold: number,
    readonly prompts: Record<string, string>,
    private readonly tokenizer: EngineTokenizer,
    private readonly pixels: PixelValues,
    private readonly model: EngineModel,
    private readonly batch: number,
  ) {}

  async segment(images: RGBImage[], texts: string[]): Promise<ProbabilityMap[]> {
    if (images.length !== texts.length) throw new OptionError('E_BAD_OPTION', `segment: ${images.length} images but ${texts.length} prompts`, { option: 'text' });
    const out: ProbabilityMap[] = [];
    for (let start = 0; start < images.length; start += this.batch) {
      const chunk = images.slice(start, start + this.batch);
      let logits;
      try {
        const pixel_values = await this.pixels.of(chunk, start);
        const tokens = this.tokenizer(texts.slice(start, start + this.batch), { padding: true, truncation: true });
        const inputs: Record<string, unknown> = { pixel_values };
        for (const name of this.model.inputNames) if (name !== 'pixel_values') inputs[name] = tokens[name];
        logits = (await this.model(inputs)).logits;
      } catch (e) {
        if (e instanceof MedvlmError) throw e;
        throw new InferenceError('E_INFERENCE_FAILED', `${this.info.location}: segmenter failed: ${e instanceof Error ? e.message : String(e)}`, { file: this.info.location, cause: e });
      }
      if (!logits) throw new InferenceError('E_INFERENCE_FAILED', `${this.info.location}: the segmenter returned no "logits" output`, { file: this.info.location });
      const dims = logits.dims;
      const [h, w] = dims.slice(-2);
      const data = logits.data as ArrayLike<number>;
      if (dims.reduce((a, b) => a * b, 1) !== chunk.length * h * w) {
        throw new InferenceError('E_INFERENCE_FAILED', `${this.info.location}: logits dims [${dims.join(', ')}] do not hold one ${h}x${w} map per image (${chunk.length})`, { file: this.info.location });
      }
      for (let i = 0; i < chunk.length; i++) {
        const map = new Float32Array(h * w);
        for (let j = 0; j < h * w; j++) map[j] = sigmoid(data[i * h * w + j]);
        out.push({ width: w, height: h, data: map });
      }
    }
    return out;
  }

  dispose(): Promise<void> {
    return this.model.dispose().then(() => undefined);
  }
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ModelLoadError('E_MODEL_INVALID', `${path}: cannot read: ${e instanceof Error ? e.message : String(e)}`, { file: path, cause: e });
  }
}

/**
 * Load a text-prompted segmenter from a bundled name (e.g. `medvlm-tiny-seg`), a folder or a hub id.
 * @throws ModelLoadError E_MODEL_NOT_FOUND / E_MODEL_OFFLINE / E_MODEL_INVALID (missing files), E_MODEL_NOT_SEGMENTER
 *   (config.json of another kind of model)
 */
export function loadTextSegmenter(id: string, opts: LoadSegmenterOptions = {}): Promise<TextPromptedSegmenter> {
  return exclusiveLoad(() => loadNow(id, opts));
}

async function loadNow(id: string, opts: LoadSegmenterOptions): Promise<TextPromptedSegmenter> {
  const dtype: ModelDtype = opts.dtype ?? 'fp32';
  if (!isModelDtype(dtype)) throw new OptionError('E_BAD_OPTION', `dtype: expected one of ${MODEL_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`, { option: 'dtype' });
  const settings = resolveRuntimeSettings(opts);
  const resolved = resolveModelSource(id, { bundledDir: opts.bundledDir });
  let source: ModelSource = resolved;
  const onnx = onnxFileFor('model', dtype);
  if (resolved.kind === 'hub') {
    const cached = hubCacheFolder(settings.cacheDir, resolved.location);
    if ([...SEGMENTER_FILES, onnx].every((f) => existsSync(join(cached, f)))) source = { kind: 'folder', location: cached };
    else if (settings.offline) throw new ModelLoadError('E_MODEL_OFFLINE', offlineMessage(id, dtype, 'offline mode is on'));
  } else {
    const missing = [...SEGMENTER_FILES, onnx].filter((f) => !existsSync(join(resolved.location, f)));
    if (missing.length) throw new ModelLoadError('E_MODEL_INVALID', `${resolved.location}: not a complete segmenter folder for dtype ${dtype}: missing ${missing.join(', ')}`, { file: resolved.location });
  }
  const ctx: EngineLoadContext = { id, source, settings, dtype, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) };
  const config = source.kind === 'hub' ? await loadConfigJson(ctx) : readJson(join(source.location, 'config.json'));
  const family = FAMILIES.find((f) => f.modelType === config.model_type);
  if (!family) {
    throw new ModelLoadError(
      'E_MODEL_NOT_SEGMENTER',
      `${source.location}: config.json model_type ${JSON.stringify(config.model_type ?? null)} is not a text-prompted segmenter (supported: ${FAMILIES.map((f) => f.modelType).join(', ')})`,
      { file: source.location },
    );
  }
  const threshold = typeof config.threshold === 'number' && config.threshold > 0 && config.threshold < 1 ? config.threshold : family.defaultThreshold;
  const prompts = (typeof config.prompts === 'object' && config.prompts !== null ? config.prompts : {}) as Record<string, string>;
  const tokenizer = await loadTokenizer(ctx);
  const processor = await loadImageProcessor(ctx);
  const model = await loadModel(ctx, family.engineClass);
  const files = source.kind === 'folder' || source.kind === 'bundled' ? folderModelFiles(source.location) : undefined;
  const loaded = [...SEGMENTER_FILES, onnx];
  const fileHashes = files ? await files.hashes(loaded) : {};
  const info: SegmenterInfo = { id, family: family.modelType, location: source.location, dtype, fileHashes };
  return new TransformersTextSegmenter(info, threshold, prompts, tokenizer, new PixelValues(processor), model, Math.max(1, opts.batchSize ?? 8));
}
