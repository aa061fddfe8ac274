/**
 * Capabilities: what a model can do, independent of its family. Tasks depend on these interfaces,
 * never on a family name.
 */

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
  /** Release the inference sessions. */
  dispose(): Promise<void>;
}
