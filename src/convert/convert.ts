/**
 * `convertCheckpoint`: a source checkpoint + recipe → a model folder in the transformers.js layout
 * that medvlm loads (config.json with the pinned logit scale, preprocessor_config.json, tokenizer
 * files, onnx/{text,vision}_model{,_quantized}.onnx, conversion.json). Everything is written to a
 * temporary sibling folder that is renamed into place at the end, so a failed conversion never
 * leaves a half model.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConvertError, OptionError } from '../core/errors.js';
import { packageVersion } from '../core/paths.js';
import type { ModelDtype } from '../runtime/dtype.js';
import { onnxFileFor } from '../runtime/dtype.js';
import { parseCheckpoint, type Checkpoint } from './checkpoint/index.js';
import { encodeModel, type ModelSpec } from './onnx/proto.js';
import { bertDims, bertTextModel } from './graphs/bert.js';
import { clipTextDims, clipTextModel } from './graphs/clip-text.js';
import { vitDims, vitVisionModel } from './graphs/vit.js';
import { resnetDims, resnetVisionModel } from './graphs/resnet.js';
import { detectRecipe, recipeByName, type Recipe } from './recipes/index.js';
import { mapWeights, type MappedWeights } from './recipes/keymap.js';
import type { Preprocessing, TextArch, VisionArch } from './recipes/types.js';
import { resolveConversionSource, type ConversionSource } from './source.js';
import { parseVocab, wordPieceTokenizerConfig, wordPieceTokenizerJson } from './tokenizer.js';

/** Options of `convertCheckpoint`. */
export interface ConvertOptions {
  /** A checkpoint file or a folder holding one. */
  source: string;
  /** Output folder (must not exist unless `force`). */
  out: string;
  /** Recipe name; detected from the keys when absent. */
  recipe?: string;
  /** Which ONNX variants to write (default fp32). */
  dtypes?: ModelDtype[];
  /** Replace an existing output folder. */
  force?: boolean;
  /** Progress messages (one line each). */
  onProgress?: (message: string) => void;
}

/** Architecture sizes recorded in conversion.json and config.json. */
export interface ConvertedDims {
  vision: { width: number; layers: number; heads: number; patch: number; imageSize: number; mlp: number };
  text: { width: number; layers: number; heads: number; vocab: number; positions: number };
  embedDim: number;
}

/** What a conversion produced. */
export interface ConvertResult {
  out: string;
  recipe: string;
  format: Checkpoint['format'];
  dims: ConvertedDims;
  logitScale: number;
  dtypes: ModelDtype[];
  files: string[];
  seconds: number;
  /** Source keys the recipe did not use and does not know (reported, not fatal). */
  unusedKeys: string[];
}

/** Tool name recorded as ONNX producer. */
export const PRODUCER = 'medvlm-convert';

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function writeModel(path: string, spec: ModelSpec): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of encodeModel(spec)) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Recipe settings adjusted by the source's own config (open_clip quick_gelu, HF hidden_act/heads/eps). */
function effectiveArch(recipe: Recipe, src: ConversionSource): { vision: VisionArch; text: TextArch } {
  let vision = { ...recipe.vision };
  let text = { ...recipe.text };
  const oc = obj(src.json['open_clip_config.json']?.model_cfg);
  if (typeof oc.quick_gelu === 'boolean' && vision.kind === 'vit' && recipe.name !== 'open_clip-timm-vit-hf-bert') {
    vision = { ...vision, act: oc.quick_gelu ? 'quick_gelu' : 'gelu' };
    if (text.kind === 'clip-text') text = { ...text, act: oc.quick_gelu ? 'quick_gelu' : 'gelu' };
  }
  const hf = src.json['config.json'];
  if (recipe.name === 'hf-clip' && hf) {
    const vc = obj(hf.vision_config);
    const tc = obj(hf.text_config);
    const act = (c: Record<string, unknown>, d: 'gelu' | 'quick_gelu'): 'gelu' | 'quick_gelu' => (c.hidden_act === 'gelu' ? 'gelu' : c.hidden_act === 'quick_gelu' ? 'quick_gelu' : d);
    if (vision.kind === 'vit') {
      vision = { ...vision, act: act(vc, vision.act), lnEps: typeof vc.layer_norm_eps === 'number' ? vc.layer_norm_eps : vision.lnEps };
      if (typeof vc.hidden_size === 'number' && typeof vc.num_attention_heads === 'number') vision.headWidth = vc.hidden_size / vc.num_attention_heads;
    }
    if (text.kind === 'clip-text') {
      text = { ...text, act: act(tc, text.act), lnEps: typeof tc.layer_norm_eps === 'number' ? tc.layer_norm_eps : text.lnEps };
      if (typeof tc.hidden_size === 'number' && typeof tc.num_attention_heads === 'number') text.headWidth = tc.hidden_size / tc.num_attention_heads;
    }
  }
  return { vision, text };
}

