/**
 * The shared DualEncoder implementation on transformers.js: the model's own tokenizer and image
 * preprocessing (resize/crop/normalise from preprocessor_config.json, see pixel-values.ts),
 * separate text and vision ONNX models, batching, and L2-normalised Float32Array outputs. A family (clip, siglip, ...) only
 * declares data (see family.ts).
 */
import { InferenceError, MedvlmError } from '../core/errors.js';
import { loadImageProcessor, loadModel, loadTokenizer, type EngineLoadContext, type EngineModel, type EngineTokenizer } from '../runtime/engine.js';
import type { ModelFiles } from '../runtime/model-files.js';
import { REQUIRED_JSON_FILES, requiredOnnxFiles, type ModelSourceKind } from '../runtime/model-source.js';
import type { DenseEncoder, DenseFeatures, DualEncoder, ModelInfo, RGBImage, ScoringRule, StageTimes } from './capabilities.js';
import type { DualEncoderFamily } from './family.js';
import { normalisedRows, pickOutput } from './embeddings.js';
import { logitsFromConfig, logitsFromJointModel, type LogitSource } from './logit-params.js';
import { PixelValues } from './pixel-values.js';

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

/** The vision-graph output that carries patch features in the text space ([B, N, D], N a square grid). */
export const PATCH_OUTPUT = 'patch_embeds';

/** A CLIP-family dual encoder running on transformers.js / ONNX Runtime. */
export class TransformersDualEncoder implements DualEncoder {
  readonly scoring: ScoringRule;

  private constructor(
    readonly info: DualEncoderInfo,
    private readonly family: DualEncoderFamily,
    readonly logitScale: number,
    readonly logitBias: number,
    private readonly tokenizer: EngineTokenizer,
    private readonly textModel: EngineModel,
    private readonly visionModel: EngineModel,
    private readonly batch: BatchSizes,
    private readonly pixels: PixelValues,
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
      const pixels = new PixelValues(processor);
      if (pixels.note) notes.push(pixels.note);
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
        { id: ctx.id, family: family.name, location, dtype: ctx.dtype, embedDim: 0, fileHashes, source: sourceKind, logitSource: logits.source, threads: ctx.settings.threads, notes, preprocessing: pixels.source },
        family,
        logits.scale,
        logits.bias,
        tokenizer,
        textModel,
        visionModel,
        { ...DEFAULT_BATCH, ...batch },
        pixels,
      );
      partial.info.embedDim = (await partial.encodeTexts(['a']))[0].length;
      await partial.probeDense();
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

  /** Patch features when the vision graph has a `patch_embeds` output (see {@link PATCH_OUTPUT}). */
  dense?: DenseEncoder;
  denseUnavailable?: string;

  async encodeImages(images: RGBImage[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < images.length; start += this.batch.images) {
      out.push(...(await this.run('image', async () => pickOutput(await this.forwardImages(images, start), this.family.imageOutputs))));
    }
    return out;
  }

  /** The vision graph's outputs for one batch of `images` from `start`, with the pixel_values it saw. */
  private async forwardImages(images: RGBImage[], start: number): Promise<Record<string, { dims: number[]; data: ArrayLike<number | bigint> }>> {
    const chunk = images.slice(start, start + this.batch.images);
    const t0 = performance.now();
    const pixel_values = await this.pixels.of(chunk, start);
    const t1 = performance.now();
    const result = await this.visionModel({ pixel_values });
    this.stageTimes.preprocessMs += t1 - t0;
    this.stageTimes.imageInferenceMs += performance.now() - t1;
    return { ...result, pixel_values: pixel_values as { dims: number[]; data: ArrayLike<number> } };
  }

  /** Patch grids, one per image: the `patch_embeds` output, each patch L2-normalised. */
  private async encodePatches(images: RGBImage[]): Promise<DenseFeatures[]> {
    const out: DenseFeatures[] = [];
    for (let start = 0; start < images.length; start += this.batch.images) {
      let result;
      try {
        result = await this.forwardImages(images, start);
      } catch (e) {
        if (e instanceof MedvlmError) throw e;
        throw new InferenceError('E_INFERENCE_FAILED', `${this.info.location}: image encoder failed: ${e instanceof Error ? e.message : String(e)}`, { file: this.info.location, cause: e });
      }
      const t = result[PATCH_OUTPUT];
      const [b, n, d] = t.dims;
      const side = Math.round(Math.sqrt(n));
      const rows = normalisedRows({ dims: [b * n, d], data: t.data });
      for (let i = 0; i < b; i++) out.push({ rows: side, cols: side, patches: rows.slice(i * n, (i + 1) * n) });
    }
    return out;
  }

  /** Decide `dense` from the vision graph's outputs; a probe forward gives the grid and the input size. */
  private async probeDense(): Promise<void> {
    if (!this.visionModel.outputNames.includes(PATCH_OUTPUT)) {
      this.denseUnavailable = `its vision ONNX graph has no "${PATCH_OUTPUT}" output (outputs: ${this.visionModel.outputNames.join(', ')})`;
      return;
    }
    const probe = await this.forwardImages([{ data: new Uint8Array(32 * 32 * 3).fill(128), width: 32, height: 32 }], 0);
    const [, n] = probe[PATCH_OUTPUT].dims;
    const side = Math.round(Math.sqrt(n));
    if (probe[PATCH_OUTPUT].dims.length !== 3 || side * side !== n) {
      this.denseUnavailable = `its "${PATCH_OUTPUT}" output has dims [${probe[PATCH_OUTPUT].dims.join(', ')}], not [batch, rows*cols, dim] of a square grid`;
      return;
    }
    this.dense = { grid: { rows: side, cols: side }, inputSize: probe.pixel_values.dims[3], encodePatches: (images) => this.encodePatches(images) };
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
