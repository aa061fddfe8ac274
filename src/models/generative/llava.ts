/**
 * The `llava` family (image-text-to-text, the architecture of LLaVA and LLaVA-Med), run locally by
 * transformers.js. Folder layout:
 *   config.json (model_type "llava", image_token_index, text_config, vision_config),
 *   generation_config.json, preprocessor_config.json (processor_class "LlavaProcessor"),
 *   processor_config.json (image_token, patch_size, num_additional_image_tokens),
 *   tokenizer.json, tokenizer_config.json (chat_template when the model has one),
 *   onnx/vision_encoder.onnx         pixel_values -> image_features
 *   onnx/embed_tokens.onnx           input_ids -> inputs_embeds
 *   onnx/decoder_model_merged.onnx   inputs_embeds, attention_mask, position_ids, past_key_values.{i}.key/value
 *                                    -> logits, present.{i}.key/value
 * The prompt goes through the tokenizer's chat template (one user turn: image, then text) when the
 * tokenizer has one, else through `config.json` `medvlm.prompt_template` or LLaVA-1.5's
 * "USER: <image>\n{prompt} ASSISTANT:".
 */
import { ModelLoadError } from '../../core/errors.js';
import { describeDtypes, type WeightDtype } from '../../runtime/dtype.js';
import { rgbToEngineImage, type EngineLoadContext } from '../../runtime/engine.js';
import { loadImageTextToText, type EngineImageTextToText } from '../../runtime/generation.js';
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
export const LLAVA_TYPES = ['llava'];

/** LLaVA-1.5's conversation format, used when the model brings no chat template. */
export const LLAVA_DEFAULT_TEMPLATE = 'USER: <image>\n{prompt} ASSISTANT:';

/** The folder layout: JSON files and ONNX sessions (the keys of a per-file dtype map). */
export const LLAVA_LAYOUT: GeneratorLayout = {
  family: 'llava',
  jsonFiles: ['config.json', 'preprocessor_config.json', 'processor_config.json', 'tokenizer.json', 'tokenizer_config.json'],
  sessions: ['vision_encoder', 'embed_tokens', 'decoder_model_merged'],
};

class LlavaGenerator implements VisionLanguageGenerator {
  constructor(
    readonly info: GeneratorInfo & { dtype: string; fileHashes: Record<string, string> },
    private readonly engine: EngineImageTextToText,
    private readonly template: string,
  ) {}

  /** The full prompt text and whether the tokenizer must still add its special tokens. */
  promptText(prompt: string): { text: string; addSpecialTokens: boolean } {
    const chat = this.engine.chatPrompt(prompt);
    if (chat !== undefined) return { text: chat, addSpecialTokens: false };
    return { text: this.template.replace('<image>', this.engine.imageToken).replace('{prompt}', prompt), addSpecialTokens: true };
  }

  async generate(request: GenerationRequest, options: GenerationOptions = {}): Promise<GenerationResult> {
    const started = performance.now();
    const decode = (ids: number[]) => this.engine.decode(ids);
    const { image, maxTokens, temperature, stop, streamer, onStep, shouldStop } = localRequest(`${this.info.id}: this llava model`, request, options, decode);
    const { text: fullPrompt, addSpecialTokens } = this.promptText(request.prompt.trim());
    const { promptIds, newIds } = await this.engine.generate({
      image: rgbToEngineImage(image.data, image.width, image.height),
      text: fullPrompt,
      addSpecialTokens,
      maxNewTokens: maxTokens,
      temperature,
      onStep,
      shouldStop,
    });
    return localResult({
      model: this.info.model,
      streamer,
      decode,
      newIds,
      promptTokens: promptIds.length,
      eosTokenIds: this.engine.eosTokenIds,
      maxTokens,
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

/** The prompt template from config.json `medvlm.prompt_template`, or LLaVA-1.5's. */
function templateOf(config: Record<string, unknown>, where: string): string {
  const block = config.medvlm as { prompt_template?: unknown } | undefined;
  const t = block?.prompt_template;
  if (t === undefined) return LLAVA_DEFAULT_TEMPLATE;
  if (typeof t !== 'string' || !t.includes('<image>') || !t.includes('{prompt}')) {
    throw new ModelLoadError('E_MODEL_INVALID', `${where}: config.json medvlm.prompt_template must be a string holding <image> and {prompt}`, { file: where });
  }
  return t;
}

/** Load a llava generator from a resolved source. */
export async function loadLlava(
  ctx: EngineLoadContext<WeightDtype>,
  model: string,
  config: Record<string, unknown>,
  dtypes: Readonly<Record<string, WeightDtype>>,
): Promise<VisionLanguageGenerator> {
  const template = templateOf(config, ctx.source.location);
  const engine = await loadImageTextToText(ctx, dtypes);
  const fileHashes = ctx.source.kind === 'hub' ? {} : await hashFolderFiles(ctx.source.location, layoutFiles(LLAVA_LAYOUT, dtypes));
  return new LlavaGenerator(
    { id: ctx.id, backend: 'transformers.js', model, family: 'llava', location: ctx.source.location, dtype: describeDtypes(dtypes), fileHashes },
    engine,
    template,
  );
}

