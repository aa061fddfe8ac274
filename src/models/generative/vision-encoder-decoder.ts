/**
 * The `vision-encoder-decoder` family (Vision2Seq: an image encoder and an autoregressive text
 * decoder with past key values), run locally by transformers.js. Folder layout:
 *   config.json (model_type "vision-encoder-decoder", encoder, decoder), generation_config.json,
 *   preprocessor_config.json, tokenizer.json, tokenizer_config.json,
 *   onnx/encoder_model{,_quantized}.onnx          pixel_values -> last_hidden_state
 *   onnx/decoder_model_merged{,_quantized}.onnx   input_ids, encoder_hidden_states, use_cache_branch,
 *                                                 past_key_values.{i}.key/value -> logits, present.{i}.*
 * The prompt (when not empty) is tokenized and placed after the decoder start token, so the model
 * continues it; the result holds only the new text.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModelLoadError, OptionError } from '../../core/errors.js';
import { onnxFileFor, type ModelDtype } from '../../runtime/dtype.js';
import { rgbToEngineImage, type EngineLoadContext } from '../../runtime/engine.js';
import { loadVision2Seq, type EngineVision2Seq } from '../../runtime/generation.js';
import { hashFolderFiles } from '../../runtime/hashing.js';
import type {
  GenerationOptions,
  GenerationRequest,
  GenerationResult,
  GeneratorInfo,
  VisionLanguageGenerator,
} from '../capabilities.js';
import { localRequest, localResult } from './local-result.js';


/** config.json `model_type` values this family loads. */
export const VISION_ENCODER_DECODER_TYPES = ['vision-encoder-decoder'];

/** Files a folder needs for a dtype (relative paths). */
export function visionEncoderDecoderFiles(dtype: ModelDtype): string[] {
  return [
    'config.json',
    'preprocessor_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    onnxFileFor('encoder_model', dtype),
    onnxFileFor('decoder_model_merged', dtype),
  ];
}

/** E_MODEL_INVALID naming every missing file. */
export function validateVisionEncoderDecoderFolder(folder: string, dtype: ModelDtype): void {
  const missing = visionEncoderDecoderFiles(dtype).filter((f) => !existsSync(join(folder, f)));
  if (missing.length > 0) {
    throw new ModelLoadError('E_MODEL_INVALID', `${folder}: not a complete vision-encoder-decoder folder for dtype ${dtype}: missing ${missing.join(', ')}`, {
      file: folder,
    });
  }
}

class VisionEncoderDecoderGenerator implements VisionLanguageGenerator {
  constructor(
    readonly info: GeneratorInfo & { dtype: ModelDtype; fileHashes: Record<string, string> },
    private readonly engine: EngineVision2Seq,
  ) {}

  async generate(request: GenerationRequest, options: GenerationOptions = {}): Promise<GenerationResult> {
    const started = performance.now();
    const decode = (ids: number[]) => this.engine.decode(ids);
    const { image, maxTokens, temperature, stop, streamer, onStep, shouldStop } = localRequest(`${this.info.id}: a vision-encoder-decoder model`, request, options, decode);
    const decoderInputIds = [this.engine.ids.decoderStartTokenId, ...this.engine.encode(request.prompt.trim())];
    const window = this.engine.ids.maxPositions;
    if (window !== undefined && decoderInputIds.length >= window) {
      throw new OptionError(
        'E_BAD_OPTION',
        `${this.info.id}: the prompt is ${decoderInputIds.length} tokens with the start token; this model has ${window} decoder positions in all (prompt + new tokens)`,
        { option: 'prompt' },
      );
    }
    // New tokens never run past the position table (transformers.js would fail inside the graph).
    const limit = window !== undefined ? Math.min(maxTokens, window - decoderInputIds.length) : maxTokens;
    const newIds = await this.engine.generate({
      image: rgbToEngineImage(image.data, image.width, image.height),
      decoderInputIds,
      maxNewTokens: limit,
      temperature,
      onStep,
      shouldStop,
    });
    return localResult({
      model: this.info.model,
      streamer,
      decode,
      newIds,
      promptTokens: decoderInputIds.length,
      eosTokenIds: this.engine.ids.eosTokenIds,
      maxTokens: limit,
      temperature,
      stop,
      ...(options.signal ? { signal: options.signal } : {}),
      started,
    });
  }

  dispose(): Promise<void> {
    return this.engine.dispose().then(() => undefined);
  }
}

/** Load a vision-encoder-decoder generator from a resolved source. */
export async function loadVisionEncoderDecoder(ctx: EngineLoadContext, model: string): Promise<VisionLanguageGenerator> {
  const engine = await loadVision2Seq(ctx);
  const fileHashes = ctx.source.kind === 'hub' ? {} : await hashFolderFiles(ctx.source.location, visionEncoderDecoderFiles(ctx.dtype));
  return new VisionEncoderDecoderGenerator(
    {
      id: ctx.id,
      backend: 'transformers.js',
      model,
      family: 'vision-encoder-decoder',
      location: ctx.source.location,
      dtype: ctx.dtype,
      fileHashes,
      ...(engine.ids.maxPositions !== undefined ? { contextTokens: engine.ids.maxPositions } : {}),
    },
    engine,
  );
}