/** Preprocessing: the recipe's, with open_clip's preprocess_cfg mean/std and the tower's image size. */
function effectivePreprocessing(recipe: Recipe, src: ConversionSource, imageSize: number): Preprocessing & { notes: string[] } {
  const notes: string[] = [];
  const pc = obj(src.json['open_clip_config.json']?.preprocess_cfg);
  const triple = (v: unknown): [number, number, number] | undefined =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number') ? (v as [number, number, number]) : undefined;
  if (typeof pc.interpolation === 'string' && pc.interpolation !== 'bicubic') notes.push(`open_clip interpolation ${pc.interpolation} is written as bicubic`);
  if (typeof pc.resize_mode === 'string' && pc.resize_mode !== 'shortest') notes.push(`open_clip resize_mode ${pc.resize_mode} is written as shortest-edge resize + centre crop`);
  return { resizeShortestEdge: imageSize, mean: triple(pc.mean) ?? recipe.preprocessing.mean, std: triple(pc.std) ?? recipe.preprocessing.std, notes };
}

function preprocessorJson(p: Preprocessing, imageSize: number): object {
  return {
    image_processor_type: 'CLIPImageProcessor',
    processor_class: 'CLIPProcessor',
    do_resize: true,
    size: { shortest_edge: p.resizeShortestEdge },
    resample: 3,
    do_center_crop: true,
    crop_size: { height: imageSize, width: imageSize },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    do_convert_rgb: true,
    image_mean: p.mean,
    image_std: p.std,
  };
}

/** Tokenizer files and the pad id for the output folder. */
function tokenizerFiles(recipe: Recipe, src: ConversionSource, contextLength: number): { files: Record<string, object>; padId: number; vocabSize: number } {
  if (recipe.tokenizer.kind === 'wordpiece') {
    if (src.vocab === undefined) {
      throw new ConvertError('E_CHECKPOINT_INVALID', `${src.folder}: recipe ${recipe.name} needs the BERT vocabulary (vocab.txt) next to the checkpoint`, { file: src.folder });
    }
    const vocab = parseVocab(src.vocab, join(src.folder, 'vocab.txt'));
    const tc = src.json['tokenizer_config.json'] ?? {};
    const lowercase = typeof tc.do_lower_case === 'boolean' ? tc.do_lower_case : recipe.tokenizer.lowercase;
    const stripAccents = typeof tc.strip_accents === 'boolean' ? tc.strip_accents : recipe.tokenizer.stripAccents;
    const s = { lowercase, stripAccents, contextLength };
    return {
      files: { 'tokenizer.json': wordPieceTokenizerJson(vocab, s), 'tokenizer_config.json': wordPieceTokenizerConfig(s) },
      padId: vocab.indexOf('[PAD]'),
      vocabSize: vocab.length,
    };
  }
  const tok = src.json['tokenizer.json'];
  if (!tok) throw new ConvertError('E_CHECKPOINT_INVALID', `${src.folder}: recipe ${recipe.name} needs the source's tokenizer.json next to the checkpoint`, { file: src.folder });
  const config: Record<string, unknown> = { ...(src.json['tokenizer_config.json'] ?? { tokenizer_class: 'CLIPTokenizer' }), model_max_length: contextLength };
  const vocab = obj(obj(tok.model).vocab);
  const padName = typeof config.pad_token === 'string' ? config.pad_token : '<|endoftext|>';
  const padId = typeof vocab[padName] === 'number' ? (vocab[padName] as number) : 0;
  const files: Record<string, object> = { 'tokenizer.json': tok, 'tokenizer_config.json': config };
  if (src.json['special_tokens_map.json']) files['special_tokens_map.json'] = src.json['special_tokens_map.json'];
  return { files, padId, vocabSize: Object.keys(vocab).length };
}

