/**
 * What a dual-encoder family declares (register your own with `registerDualEncoderFamily`): its scoring rule, the engine classes for its towers, how
 * its tokenizer pads, which outputs carry the embeddings, and its default logit parameters.
 * Families are data; the shared implementation lives in transformers-dual-encoder.ts.
 */
import type { ScoringRule } from './capabilities.js';
import type { EngineModelClass } from '../runtime/engine.js';

/** Fallback logit parameters when neither config.json nor a joint model provides them. */
export interface DefaultLogits {
  scale: number;
  bias: number;
  /** Where the numbers come from, for `info.notes`. */
  why: string;
}

/** A CLIP-family dual encoder family. */
export interface DualEncoderFamily {
  /** config.json `model_type` values this family loads. */
  modelTypes: string[];
  /** Family name recorded in ModelInfo. */
  name: string;
  scoring: ScoringRule;
  /** Whether logits carry an additive bias (SigLIP) or not (CLIP). */
  hasLogitBias: boolean;
  /** transformers.js class names of the text tower, the image tower and the joint model (`onnx/model.onnx`). */
  textModel: EngineModelClass;
  visionModel: EngineModelClass;
  jointModel: EngineModelClass;
  /** How texts are padded: to the longest in the batch, or always to model_max_length. */
  textPadding: true | 'max_length';
  /** Output names holding text embeddings, first present wins. */
  textOutputs: string[];
  /** Output names holding image embeddings, first present wins. */
  imageOutputs: string[];
  /** Logit parameters from config.json alone (the family's initial values). */
  defaultLogits(config: Record<string, unknown>): DefaultLogits;
}
