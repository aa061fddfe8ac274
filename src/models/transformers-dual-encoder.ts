/**
 * The shared DualEncoder implementation on transformers.js: the model's own tokenizer and image
 * processor (resize/crop/normalise from preprocessor_config.json), separate text and vision ONNX
 * models, batching, and L2-normalised Float32Array outputs. A family (clip, siglip, ...) only
 * declares data (see family.ts).
 */
import { InferenceError, inputError, MedvlmError } from '../core/errors.js';
import {
  loadImageProcessor,
  loadModel,
  float32Tensor,
  loadTokenizer,
  rgbToEngineImage,
  type EngineLoadContext,
  type EngineModel,
  type EngineProcessor,
  type EngineTokenizer,
} from '../runtime/engine.js';
import type { ModelFiles } from '../runtime/model-files.js';
import { REQUIRED_JSON_FILES, requiredOnnxFiles, type ModelSourceKind } from '../runtime/model-source.js';
import type { DualEncoder, ModelInfo, RGBImage, ScoringRule, StageTimes } from './capabilities.js';
import type { DualEncoderFamily } from './family.js';
import { normalisedRows, pickOutput } from './embeddings.js';
import { logitsFromConfig, logitsFromJointModel, type LogitSource } from './logit-params.js';
import { preprocessImages, preprocessPlan, type PreprocessPlan } from '../transforms/preprocess.js';

/** ModelInfo plus how the model was found and how its logit parameters were obtained. */
export interface DualEncoderInfo extends ModelInfo {
  /** How the id was interpreted. */
  source: ModelSourceKind;
  /** Where logitScale/logitBias came from. */
  logitSource: LogitSource;
  /** Intra-op threads of the inference sessions. */
  threads: number;
  /** Anything a report should mention (e.g. a fallback). */
  notes: string[];
  /**
   * Who resizes, crops and normalises: `medvlm` (Pillow-exact, the same in Node and the browser) or
   * `engine` (transformers.js' processor, for preprocessor configs medvlm does not compute itself).
   */
  preprocessing: 'medvlm' | 'engine';
}

/** Batch sizes for encoding. */
export interface BatchSizes {
  images: number;
  texts: number;
}

const DEFAULT_BATCH: BatchSizes = { images: 16, texts: 64 };

/** A CLIP-family dual encoder running on transformers.js / ONNX Runtime. */
export class TransformersDualEncoder implements DualEncoder {
  readonly scoring: ScoringRule;

  private constructor(
    readonly info: DualEncoderInfo,
    private readonly family: DualEncoderFamily,
    readonly logitScale: number,
    readonly logitBias: number,
    private readonly tokenizer: EngineTokenizer,
    private readonly processor: EngineProcessor,
    private readonly textModel: EngineModel,
    private readonly visionModel: EngineModel,
    private readonly batch: BatchSizes,
    private readonly plan: PreprocessPlan | undefined,
  ) {
    this.scoring = family.scoring;
  }

  /**
   * Load a dual encoder of `family`. `ctx.source` is where the engine reads the files from (an absolute
   * folder, a hub id, or a URL); `files` gives their existence and hashes (undefined for a hub id not
   * yet downloaded); `sourceKind` is how the user's id was interpreted (for info).
   */
  static async load(
    family: DualEncoderFamily,
    ctx: EngineLoadContext,
    config: Record<string, unknown>,
    sourceKind: ModelSourceKind,
    files: ModelFiles | undefined,
    batch: Partial<BatchSizes> = {},
  ): Promise<TransformersDualEncoder> {
    const tokenizer = await loadTokenizer(ctx);
    const processor = await loadImageProcessor(ctx);
    const textModel = await loadModel(ctx, family.textModel);
    let visionModel: EngineModel | undefined;
    try {
      visionModel = await loadModel(ctx, family.visionModel);
      const notes: string[] = [];
      const plan = preprocessPlan(processor.config);
      if (!plan) notes.push(`preprocessor_config.json (${String(processor.config.image_processor_type ?? 'no type')}) is preprocessed by the engine, not medvlm: resizing may differ from Pillow's`);
      let logits = logitsFromConfig(config) ?? (await logitsFromJointModel(ctx, family, tokenizer, processor, files));
      if (!logits) {
        const d = family.defaultLogits(config);
        const note = `logit scale/bias not in config.json and no usable joint model: using ${d.why}`;
        notes.push(note);
        logits = { scale: d.scale, bias: d.bias, source: 'default', note };
      }
      const location = files?.location ?? ctx.source.location;
      const loaded = [...REQUIRED_JSON_FILES, ...requiredOnnxFiles(ctx.dtype), ...(logits.file ? [logits.file] : [])];
      const present: string[] = [];
      for (const f of loaded) if (files && (await files.exists(f))) present.push(f);
      const fileHashes = files ? await files.hashes(present) : {};
      const partial = new TransformersDualEncoder(
        { id: ctx.id, family: family.name, location, dtype: ctx.dtype, embedDim: 0, fileHashes, source: sourceKind, logitSource: logits.source, threads: ctx.settings.threads, notes, preprocessing: plan ? 'medvlm' : 'engine' },
        family,
        logits.scale,
        logits.bias,
        tokenizer,
        processor,
        textModel,
        visionModel,
        { ...DEFAULT_BATCH, ...batch },
        plan,
      );
      partial.info.embedDim = (await partial.encodeTexts(['a']))[0].length;
      return partial;
    } catch (e) {
      await textModel.dispose();
      await visionModel?.dispose();
      throw e;
    }
  }

