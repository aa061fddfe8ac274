/**
 * Generative models through transformers.js: a Vision2Seq model (`AutoModelForVision2Seq`:
 * encoder_model.onnx + decoder_model_merged.onnx with past key values) or an image-text-to-text
 * model (`AutoModelForImageTextToText`: vision_encoder.onnx + embed_tokens.onnx +
 * decoder_model_merged.onnx, image features merged at the image token), each with its tokenizer
 * and processor, run through `generate()` token by token. Exposed through narrow interfaces
 * (`EngineVision2Seq`, `EngineImageTextToText`) so that models/ never sees the library's types.
 * Knows no family names.
 */
import {
  AutoModelForImageTextToText,
  AutoModelForVision2Seq,
  AutoProcessor,
  AutoTokenizer,
  BaseStreamer,
  StoppingCriteria,
  type ProgressInfo,
} from '@huggingface/transformers';
import { describeDtypes, type WeightDtype } from './dtype.js';
import { toModelLoadError, type EngineLoadContext } from './engine.js';
import { applyRuntimeSettings, sessionOptionsFor } from './settings.js';

/** Ids that steer generation, from config.json / generation_config.json. */
export interface GenerationTokenIds {
  decoderStartTokenId: number;
  eosTokenIds: number[];
  padTokenId?: number;
  /** Most decoder positions (prompt + new tokens) the model has position embeddings for, when the config says. */
  maxPositions?: number;
}

/** One `generate()` call. */
export interface EngineGenerateArgs {
  /** Engine image (from `rgbToEngineImage`). */
  image: unknown;
  /** Decoder input ids: the start token, then any prompt tokens. */
  decoderInputIds: number[];
  maxNewTokens: number;
  /** 0 → greedy; > 0 → sampling at this temperature (transformers.js samples with Math.random: no seed). */
  temperature: number;
  /** Called with all new ids so far after every step; return true to stop. */
  shouldStop?: (newIds: number[]) => boolean;
  /** Called with all new ids so far after every step. */
  onStep?: (newIds: number[]) => void;
}

/** A loaded Vision2Seq model. */
export interface EngineVision2Seq {
  readonly ids: GenerationTokenIds;
  /** Token ids of a text without special tokens. */
  encode(text: string): number[];
  /** Text of ids, special tokens skipped. */
  decode(ids: number[]): string;
  /** Run generation; returns the new ids (without `decoderInputIds`). */
  generate(args: EngineGenerateArgs): Promise<number[]>;
  dispose(): Promise<unknown>;
}

interface Tokenizer {
  (text: string, options: { add_special_tokens: boolean }): { input_ids: { tolist(): bigint[][] } };
  decode(ids: number[], options: { skip_special_tokens: boolean }): string;
}

interface GenerativeModel {
  generate(args: Record<string, unknown>): Promise<{ tolist(): bigint[][] }>;
  dispose(): Promise<unknown>;
  config: Record<string, unknown>;
  generation_config?: Record<string, unknown> | null;
}

function progressOption(ctx: EngineLoadContext<WeightDtype>): Record<string, unknown> {
  // download progress: only for files that come from the hub (transformers.js reports local reads as progress too)
  const progress = ctx.source.kind === 'hub' ? ctx.onProgress : undefined;
  return progress
    ? { progress_callback: (p: ProgressInfo) => p.status === 'progress' && progress({ file: p.file, loaded: p.loaded, total: p.total }) }
    : {};
}

function asIds(v: unknown): number[] {
  if (v === null || v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is number => typeof x === 'number');
}

