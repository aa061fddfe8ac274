/**
 * SAM-family promptable segmenters (the PromptableSegmenter capability) in transformers.js' SAM layout
 * (`config.json` model_type `sam`; SAM, SlimSAM and MedSAM conversions such as Xenova/slimsam-77-uniform):
 * - `onnx/vision_encoder.onnx`: pixel_values [B,3,S,S] → image_embeddings, image_positional_embeddings;
 * - `onnx/prompt_encoder_mask_decoder.onnx`: image_embeddings, image_positional_embeddings, input_points
 *   [B,P,N,2] (float32, pixels of the resized frame), input_labels [B,P,N] (int64), and `input_boxes` [B,P,4]
 *   where the export has it → iou_scores [B,P,K], pred_masks [B,P,K,h,w] (K = 3 multimask outputs, or 1).
 * Preprocessing is medvlm's (src/transforms/longest-side.ts): Hugging Face's SamImageProcessor semantics with
 * Pillow resampling; prompt coordinates are scaled to the resized frame; the mask is post-processed back to the
 * image's size (bilinear to the pad square, crop, bilinear to the original size).
 *
 * Mask choice: of the K masks the one with the highest predicted IoU (SAM's own recommendation for ambiguous
 * prompts; the exports transformers.js loads return only the 3 multimask outputs). Probability = sigmoid(logit),
 * so p ≥ 0.5 is SAM's mask (logit > 0).
 *
 * Prompts an export cannot take: without `input_boxes` a box is dropped (points only; the result says so) and a
 * box alone is E_BAD_OPTION; with `input_boxes` a box is required (the graph has no "no box" input), and a box
 * without points gets one padding point (label -10, Hugging Face's padding label).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceError, MedvlmError, ModelLoadError, OptionError } from '../core/errors.js';
import { isModelDtype, MODEL_DTYPES, onnxFileFor, type ModelDtype } from '../runtime/dtype.js';
import { float32Tensor, int64Tensor, loadConfigJson, loadImageProcessor, loadModel, type EngineLoadContext, type EngineModel } from '../runtime/engine.js';
import { resolveRuntimeSettings } from '../runtime/env.js';
import { exclusiveLoad } from '../runtime/load-queue.js';
import { folderModelFiles } from '../runtime/model-files-node.js';
import { hubCacheFolder, offlineMessage, resolveModelSource, type ModelSource } from '../runtime/sources.js';
import { longestSideInput, maskToOriginal, type LongestSideRecipe } from '../transforms/longest-side.js';
import { resampleFilterFor } from '../transforms/resize.js';
import type { PromptableSegmenter, PromptedSegmentation, RGBImage, SegmenterInfo, SegmenterPrompt } from './capabilities.js';
import type { LoadSegmenterOptions } from './text-segmenter.js';

/** The engine's session name for the decoder (the vision encoder is `model`). */
const DECODER_SESSION = 'prompt_encoder_mask_decoder';
const JSON_FILES = ['config.json', 'preprocessor_config.json'];
const onnxFiles = (dtype: ModelDtype): string[] => [onnxFileFor('vision_encoder', dtype), onnxFileFor('prompt_encoder_mask_decoder', dtype)];

/** Everything one prediction computed, for tests and results. */
export interface SamPrediction {
  /** Mask logits of the chosen mask at the image's size (row-major). */
  logits: Float32Array;
  width: number;
  height: number;
  /** Predicted IoU of each of the K masks. */
  iouScores: number[];
  /** Index of the chosen mask (arg-max of iouScores). */
  maskIndex: number;
  used: SegmenterPrompt;
  notes: string[];
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** A SAM-family model on transformers.js' SamModel. */
export class SamSegmenter implements PromptableSegmenter {
  constructor(
    readonly info: SegmenterInfo,
    private readonly recipe: LongestSideRecipe,
    private readonly model: EngineModel,
    /** Whether the decoder graph takes `input_boxes`. */
    readonly takesBoxes: boolean,
  ) {}

