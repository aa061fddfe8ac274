/**
 * The `vision-encoder-decoder` family (Vision2Seq: an image encoder and an autoregressive text
 * decoder with past key values), run locally by transformers.js. Folder layout:
 *   config.json (model_type "vision-encoder-decoder", encoder, decoder), generation_config.json,
 *   preprocessor_config.json, tokenizer.json, tokenizer_config.json,
 *   onnx/encoder_model{,_quantized,_q4}.onnx          pixel_values -> last_hidden_state
 *   onnx/decoder_model_merged{,_quantized,_q4}.onnx   input_ids, encoder_hidden_states, use_cache_branch,
 *                                                 past_key_values.{i}.key/value -> logits, present.{i}.*
 * The prompt (when not empty) is tokenized and placed after the decoder start token, so the model
 * continues it; the result holds only the new text.
 */
import { OptionError } from '../../core/errors.js';
import { describeDtypes, type WeightDtype } from '../../runtime/dtype.js';
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
import { layoutFiles, type GeneratorLayout } from './dtype-files.js';
import { localRequest, localResult } from './local-result.js';


/** config.json `model_type` values this family loads. */
export const VISION_ENCODER_DECODER_TYPES = ['vision-encoder-decoder'];

/** The folder layout: JSON files and ONNX sessions (the keys of a per-file dtype map). */
export const VISION_ENCODER_DECODER_LAYOUT: GeneratorLayout = {
  family: 'vision-encoder-decoder',
  jsonFiles: ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json'],
  sessions: ['encoder_model', 'decoder_model_merged'],
};

class VisionEncoderDecoderGenerator implements VisionLanguageGenerator {
  constructor(
    readonly info: GeneratorInfo & { dtype: string; fileHashes: Record<string, string> },
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
export async function loadVisionEncoderDecoder(ctx: EngineLoadContext<WeightDtype>, model: string, dtypes: Readonly<Record<string, WeightDtype>>): Promise<VisionLanguageGenerator> {
  const engine = await loadVision2Seq(ctx, dtypes);
  const fileHashes = ctx.source.kind === 'hub' ? {} : await hashFolderFiles(ctx.source.location, layoutFiles(VISION_ENCODER_DECODER_LAYOUT, dtypes));
  return new VisionEncoderDecoderGenerator(
    {
      id: ctx.id,
      backend: 'transformers.js',
      model,
      family: 'vision-encoder-decoder',
      location: ctx.source.location,
      dtype: describeDtypes(dtypes),
      fileHashes,
      ...(engine.ids.maxPositions !== undefined ? { contextTokens: engine.ids.maxPositions } : {}),
    },
    engine,
  );
}