/** Read the start / end ids the way transformers.js resolves them (generation config, then config, then decoder config). */
function tokenIdsOf(model: GenerativeModel, id: string): GenerationTokenIds {
  const cfg = model.config;
  const dec = (cfg.decoder ?? {}) as Record<string, unknown>;
  const gen = model.generation_config ?? {};
  const pick = (key: string): unknown => gen[key] ?? cfg[key] ?? dec[key];
  const start = asIds(pick('decoder_start_token_id'))[0] ?? asIds(pick('bos_token_id'))[0];
  if (start === undefined) throw new Error(`${id}: config.json names no decoder_start_token_id or bos_token_id`);
  const pad = asIds(pick('pad_token_id'))[0];
  const positions = [dec.n_positions, dec.max_position_embeddings].find((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0);
  return {
    decoderStartTokenId: start,
    eosTokenIds: asIds(pick('eos_token_id')),
    ...(pad !== undefined ? { padTokenId: pad } : {}),
    ...(positions !== undefined ? { maxPositions: positions } : {}),
  };
}

/** Stops generation when `test` says so (transformers.js StoppingCriteria is a callable class). */
function callbackCriteria(test: (ids: bigint[]) => boolean): unknown {
  class CallbackCriteria extends (StoppingCriteria as unknown as new () => object) {
    _call(inputIds: bigint[][]): boolean[] {
      return inputIds.map(test);
    }
  }
  return new CallbackCriteria();
}

/**
 * Load a Vision2Seq model folder (or hub id) with its tokenizer and image processor. `dtypes` gives
 * each ONNX file's weights variant (transformers.js' per-file `dtype`), e.g. a q4 decoder beside an
 * fp32 encoder.
 */
export async function loadVision2Seq(ctx: EngineLoadContext<WeightDtype>, dtypes: Readonly<Record<string, WeightDtype>>): Promise<EngineVision2Seq> {
  applyRuntimeSettings(ctx.settings, ctx.source.kind === 'hub');
  const id = ctx.source.location;
  let model: GenerativeModel;
  let tokenizer: Tokenizer;
  let processor: (images: unknown[]) => Promise<{ pixel_values: unknown }>;
  try {
    tokenizer = (await AutoTokenizer.from_pretrained(id, progressOption(ctx))) as unknown as Tokenizer;
    const proc = await AutoProcessor.from_pretrained(id, progressOption(ctx));
    processor = async (images) => (await proc(images)) as unknown as { pixel_values: unknown };
    model = (await AutoModelForVision2Seq.from_pretrained(id, {
      ...progressOption(ctx),
      ...sessionOptionsFor(ctx.settings),
      dtype: { ...dtypes },
    })) as unknown as GenerativeModel;
  } catch (e) {
    throw toModelLoadError(e, ctx, `the vision-encoder-decoder model (dtype ${describeDtypes(dtypes)})`);
  }
  const ids = tokenIdsOf(model, ctx.id);
  return {
    ids,
    encode: (text) => (text ? tokenizer(text, { add_special_tokens: false }).input_ids.tolist()[0].map(Number) : []),
    decode: (tokenIds) => tokenizer.decode(tokenIds, { skip_special_tokens: true }),
    async generate(args) {
      const { pixel_values } = await processor([args.image]);
      const prefix = args.decoderInputIds.length;
      let seenPrompt = false;
      const newIds: number[] = [];
      class StepStreamer extends (BaseStreamer as unknown as new () => object) {
        put(value: bigint[][]): void {
          if (!seenPrompt) {
            seenPrompt = true;
            return;
          }
          newIds.push(Number(value[0][0]));
          args.onStep?.(newIds);
        }
        end(): void {}
      }
      const stop = args.shouldStop;
      const sequences = await model.generate({
        pixel_values,
        decoder_input_ids: args.decoderInputIds,
        max_new_tokens: args.maxNewTokens,
        do_sample: args.temperature > 0,
        ...(args.temperature > 0 ? { temperature: args.temperature } : {}),
        num_beams: 1,
        streamer: new StepStreamer(),
        ...(stop ? { stopping_criteria: [callbackCriteria((row) => stop(row.slice(prefix).map(Number)))] } : {}),
      });
      return sequences.tolist()[0].slice(prefix).map(Number);
    },
    dispose: () => model.dispose(),
  };
}

/** One `generate()` call of an image-text-to-text model. */
export interface EngineChatGenerateArgs {
  image: unknown;
  /** Full prompt text holding the processor's image token once (it is expanded to the image's tokens). */
  text: string;
  /** Add the tokenizer's special tokens (false when a chat template already wrote them). */
  addSpecialTokens: boolean;
  maxNewTokens: number;
  temperature: number;
  shouldStop?: (newIds: number[]) => boolean;
  onStep?: (newIds: number[]) => void;
}

/** A loaded image-text-to-text model (LLaVA layout). */
export interface EngineImageTextToText {
  readonly eosTokenIds: number[];
  /** The processor's image placeholder, e.g. `<image>`. */
  readonly imageToken: string;
  /** The tokenizer's chat template applied to one user turn (image + text), or undefined without one. */
  chatPrompt(text: string): string | undefined;
  decode(ids: number[]): string;
  /** Run generation; returns the prompt ids (image tokens expanded) and the new ids. */
  generate(args: EngineChatGenerateArgs): Promise<{ promptIds: number[]; newIds: number[] }>;
  dispose(): Promise<unknown>;
}

interface ChatProcessor {
  (images: unknown, text: string, kwargs: Record<string, unknown>): Promise<Record<string, { tolist?(): bigint[][]; dims?: number[] }>>;
  tokenizer: Tokenizer & {
    chat_template?: unknown;
    apply_chat_template(messages: unknown[], options: Record<string, unknown>): string;
  };
  config?: { image_token?: string };
}

/** Load an image-text-to-text model folder (or hub id) with its processor (image processor + tokenizer); `dtypes` as for `loadVision2Seq`. */
export async function loadImageTextToText(ctx: EngineLoadContext<WeightDtype>, dtypes: Readonly<Record<string, WeightDtype>>): Promise<EngineImageTextToText> {
  applyRuntimeSettings(ctx.settings, ctx.source.kind === 'hub');
  const id = ctx.source.location;
  let model: GenerativeModel;
  let processor: ChatProcessor;
  try {
    processor = (await AutoProcessor.from_pretrained(id, progressOption(ctx))) as unknown as ChatProcessor;
    model = (await AutoModelForImageTextToText.from_pretrained(id, {
      ...progressOption(ctx),
      ...sessionOptionsFor(ctx.settings),
      dtype: { ...dtypes },
    })) as unknown as GenerativeModel;
  } catch (e) {
    throw toModelLoadError(e, ctx, `the image-text-to-text model (dtype ${describeDtypes(dtypes)})`);
  }
  const text = (model.config.text_config ?? {}) as Record<string, unknown>;
  const gen = model.generation_config ?? {};
  const eosTokenIds = asIds(gen.eos_token_id ?? model.config.eos_token_id ?? text.eos_token_id);
  const imageToken = processor.config?.image_token ?? '<image>';
  const tokenizer = processor.tokenizer;
  return {
    eosTokenIds,
    imageToken,
    chatPrompt(prompt) {
      if (!tokenizer.chat_template) return undefined;
      const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: prompt }] }];
      return tokenizer.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true });
    },
    decode: (ids) => tokenizer.decode(ids, { skip_special_tokens: true }),
    async generate(args) {
      const inputs = await processor(args.image, args.text, { add_special_tokens: args.addSpecialTokens });
      const promptIds = inputs.input_ids.tolist!()[0].map(Number);
      const newIds: number[] = [];
      let seenPrompt = false;
      class StepStreamer extends (BaseStreamer as unknown as new () => object) {
        put(value: bigint[][]): void {
          if (!seenPrompt) {
            seenPrompt = true;
            return;
          }
          newIds.push(Number(value[0][0]));
          args.onStep?.(newIds);
        }
        end(): void {}
      }
      const stop = args.shouldStop;
      const prefix = promptIds.length;
      const sequences = await model.generate({
        ...inputs,
        max_new_tokens: args.maxNewTokens,
        do_sample: args.temperature > 0,
        ...(args.temperature > 0 ? { temperature: args.temperature } : {}),
        num_beams: 1,
        streamer: new StepStreamer(),
        ...(stop ? { stopping_criteria: [callbackCriteria((row) => stop(row.slice(prefix).map(Number)))] } : {}),
      });
      return { promptIds, newIds: sequences.tolist()[0].slice(prefix).map(Number) };
    },
    dispose: () => model.dispose(),
  };
}