  /**
   * Run the model on one image and prompt (coordinates in the image's pixels).
   * @throws OptionError E_BAD_OPTION for a prompt this export cannot take; InferenceError E_INFERENCE_FAILED
   */
  async predict(image: RGBImage, prompt: SegmenterPrompt): Promise<SamPrediction> {
    const notes: string[] = [];
    const points = prompt.points ?? [];
    let box = prompt.box;
    if (box && !this.takesBoxes) {
      if (points.length === 0) throw new OptionError('E_BAD_OPTION', `${this.info.location}: this SAM export takes no boxes (its ${DECODER_SESSION} graph has no input_boxes input); give points`, { option: 'prompt' });
      notes.push('box not used: this export\'s decoder has no input_boxes input (points only)');
      box = undefined;
    }
    if (!box && this.takesBoxes) throw new OptionError('E_BAD_OPTION', `${this.info.location}: this SAM export needs a box (its ${DECODER_SESSION} graph requires input_boxes)`, { option: 'prompt' });
    if (!box && points.length === 0) throw new OptionError('E_BAD_OPTION', `${this.info.location}: SAM needs a box or at least one point`, { option: 'prompt' });
    const { batch, frame } = longestSideInput(image, this.recipe);
    const fed = points.length > 0 ? points : [{ x: 0, y: 0, label: -10 }];
    const xy = new Float32Array(fed.length * 2);
    fed.forEach((p, i) => {
      xy[2 * i] = p.label === -10 ? 0 : p.x * frame.scaleX;
      xy[2 * i + 1] = p.label === -10 ? 0 : p.y * frame.scaleY;
    });
    const inputs: Record<string, unknown> = {
      pixel_values: float32Tensor(batch.data, batch.dims),
      input_points: float32Tensor(xy, [1, 1, fed.length, 2]),
      input_labels: int64Tensor(fed.map((p) => p.label), [1, 1, fed.length]),
    };
    if (box) inputs.input_boxes = float32Tensor(Float32Array.from([box[0] * frame.scaleX, box[1] * frame.scaleY, box[2] * frame.scaleX, box[3] * frame.scaleY]), [1, 1, 4]);
    let out;
    try {
      out = await this.model(inputs);
    } catch (e) {
      if (e instanceof MedvlmError) throw e;
      throw new InferenceError('E_INFERENCE_FAILED', `${this.info.location}: SAM failed: ${e instanceof Error ? e.message : String(e)}`, { file: this.info.location, cause: e });
    }
    const { iou_scores: iou, pred_masks: masks } = out;
    if (!iou || !masks || masks.dims.length !== 5) {
      throw new InferenceError('E_INFERENCE_FAILED', `${this.info.location}: SAM returned no iou_scores / pred_masks [B,P,K,h,w] (got ${Object.keys(out).join(', ')})`, { file: this.info.location });
    }
    const [, , k, h, w] = masks.dims;
    const iouScores = Array.from({ length: k }, (_, i) => Number(iou.data[i]));
    const maskIndex = iouScores.reduce((best, v, i) => (v > iouScores[best] ? i : best), 0);
    const low = Float32Array.from({ length: h * w }, (_, j) => Number(masks.data[maskIndex * h * w + j]));
    const logits = maskToOriginal(low, w, h, frame);
    const used: SegmenterPrompt = { ...(box ? { box } : {}), ...(points.length ? { points } : {}) };
    return { logits, width: image.width, height: image.height, iouScores, maskIndex, used, notes };
  }

  async segment(image: RGBImage, prompt: SegmenterPrompt): Promise<PromptedSegmentation> {
    const p = await this.predict(image, prompt);
    return { width: p.width, height: p.height, data: p.logits.map(sigmoid), used: p.used, score: p.iouScores[p.maskIndex], notes: p.notes };
  }

