/**
 * Building a converted model's two tower graphs from canonical weights: the vision tower a recipe
 * names (ViT or ModifiedResNet), the text tower (BERT or CLIP's causal transformer), with their sizes
 * read and checked from the weights.
 */
import { ConvertError } from '../core/errors.js';
import type { ModelSpec } from './onnx/proto.js';
import { bertDims, bertTextModel } from './graphs/bert.js';
import { clipTextDims, clipTextModel } from './graphs/clip-text.js';
import { resnetDims, resnetVisionModel } from './graphs/resnet.js';
import { vitDims, vitVisionModel } from './graphs/vit.js';
import type { MappedWeights } from './recipes/keymap.js';
import type { TextArch, VisionArch } from './recipes/types.js';

/** Tool name recorded as ONNX producer. */
export const PRODUCER = 'medvlm-convert';

/** Architecture sizes recorded in conversion.json and config.json. */
export interface ConvertedDims {
  vision: { width: number; layers: number; heads: number; patch: number; imageSize: number; mlp: number };
  text: { width: number; layers: number; heads: number; vocab: number; positions: number };
  embedDim: number;
}

/** Both towers of a model: sizes, and graph builders for fp32 / q8. */
export interface Towers {
  dims: ConvertedDims;
  vision(quantize: boolean): ModelSpec;
  text(quantize: boolean): ModelSpec;
}

/** What the text graph needs from the tokenizer side. */
export interface TextContext {
  endTokenId: number | undefined;
  contextLength: number;
  padId: number;
}

function buildVision(w: MappedWeights, vision: VisionArch): { dims: ConvertedDims['vision']; embedDim: number; spec: (q: boolean) => ModelSpec } {
  if (vision.kind === 'modified-resnet') {
    const d = resnetDims(w, vision.attnPoolHeads);
    return {
      dims: { width: d.width, layers: d.blocks.reduce((a, b) => a + b, 0), heads: d.heads, patch: 32, imageSize: d.imageSize, mlp: 0 },
      embedDim: d.embedDim,
      spec: (q) => resnetVisionModel(w, d, q, 'column', PRODUCER),
    };
  }
  const vs = { act: vision.act, lnEps: vision.lnEps, headWidth: vision.headWidth };
  const vd = vitDims(w, vs);
  return {
    dims: { width: vd.width, layers: vd.layers, heads: vd.heads, patch: vd.patch, imageSize: vd.imageSize, mlp: vd.mlp },
    embedDim: vd.embedDim,
    spec: (q) => vitVisionModel(w, vs, vd, q, 'column', PRODUCER),
  };
}

/** Check the weights and prepare both tower graphs. */
export function buildTowers(w: MappedWeights, vision: VisionArch, text: TextArch, tc: TextContext): Towers {
  const endTokenId = tc.endTokenId;
  const v = buildVision(w, vision);
  const vd = { embedDim: v.embedDim };
  const visionSpec = v.spec;
  let textSpec: (q: boolean) => ModelSpec;
  let td: ConvertedDims['text'];
  let textEmbed: number;
  if (text.kind === 'bert') {
    const ts = {
      lnEps: text.lnEps, headWidth: text.headWidth, proj: text.proj, endTokenId,
      ...(text.padToContext ? { padToContext: { length: tc.contextLength, padId: tc.padId } } : {}),
    };
    const d = bertDims(w, ts);
    textSpec = (q) => bertTextModel(w, ts, d, q, 'column', PRODUCER);
    td = { width: d.width, layers: d.layers, heads: d.heads, vocab: d.vocab, positions: d.positions };
    textEmbed = d.embedDim;
  } else {
    const ts = { act: text.act, lnEps: text.lnEps, headWidth: text.headWidth, endTokenId };
    const d = clipTextDims(w, ts);
    textSpec = (q) => clipTextModel(w, ts, d, q, 'column', PRODUCER);
    td = { width: d.width, layers: d.layers, heads: d.heads, vocab: d.vocab, positions: d.positions };
    textEmbed = d.embedDim;
  }
  if (textEmbed !== vd.embedDim) {
    throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: the image tower projects to ${vd.embedDim} dimensions and the text tower to ${textEmbed}`, { file: w.file });
  }
  return {
    dims: { vision: v.dims, text: td, embedDim: vd.embedDim },
    vision: visionSpec,
    text: textSpec,
  };
}