/** The end token's id ([SEP] or <|endoftext|>), from the source's vocabulary or tokenizer files. */
function endTokenIdOf(recipe: Recipe, src: ConversionSource): number | undefined {
  if (recipe.tokenizer.kind === 'wordpiece') {
    const vocab = src.vocab?.split(/\r?\n/) ?? [];
    const at = vocab.indexOf('[SEP]');
    return at >= 0 ? at : undefined;
  }
  const vocab = obj(obj(src.json['tokenizer.json']?.model).vocab);
  const tc = src.json['tokenizer_config.json'] ?? {};
  const named = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof obj(v).content === 'string' ? (obj(v).content as string) : undefined);
  for (const name of [named(tc.eos_token), named(tc.sep_token), '<|endoftext|>', '[SEP]']) {
    if (name !== undefined && typeof vocab[name] === 'number') return vocab[name] as number;
  }
  return undefined;
}

function logitScaleOf(recipe: Recipe, ckpt: Checkpoint, file: string): number {
  const spec = recipe.logitScale;
  if ('value' in spec) return spec.value;
  const t = ckpt.tensors.get(spec.key);
  if (!t) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${file}: missing key ${spec.key} (the logit scale)`, { file });
  if (t.dims.length > 1 || t.toFloat32().length !== 1) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${file}: key ${spec.key} has shape [${t.dims.join(', ')}], expected a scalar`, { file });
  const v = t.toFloat32()[0];
  return spec.exp ? Math.exp(v) : v;
}

interface Towers {
  dims: ConvertedDims;
  vision(quantize: boolean): ModelSpec;
  text(quantize: boolean): ModelSpec;
}

