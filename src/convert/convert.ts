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
import { detectRecipe, recipeByName, type Recipe } from './recipes/index.js';
import { mapWeights } from './recipes/keymap.js';
import { resolveConversionSource } from './source.js';
import { contextLengthOf, effectiveArch, effectivePreprocessing, endTokenIdOf, obj, preprocessorJson, tokenizerFiles } from './settings.js';
import { buildTowers, type ConvertedDims } from './towers.js';

export { PRODUCER, type ConvertedDims } from './towers.js';

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

function logitScaleOf(recipe: Recipe, ckpt: Checkpoint, file: string): number {
  const spec = recipe.logitScale;
  if ('value' in spec) return spec.value;
  const t = ckpt.tensors.get(spec.key);
  if (!t) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${file}: missing key ${spec.key} (the logit scale)`, { file });
  if (t.dims.length > 1 || t.toFloat32().length !== 1) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${file}: key ${spec.key} has shape [${t.dims.join(', ')}], expected a scalar`, { file });
  const v = t.toFloat32()[0];
  return spec.exp ? Math.exp(v) : v;
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
      preprocessing: { ...pre, image_size: d.vision.imageSize, resample: 'bicubic (Pillow-exact, computed by medvlm)' },
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
