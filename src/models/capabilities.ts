/**
 * Capabilities: what a model can do, independent of its family. Tasks depend on these interfaces,
 * never on a family name.
 */

import { ModelLoadError } from '../core/errors.js';
import type { RGBImage } from '../io/types.js';

export type { RGBImage };

/** How image-text similarities become scores: CLIP uses a softmax over labels, SigLIP a sigmoid per label. */
export type ScoringRule = 'softmax' | 'sigmoid';

/** Facts about a loaded model that results and reports record. */
export interface ModelInfo {
  /** What the user asked for: hub id, folder path or bundled name. */
  id: string;
  /** Family that implements it, e.g. "clip", "siglip" (for reports only; tasks never branch on it). */
  family: string;
  /** Where the files were loaded from (absolute folder). */
  location: string;
  /** Weights variant, e.g. "fp32", "q8". */
  dtype: string;
  /** Embedding dimension. */
  embedDim: number;
  /** sha256 of each model file actually loaded, keyed by relative path. */
  fileHashes: Record<string, string>;
}

/** Time spent per stage by an encoder since it was loaded, in milliseconds. */
export interface StageTimes {
  /** Resize, crop and normalise (the model's own image processor). */
  preprocessMs: number;
  /** Image tower forward passes. */
  imageInferenceMs: number;
  /** Tokenising and text tower forward passes. */
  textMs: number;
}

/** A dual encoder (CLIP-family): images and texts into one embedding space. */
export interface DualEncoder {
  readonly info: ModelInfo;
  readonly scoring: ScoringRule;
  /** Multiplier applied to cosine similarities (CLIP's exp(logit_scale)). */
  readonly logitScale: number;
  /** Added after scaling (SigLIP's logit_bias; 0 for CLIP). */
  readonly logitBias: number;
  /** L2-normalised image embeddings, one per image. */
  encodeImages(images: RGBImage[]): Promise<Float32Array[]>;
  /** L2-normalised text embeddings, one per text. */
  encodeTexts(texts: string[]): Promise<Float32Array[]>;
  /** Cumulative time per stage, when the implementation measures it (benchmarks read it). */
  readonly stageTimes?: StageTimes;
  /**
   * Patch-level features in the same text space, when the model has them; absent otherwise (then
   * `requireDense` says why). Shares the sessions of this encoder.
   */
  readonly dense?: DenseEncoder;
  /** Why `dense` is absent (for the E_MODEL_NO_DENSE message). */
  readonly denseUnavailable?: string;
  /** Release the inference sessions. */
  dispose(): Promise<void>;
}

/** Patch features of one image: a row-major grid of L2-normalised embeddings in the text space. */
export interface DenseFeatures {
  rows: number;
  cols: number;
  /** `rows * cols` embeddings (row-major, top-left first), each `embedDim` long, L2-normalised. */
  patches: Float32Array[];
}

/**
 * Dense features (the DenseEncoder capability): the image tower's patch tokens or last feature map
 * through the same projection as the pooled image embedding, so a patch can be compared with a text
 * embedding by cosine. The grid covers the model's input square: feed square images (the model's own
 * processor centre-crops anything else) so that cell (r, c) covers rows r/rows..(r+1)/rows of the image.
 */
export interface DenseEncoder {
  /** Grid of patch features for a square input. */
  readonly grid: { rows: number; cols: number };
  /** Side of the model's input square, in pixels (e.g. 96 for medvlm-tiny). */
  readonly inputSize: number;
  /** Patch features, one grid per image, in order. */
  encodePatches(images: RGBImage[]): Promise<DenseFeatures[]>;
}

/**
 * The dense features of `model`, or E_MODEL_NO_DENSE naming the model and why it cannot (e.g. a
 * converted ViT CLIP whose exported vision graph returns only the pooled embedding).
 */
export function requireDense(model: DualEncoder): DenseEncoder {
  if (model.dense) return model.dense;
  throw new ModelLoadError(
    'E_MODEL_NO_DENSE',
    `${model.info.id}: this model has no dense (patch-level) features in the text space: ${model.denseUnavailable ?? 'its image tower returns only a pooled embedding'}`,
    { file: model.info.location },
  );
}

/** A probability map over an image (0..1 per pixel), row-major. */
export interface ProbabilityMap {
  width: number;
  height: number;
  data: Float32Array;
}

/** Facts about a loaded segmenter that results record. */
export interface SegmenterInfo {
  id: string;
  /** e.g. "medvlm-text-segmenter", "clipseg", "sam" (reports only). */
  family: string;
  location: string;
  dtype: string;
  fileHashes: Record<string, string>;
}

/**
 * A model that segments from text itself (the TextPromptedSegmenter capability): image + text →
 * probability map. Maps cover the WHOLE image (the model's processor resizes to a square without
 * cropping), so resizing a map back to the image's size puts every pixel in place.
 */
export interface TextPromptedSegmenter {
  readonly info: SegmenterInfo;
  /** Probability at or above which a pixel is in the mask (the model's calibrated default). */
  readonly threshold: number;
  /** Default prompt per target name (e.g. {"polyp": "a polyp"}), possibly empty. */
  readonly prompts: Record<string, string>;
  /** One map per image; `texts[i]` is the prompt for `images[i]`. Maps are at the model's output resolution. */
  segment(images: RGBImage[], texts: string[]): Promise<ProbabilityMap[]>;
  dispose(): Promise<void>;
}

/** Prompts for a promptable segmenter, in the image's pixel coordinates. */
export interface SegmenterPrompt {
  /** [x0, y0, x1, y1]. */
  box?: [number, number, number, number];
  /** Points with label 1 (foreground) or 0 (background). */
  points?: Array<{ x: number; y: number; label: 0 | 1 }>;
}