interface TextContext {
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

function buildTowers(w: MappedWeights, vision: VisionArch, text: TextArch, tc: TextContext): Towers {
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

/** Context length: open_clip text_cfg.context_length, else the recipe's, capped by the position table. */
function contextLengthOf(recipe: Recipe, src: ConversionSource, positions: number): number {
  const tc = obj(obj(src.json['open_clip_config.json']?.model_cfg).text_cfg);
  const wanted = typeof tc.context_length === 'number' ? tc.context_length : recipe.tokenizer.contextLength;
  return Math.min(wanted, positions);
}

/** Refuse an existing output folder unless `force`. */
export function checkOutput(out: string, force: boolean | undefined): void {
  if (existsSync(out) && !force) {
    throw new OptionError('E_OUTPUT_EXISTS', `${out}: the output folder exists; pass --force to replace it`, { file: out });
  }
}

/** Convert a checkpoint into a medvlm model folder. */
export function convertCheckpoint(opts: ConvertOptions): ConvertResult {
  const t0 = performance.now();
  const progress = opts.onProgress ?? (() => undefined);
  const out = resolve(opts.out);
  const dtypes = opts.dtypes ?? ['fp32'];
  checkOutput(out, opts.force);
  const explicit = opts.recipe !== undefined ? recipeByName(opts.recipe) : undefined;
  const src = resolveConversionSource(opts.source);

  progress(`reading ${src.checkpoint}`);
  const bytes = readFileSync(src.checkpoint);
  const sourceHashes = [{ file: basename(src.checkpoint), bytes: bytes.length, sha256: sha256(bytes) }];
  for (const f of src.sideFiles) {
    const b = readFileSync(f);
    sourceHashes.push({ file: basename(f), bytes: b.length, sha256: sha256(b) });
  }
  const ckpt = parseCheckpoint(bytes, src.checkpoint);
  const recipe = explicit ?? detectRecipe(ckpt.tensors, src.checkpoint);
  progress(`recipe ${recipe.name} (${ckpt.format}, ${ckpt.tensors.size} tensors)`);
  const weights = mapWeights(ckpt.tensors, recipe.keys, recipe.ignore, src.checkpoint);
  if ('key' in recipe.logitScale) weights.unused = weights.unused.filter((k) => k !== (recipe.logitScale as { key: string }).key);
  const arch = effectiveArch(recipe, src);
  const positions = weights.store.get('text.pos')?.dims[0] ?? recipe.tokenizer.contextLength;
  const contextLength = contextLengthOf(recipe, src, positions);
  const tok = tokenizerFiles(recipe, src, contextLength);
  const towers = buildTowers(weights, arch.vision, arch.text, { endTokenId: endTokenIdOf(recipe, src), contextLength, padId: tok.padId });
  const logitScale = logitScaleOf(recipe, ckpt, src.checkpoint);
  if (tok.vocabSize > towers.dims.text.vocab) {
    throw new ConvertError('E_CHECKPOINT_MISMATCH', `${src.checkpoint}: the tokenizer has ${tok.vocabSize} tokens but the text tower's embedding table only ${towers.dims.text.vocab}`, { file: src.checkpoint });
  }
  const ocImage = obj(obj(src.json['open_clip_config.json']?.model_cfg).vision_cfg).image_size;
  if (typeof ocImage === 'number' && ocImage !== towers.dims.vision.imageSize) {
    throw new ConvertError('E_CHECKPOINT_MISMATCH', `${src.checkpoint}: open_clip_config.json says image_size ${ocImage} but the position table fits ${towers.dims.vision.imageSize}`, { file: src.checkpoint });
  }
  const pre = effectivePreprocessing(recipe, src, towers.dims.vision.imageSize);

  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(join(tmp, 'onnx'), { recursive: true });
  try {
    const d = towers.dims;
    writeJson(join(tmp, 'config.json'), {
      model_type: 'clip',
      architectures: ['CLIPModel'],
      projection_dim: d.embedDim,
      text_config: {
        model_type: 'clip_text_model', hidden_size: d.text.width, num_hidden_layers: d.text.layers, num_attention_heads: d.text.heads,
        vocab_size: d.text.vocab, max_position_embeddings: d.text.positions, projection_dim: d.embedDim, pad_token_id: tok.padId,
      },
      vision_config: {
        model_type: 'clip_vision_model', hidden_size: d.vision.width, intermediate_size: d.vision.mlp, num_hidden_layers: d.vision.layers,
        num_attention_heads: d.vision.heads, image_size: d.vision.imageSize, patch_size: d.vision.patch, num_channels: 3, projection_dim: d.embedDim,
      },
      medvlm: { logit_scale: logitScale, logit_bias: 0, medical: true, converted: { recipe: recipe.name, models: recipe.models, source: basename(src.checkpoint) } },
    });
    writeJson(join(tmp, 'preprocessor_config.json'), preprocessorJson(pre, d.vision.imageSize));
    for (const [name, content] of Object.entries(tok.files)) writeJson(join(tmp, name), content);
    const files: string[] = [];
    for (const dtype of dtypes) {
      const q = dtype === 'q8';
      progress(`writing ${dtype} text model`);
      writeModel(join(tmp, onnxFileFor('text_model', dtype)), towers.text(q));
      progress(`writing ${dtype} vision model`);
      writeModel(join(tmp, onnxFileFor('vision_model', dtype)), towers.vision(q));
      files.push(onnxFileFor('text_model', dtype), onnxFileFor('vision_model', dtype));
    }
    const seconds = (performance.now() - t0) / 1000;
    writeJson(join(tmp, 'conversion.json'), {
      tool: { name: 'medvlm convert', version: packageVersion() },
      recipe: recipe.name,
      models: recipe.models,
      source: { path: src.checkpoint, format: ckpt.format, files: sourceHashes },
      architecture: { vision: arch.vision, text: arch.text, dims: d },
      preprocessing: { ...pre, image_size: d.vision.imageSize, resample: 'bicubic (transformers.js CLIPImageProcessor)' },
      context_length: contextLength,
      pad_token_id: tok.padId,
      logit_scale: logitScale,
      dtypes,
      ignored_keys: weights.ignored,
      unused_keys: weights.unused,
      seconds: Math.round(seconds * 10) / 10,
      parity: null,
    });
    if (existsSync(out)) rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
    return { out, recipe: recipe.name, format: ckpt.format, dims: d, logitScale, dtypes, files, seconds, unusedKeys: weights.unused };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Record parity figures (measured after conversion) in the folder's conversion.json. */
export function recordParity(out: string, parity: Record<string, unknown>): void {
  const path = join(out, 'conversion.json');
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  doc.parity = parity;
  writeJson(path, doc);
}
