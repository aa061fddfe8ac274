/**
 * Conversion settings that come from the source's own files on top of a recipe: activation, epsilon
 * and heads (open_clip `quick_gelu`, Hugging Face config.json), preprocessing (open_clip
 * `preprocess_cfg`), context length, tokenizer files, pad and end token ids.
 */
import { join } from 'node:path';
import { ConvertError } from '../core/errors.js';
import type { Recipe } from './recipes/index.js';
import type { Preprocessing, TextArch, VisionArch } from './recipes/types.js';
import type { ConversionSource } from './source.js';
import { parseVocab, wordPieceTokenizerConfig, wordPieceTokenizerJson } from './tokenizer.js';

/** `v` as a plain object ({} when it is not one). */
export function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Recipe settings adjusted by the source's own config (open_clip quick_gelu, HF hidden_act/heads/eps). */
export function effectiveArch(recipe: Recipe, src: ConversionSource): { vision: VisionArch; text: TextArch } {
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
export function effectivePreprocessing(recipe: Recipe, src: ConversionSource, imageSize: number): Preprocessing & { notes: string[] } {
  const notes: string[] = [];
  const pc = obj(src.json['open_clip_config.json']?.preprocess_cfg);
  const triple = (v: unknown): [number, number, number] | undefined =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number') ? (v as [number, number, number]) : undefined;
  if (typeof pc.interpolation === 'string' && pc.interpolation !== 'bicubic') notes.push(`open_clip interpolation ${pc.interpolation} is written as bicubic`);
  if (typeof pc.resize_mode === 'string' && pc.resize_mode !== 'shortest') notes.push(`open_clip resize_mode ${pc.resize_mode} is written as shortest-edge resize + centre crop`);
  return {
    resizeShortestEdge: imageSize,
    mean: triple(pc.mean) ?? recipe.preprocessing.mean,
    std: triple(pc.std) ?? recipe.preprocessing.std,
    cropRounding: recipe.preprocessing.cropRounding,
    notes,
  };
}

/**
 * preprocessor_config.json in CLIPImageProcessor keys (Pillow bicubic resize of the shortest edge,
 * centre crop); `medvlm_crop_rounding` records torchvision's crop rounding for open_clip models
 * (medvlm's own preprocessing honours it; other readers ignore the key).
 */
export function preprocessorJson(p: Preprocessing, imageSize: number): object {
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
    ...(p.cropRounding === 'round-half-even' ? { medvlm_crop_rounding: 'round-half-even' } : {}),
  };
}

/** Tokenizer files and the pad id for the output folder. */
export function tokenizerFiles(recipe: Recipe, src: ConversionSource, contextLength: number): { files: Record<string, object>; padId: number; vocabSize: number } {
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
export function endTokenIdOf(recipe: Recipe, src: ConversionSource): number | undefined {
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

/** Context length: open_clip text_cfg.context_length, else the recipe's, capped by the position table. */
export function contextLengthOf(recipe: Recipe, src: ConversionSource, positions: number): number {
  const tc = obj(obj(src.json['open_clip_config.json']?.model_cfg).text_cfg);
  const wanted = typeof tc.context_length === 'number' ? tc.context_length : recipe.tokenizer.contextLength;
  return Math.min(wanted, positions);
}