/** What a promptable segmenter returns: the probability map at the image's size, and how it was made. */
export interface PromptedSegmentation extends ProbabilityMap {
  /** The prompt parts the model actually took (an export without box input takes the points only). */
  used: SegmenterPrompt;
  /** The model's predicted IoU of the mask it returned, where it predicts one. */
  score?: number;
  /** Why part of the prompt was not used, and similar facts for results. */
  notes: string[];
}

/** A model that segments from a box and/or points (SAM family: the PromptableSegmenter capability). */
export interface PromptableSegmenter {
  readonly info: SegmenterInfo;
  /** One probability map per image at the image's own size. */
  segment(image: RGBImage, prompt: SegmenterPrompt): Promise<PromptedSegmentation>;
  dispose(): Promise<void>;
}

/** Which kind of engine runs a generator. */
export type GeneratorBackend = 'transformers.js' | 'openai' | 'anthropic' | 'gemini';

/** Facts about a loaded generator that results record. */
export interface GeneratorInfo {
  /** What the user asked for, e.g. a folder, or `openai:http://127.0.0.1:8000/v1#llava-med`. */
  id: string;
  backend: GeneratorBackend;
  /** Model name as the backend knows it (the served model name, or the model folder's name). */
  model: string;
  /** Family that implements it, e.g. "vision-encoder-decoder", "openai-chat" (reports only). */
  family: string;
  /** Base URL of a remote backend (never with credentials), or the absolute folder of a local one. */
  location: string;
  /** Most tokens (prompt + generated) the model can attend to, where known (local models with a fixed position table). */
  contextTokens?: number;
}

/** Where the image pixels went for one generation: the privacy record of a result. */
export interface ImageDestination {
  /** `local`: this process; `loopback`: a server on this machine; `remote`: another host. */
  kind: 'local' | 'loopback' | 'remote';
  /** Host (and port) the image was sent to, for loopback and remote. */
  host?: string;
  /** What left the process: `none` (local), or re-encoded PNG pixels of the model view. */
  payload: 'none' | 'png-pixels';
  /** For loopback and remote: whether the connection was encrypted (https). */
  tls?: boolean;
  /** Number of images sent. */
  images: number;
}

/** Token counts reported by the backend (remote) or counted here (local). Missing when unknown. */
export interface GenerationUsage {
  promptTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
}

/** What one generation is asked. */
export interface GenerationRequest {
  /** Model views (8-bit RGB), usually one. */
  images: RGBImage[];
  /** Instruction or question; may be empty for captioning models. */
  prompt: string;
}

/** How to generate. Backends record in the result which of these they applied. */
export interface GenerationOptions {
  /** Most new tokens (default 256). */
  maxTokens?: number;
  /** Stop strings: generation ends before the first one (not included in the text). */
  stop?: string[];
  /** 0 or unset: greedy / the backend's deterministic setting; > 0: sampling. */
  temperature?: number;
  /** Sampling seed, where the backend supports one. */
  seed?: number;
  /** Called with each new piece of text as it arrives. */
  onText?: (piece: string) => void;
  /** Cancels the generation (remote: aborts the request). */
  signal?: AbortSignal;
}

/**
 * Why generation ended. `cancelled`: `signal` fired after the answer had started; the result holds
 * the text so far (a signal that fires before any answer makes `generate` reject).
 */
export type FinishReason = 'stop' | 'length' | 'stop-sequence' | 'cancelled' | 'other';

/** The plain JSON result of one generation. */
export interface GenerationResult {
  text: string;
  backend: GeneratorBackend;
  /** Model name as the backend reported it (remote) or the generator's model name (local). */
  model: string;
  finishReason: FinishReason;
  usage: GenerationUsage;
  /** Where the image went. */
  image: ImageDestination;
  /** Options the backend honoured (e.g. `seed` is absent where the backend has none). */
  applied: { maxTokens: number; temperature?: number; seed?: number; stop?: string[] };
  /** New token ids, for local backends (remote APIs do not return ids). */
  tokens?: number[];
  /** HTTP attempts for remote backends (1 when no retry was needed); absent for local ones. */
  attempts?: number;
  /** Wall time of the generation. */
  elapsedMs: number;
}

/**
 * A generative vision-language model: images + prompt → text, streamed through `onText`.
 * Local (transformers.js) and remote (OpenAI-compatible, Anthropic, Gemini) backends implement it.
 */
export interface VisionLanguageGenerator {
  readonly info: GeneratorInfo;
  generate(request: GenerationRequest, options?: GenerationOptions): Promise<GenerationResult>;
  /** Release sessions or connections. */
  dispose(): Promise<void>;
}

/**
 * Stream a generation as an async iterator of text pieces; the iterator's return value is the
 * result. For callers that prefer `for await` over the `onText` callback. Leaving the loop early
 * cancels the generation (through `signal`).
 */
export async function* streamGeneration(
  generator: VisionLanguageGenerator,
  request: GenerationRequest,
  options: Omit<GenerationOptions, 'onText'> = {},
): AsyncGenerator<string, GenerationResult> {
  const queue: string[] = [];
  const controller = new AbortController();
  let wake: (() => void) | undefined;
  let settled = false;
  const done = generator
    .generate(request, {
      ...options,
      signal: options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal,
      onText: (piece) => {
        queue.push(piece);
        wake?.();
      },
    })
    .finally(() => {
      settled = true;
      wake?.();
    });
  done.catch(() => undefined);
  try {
    while (true) {
      if (queue.length > 0) {
        yield queue.shift()!;
        continue;
      }
      if (settled) break;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    return await done;
  } finally {
    if (!settled) controller.abort(new Error('the consumer stopped reading'));
  }
}