  /** L2-normalised image embeddings, one per image, in order. */
  /** Milliseconds spent per stage since loading (for benchmarks). */
  readonly stageTimes: StageTimes = { preprocessMs: 0, imageInferenceMs: 0, textMs: 0 };

  async encodeImages(images: RGBImage[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < images.length; start += this.batch.images) {
      const chunk = images.slice(start, start + this.batch.images);
      chunk.forEach((img, k) => {
        const expected = img.width * img.height * 3;
        if (!(img.width > 0 && img.height > 0) || img.data.length !== expected) {
          throw inputError('E_RASTER_INVALID', `image #${start + k}`, `expected ${img.width}x${img.height}x3 = ${expected} RGB bytes, got ${img.data.length}`);
        }
      });
      out.push(...(await this.run('image', async () => {
        const t0 = performance.now();
        const pixel_values = await this.pixelValues(chunk);
        const t1 = performance.now();
        const result = await this.visionModel({ pixel_values });
        this.stageTimes.preprocessMs += t1 - t0;
        this.stageTimes.imageInferenceMs += performance.now() - t1;
        return pickOutput(result, this.family.imageOutputs);
      })));
    }
    return out;
  }

  /** The vision tower's input for a batch: medvlm's own preprocessing where the config allows, else the engine's. */
  private async pixelValues(images: RGBImage[]): Promise<unknown> {
    if (this.plan) {
      const batch = preprocessImages(images, this.plan);
      return float32Tensor(batch.data, batch.dims);
    }
    const { pixel_values } = await this.processor(images.map((img) => rgbToEngineImage(img.data, img.width, img.height)));
    return pixel_values;
  }

  /** L2-normalised text embeddings, one per text, in order. */
  async encodeTexts(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batch.texts) {
      const chunk = texts.slice(start, start + this.batch.texts);
      out.push(...(await this.run('text', async () => {
        const t0 = performance.now();
        const tokens = this.tokenizer(chunk, { padding: this.family.textPadding, truncation: true });
        const inputs: Record<string, unknown> = {};
        for (const name of this.textModel.inputNames) inputs[name] = tokens[name];
        const result = await this.textModel(inputs);
        this.stageTimes.textMs += performance.now() - t0;
        return pickOutput(result, this.family.textOutputs);
      })));
    }
    return out;
  }

  /** Token ids the model's tokenizer produces for one text (for tests and reports). */
  tokenize(text: string): number[] {
    const ids = this.tokenizer([text], { padding: false, truncation: true }).input_ids as { data: ArrayLike<bigint | number> };
    return Array.from(ids.data, Number);
  }

  /** Release both inference sessions. */
  async dispose(): Promise<void> {
    await Promise.all([this.textModel.dispose(), this.visionModel.dispose()]);
  }

  private async run(kind: 'image' | 'text', body: () => Promise<ReturnType<typeof pickOutput>>): Promise<Float32Array[]> {
    let tensor;
    try {
      tensor = await body();
    } catch (e) {
      if (e instanceof MedvlmError) throw e;
      throw new InferenceError('E_INFERENCE_FAILED', `${this.info.location}: ${kind} encoder failed: ${e instanceof Error ? e.message : String(e)}`, { file: this.info.location, cause: e });
    }
    if (!tensor) {
      throw new InferenceError('E_INFERENCE_FAILED', `${this.info.location}: the ${kind} model has none of the outputs ${(kind === 'image' ? this.family.imageOutputs : this.family.textOutputs).join(', ')}`, { file: this.info.location });
    }
    return normalisedRows(tensor);
  }
}
