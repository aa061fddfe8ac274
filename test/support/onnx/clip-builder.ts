/**
 * Writes complete Hugging Face / transformers.js model folders of tiny (or ViT-B/16-sized)
 * CLIP-family dual encoders, built from seeded random weights: config.json,
 * preprocessor_config.json, tokenizer.json, tokenizer_config.json and onnx/{model,text_model,
 * vision_model}{,_quantized}.onnx. Output is byte-reproducible for a given configuration.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { encodeModel, type ModelSpec } from './proto.js';
import { jointModel, makeWeights, textModel, visionModel, type TowerConfig } from './towers.js';
import { buildVocabulary, tokenizerConfigJson, tokenizerJson } from './tokenizer.js';

/** Options of one built folder. */
export interface DualEncoderBuildConfig extends Omit<TowerConfig, 'vocabSize'> {
  /** Which files to write (default: all). */
  files?: { joint?: boolean; q8?: boolean; tokenizer?: boolean };
  /**
   * Write `"medvlm": {"logit_scale": exp(logitScaleLog), "logit_bias": b}` into config.json. Off by
   * default so that loaders must derive the values from the joint model.
   */
  medvlmBlock?: boolean;
}

/** Tiny CLIP: 32-px images, patch 8, width 32, 2 layers, embed 16. Builds in well under a second. */
export const TINY_CLIP: DualEncoderBuildConfig = {
  family: 'clip',
  seed: 1234,
  imageSize: 32,
  patchSize: 8,
  visionWidth: 32,
  visionLayers: 2,
  visionHeads: 2,
  textWidth: 32,
  textLayers: 2,
  textHeads: 2,
  maxTextLength: 16,
  embedDim: 16,
  logitScaleLog: Math.log(20),
  logitBias: 0,
};

/** Tiny SigLIP: same sizes, sigmoid family with a logit bias. */
export const TINY_SIGLIP: DualEncoderBuildConfig = {
  ...TINY_CLIP,
  family: 'siglip',
  seed: 4321,
  logitScaleLog: Math.log(10),
  logitBias: -4.5,
};

/** ViT-B/16-sized CLIP for benchmarks: 224 px, patch 16, width 768 x 12 layers; text 512 x 12; embed 512. */
export const VIT_B16_CLIP: DualEncoderBuildConfig = {
  family: 'clip',
  seed: 16,
  imageSize: 224,
  patchSize: 16,
  visionWidth: 768,
  visionLayers: 12,
  visionHeads: 12,
  textWidth: 512,
  textLayers: 12,
  textHeads: 8,
  maxTextLength: 77,
  embedDim: 512,
  logitScaleLog: Math.log(100),
  logitBias: 0,
  // No joint model (it would double the ~480 MB of fp32 weights); the scale goes into config.json.
  files: { joint: false, q8: true },
  medvlmBlock: true,
};

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

function writeModel(path: string, spec: ModelSpec): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of encodeModel(spec)) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function configJson(cfg: TowerConfig, withBlock: boolean): object {
  const clip = cfg.family === 'clip';
  const common = (width: number, layers: number, heads: number): object => ({
    hidden_size: width,
    intermediate_size: 4 * width,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    hidden_act: 'gelu',
    layer_norm_eps: 1e-5,
  });
  return {
    model_type: cfg.family,
    architectures: [clip ? 'CLIPModel' : 'SiglipModel'],
    ...(clip ? { projection_dim: cfg.embedDim, logit_scale_init_value: 2.6592 } : {}),
    text_config: {
      model_type: clip ? 'clip_text_model' : 'siglip_text_model',
      ...common(cfg.textWidth, cfg.textLayers, cfg.textHeads),
      vocab_size: cfg.vocabSize,
      max_position_embeddings: cfg.maxTextLength,
      projection_dim: cfg.embedDim,
    },
    vision_config: {
      model_type: clip ? 'clip_vision_model' : 'siglip_vision_model',
      ...common(cfg.visionWidth, cfg.visionLayers, cfg.visionHeads),
      image_size: cfg.imageSize,
      patch_size: cfg.patchSize,
      num_channels: 3,
      projection_dim: cfg.embedDim,
    },
    ...(withBlock
      ? { medvlm: { logit_scale: Math.exp(cfg.logitScaleLog), logit_bias: clip ? 0 : cfg.logitBias } }
      : {}),
  };
}