  dispose(): Promise<void> {
    return this.model.dispose().then(() => undefined);
  }
}

function triple(v: unknown): [number, number, number] | undefined {
  if (typeof v === 'number') return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')) return v as [number, number, number];
  return undefined;
}

/**
 * The longest-side recipe of a SAM preprocessor_config.json.
 * @throws ModelLoadError E_MODEL_INVALID naming the key that is missing or not understood
 */
export function samRecipe(config: Record<string, unknown>, where: string): LongestSideRecipe {
  const bad = (what: string): ModelLoadError => new ModelLoadError('E_MODEL_INVALID', `${where}/preprocessor_config.json: ${what}`, { file: where });
  const size = config.size as Record<string, unknown> | undefined;
  const edge = typeof size?.longest_edge === 'number' ? size.longest_edge : undefined;
  if (!edge || edge <= 0) throw bad(`size.longest_edge must be a positive number (SamImageProcessor), got ${JSON.stringify(config.size ?? null)}`);
  const padSize = (config.pad_size ?? { height: edge, width: edge }) as Record<string, unknown>;
  if (config.do_pad === false || typeof padSize.height !== 'number' || typeof padSize.width !== 'number') throw bad(`expected do_pad with pad_size {height, width}, got ${JSON.stringify(config.pad_size ?? null)}`);
  const filter = resampleFilterFor(typeof config.resample === 'number' ? config.resample : 2);
  if (!filter) throw bad(`resample ${JSON.stringify(config.resample)} is not a known filter`);
  const recipe: LongestSideRecipe = { edge, pad: { height: padSize.height, width: padSize.width }, filter };
  if (config.do_rescale !== false) recipe.rescale = typeof config.rescale_factor === 'number' ? config.rescale_factor : 1 / 255;
  if (config.do_normalize !== false) {
    const mean = triple(config.image_mean);
    const std = triple(config.image_std);
    if (!mean || !std || std.some((s) => s === 0)) throw bad('image_mean and image_std must be 3 numbers (std non-zero)');
    recipe.mean = mean;
    recipe.std = std;
  }
  return recipe;
}

/**
 * Load a SAM-family promptable segmenter from a folder or hub id in transformers.js' SAM layout.
 * @throws ModelLoadError E_MODEL_NOT_FOUND / E_MODEL_OFFLINE / E_MODEL_INVALID (missing files, an encoder without
 *   image_positional_embeddings, a preprocessor config that is not SamImageProcessor-like), E_MODEL_NOT_SEGMENTER
 *   (config.json model_type is not `sam`)
 */
export function loadPromptableSegmenter(id: string, opts: LoadSegmenterOptions = {}): Promise<SamSegmenter> {
  return exclusiveLoad(() => loadNow(id, opts));
}

async function loadNow(id: string, opts: LoadSegmenterOptions): Promise<SamSegmenter> {
  const dtype: ModelDtype = opts.dtype ?? 'fp32';
  if (!isModelDtype(dtype)) throw new OptionError('E_BAD_OPTION', `dtype: expected one of ${MODEL_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`, { option: 'dtype' });
  const settings = resolveRuntimeSettings(opts);
  const resolved = resolveModelSource(id, { bundledDir: opts.bundledDir });
  const needed = [...JSON_FILES, ...onnxFiles(dtype)];
  let source: ModelSource = resolved;
  if (resolved.kind === 'hub') {
    const cached = hubCacheFolder(settings.cacheDir, resolved.location);
    if (needed.every((f) => existsSync(join(cached, f)))) source = { kind: 'folder', location: cached };
    else if (settings.offline) throw new ModelLoadError('E_MODEL_OFFLINE', offlineMessage(id, dtype, 'offline mode is on'));
  } else {
    const missing = needed.filter((f) => !existsSync(join(resolved.location, f)));
    if (missing.length) throw new ModelLoadError('E_MODEL_INVALID', `${resolved.location}: not a complete SAM folder for dtype ${dtype}: missing ${missing.join(', ')}`, { file: resolved.location });
  }
  const ctx: EngineLoadContext = { id, source, settings, dtype, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) };
  const config = await loadConfigJson(ctx);
  if (config.model_type !== 'sam') {
    throw new ModelLoadError('E_MODEL_NOT_SEGMENTER', `${source.location}: config.json model_type ${JSON.stringify(config.model_type ?? null)} is not a promptable segmenter (supported: sam)`, { file: source.location });
  }
  const processor = await loadImageProcessor(ctx);
  const recipe = samRecipe(processor.config, source.location);
  const model = await loadModel(ctx, 'SamModel');
  const decoderInputs = model.sessionInputNames[DECODER_SESSION] ?? [];
  for (const name of ['image_embeddings', 'image_positional_embeddings', 'input_points', 'input_labels']) {
    if (!decoderInputs.includes(name)) {
      await model.dispose();
      throw new ModelLoadError('E_MODEL_INVALID', `${source.location}: ${onnxFileFor(DECODER_SESSION, dtype)} has no input ${name} (inputs: ${decoderInputs.join(', ')})`, { file: source.location });
    }
  }
  if (!model.outputNames.includes('image_positional_embeddings')) {
    await model.dispose();
    throw new ModelLoadError('E_MODEL_INVALID', `${source.location}: ${onnxFileFor('vision_encoder', dtype)} does not output image_positional_embeddings (outputs: ${model.outputNames.join(', ')})`, { file: source.location });
  }
  const files = source.kind === 'folder' || source.kind === 'bundled' ? folderModelFiles(source.location) : undefined;
  const fileHashes = files ? await files.hashes(needed) : {};
  const info: SegmenterInfo = { id, family: 'sam', location: source.location, dtype, fileHashes };
  return new SamSegmenter(info, recipe, model, decoderInputs.includes('input_boxes'));
}