function preprocessorJson(cfg: TowerConfig): object {
  if (cfg.family === 'siglip') {
    return {
      image_processor_type: 'SiglipImageProcessor',
      processor_class: 'SiglipProcessor',
      do_resize: true,
      size: { height: cfg.imageSize, width: cfg.imageSize },
      resample: 2,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
    };
  }
  return {
    image_processor_type: 'CLIPImageProcessor',
    processor_class: 'CLIPProcessor',
    do_resize: true,
    size: { shortest_edge: cfg.imageSize },
    resample: 3,
    do_center_crop: true,
    crop_size: { height: cfg.imageSize, width: cfg.imageSize },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    do_convert_rgb: true,
    image_mean: CLIP_MEAN,
    image_std: CLIP_STD,
  };
}

/** The tower configuration a build configuration implies (adds the vocabulary size). */
export function towerConfigOf(cfg: DualEncoderBuildConfig): TowerConfig {
  const { files: _files, medvlmBlock: _block, ...tower } = cfg;
  return { ...tower, vocabSize: buildVocabulary().length };
}

/**
 * Write a complete model folder into `dir`. Idempotent: when `dir/.medvlm-build.json` records the
 * same configuration, nothing is rewritten. Returns `dir`.
 */
export function buildDualEncoderFolder(dir: string, cfg: DualEncoderBuildConfig): string {
  const tower = towerConfigOf(cfg);
  const files = { joint: true, q8: true, tokenizer: true, ...cfg.files };
  const stamp = JSON.stringify({ builder: 1, tower, files, medvlmBlock: cfg.medvlmBlock ?? false });
  const stampPath = join(dir, '.medvlm-build.json');
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) return dir;

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const vocab = buildVocabulary();
  writeJson(join(dir, 'config.json'), configJson(tower, cfg.medvlmBlock ?? false));
  writeJson(join(dir, 'preprocessor_config.json'), preprocessorJson(tower));
  if (files.tokenizer) {
    writeJson(join(dir, 'tokenizer.json'), tokenizerJson(vocab));
    writeJson(join(dir, 'tokenizer_config.json'), tokenizerConfigJson(tower.family === 'clip' ? 'BertTokenizer' : 'SiglipTokenizer', tower.maxTextLength));
  }
  const weights = makeWeights(tower);
  const variants: [string, boolean][] = [['', false]];
  if (files.q8) variants.push(['_quantized', true]);
  for (const [suffix, quantize] of variants) {
    writeModel(join(dir, 'onnx', `text_model${suffix}.onnx`), textModel(tower, weights, quantize));
    writeModel(join(dir, 'onnx', `vision_model${suffix}.onnx`), visionModel(tower, weights, quantize));
    if (files.joint) writeModel(join(dir, 'onnx', `model${suffix}.onnx`), jointModel(tower, weights, quantize));
  }
  writeFileSync(stampPath, stamp);
  return dir;
}

/** sha256 of a file (used by tests to check byte-reproducibility). */
export function sha256OfFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Folder names under test/.models/ that the global setup builds. */
export const TEST_MODEL_NAMES = {
  clip: 'tiny-clip',
  siglip: 'tiny-siglip',
  noTokenizer: 'tiny-clip-no-tokenizer',
} as const;

/** Build the shared test models into `root` (test/.models/): tiny CLIP, tiny SigLIP, a copy without tokenizer files. */
export function buildTestModels(root: string): Record<keyof typeof TEST_MODEL_NAMES, string> {
  return {
    clip: buildDualEncoderFolder(join(root, TEST_MODEL_NAMES.clip), TINY_CLIP),
    siglip: buildDualEncoderFolder(join(root, TEST_MODEL_NAMES.siglip), TINY_SIGLIP),
    noTokenizer: buildDualEncoderFolder(join(root, TEST_MODEL_NAMES.noTokenizer), {
      ...TINY_CLIP,
      files: { joint: false, q8: false, tokenizer: false },
    }),
  };
}
