/**
 * The converter's recipes (one declarative description per architecture) and how a checkpoint
 * picks one: by name (`--recipe`), or by the first recipe whose signature keys are all present.
 */
import { ConvertError } from '../../core/errors.js';
import type { StateDict } from '../checkpoint/index.js';
import { hfBertRules, hfClipRules, hfMlpProjRules, modifiedResnetRules, openClipTextRules, openClipVitRules, timmVitRules } from './rules.js';
import type { Recipe } from './types.js';

export type { Recipe } from './types.js';

/** OpenAI CLIP's normalisation (also BiomedCLIP's, UniMed-CLIP's and PMC-CLIP's). */
export const OPENAI_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
/** OpenAI CLIP's normalisation std. */
export const OPENAI_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

const BERT_IGNORE = ['\\.embeddings\\.position_ids$', '\\.pooler\\.dense\\.(weight|bias)$'];

/** Every recipe, in detection order. */
export const RECIPES: readonly Recipe[] = [
  {
    name: 'open_clip-timm-vit-hf-bert',
    models: ['BiomedCLIP'],
    description: 'open_clip: timm ViT image tower + linear head; Hugging Face BERT text tower, [CLS] of the last hidden state, MLP projection',
    signature: ['visual.trunk.patch_embed.proj.weight', 'visual.head.proj.weight', 'text.transformer.embeddings.word_embeddings.weight', 'text.proj.0.weight'],
    vision: { kind: 'vit', act: 'gelu', lnEps: 1e-6, headWidth: 64 },
    text: { kind: 'bert', lnEps: 1e-12, headWidth: 64, proj: 'mlp' },
    keys: [
      ...timmVitRules('visual.trunk'),
      { from: ['visual.head.proj.weight'], to: 'vision.proj.weight', op: 'T' },
      ...hfBertRules('text.transformer'),
      ...hfMlpProjRules('text.proj'),
    ],
    ignore: BERT_IGNORE,
    logitScale: { key: 'logit_scale', exp: true },
    preprocessing: { resizeShortestEdge: 224, mean: OPENAI_MEAN, std: OPENAI_STD, cropRounding: 'round-half-even' },
    tokenizer: { kind: 'wordpiece', lowercase: true, stripAccents: null, contextLength: 256 },
  },
  {
    name: 'open_clip-vit-hf-bert',
    models: ['UniMed-CLIP'],
    description: 'open_clip native ViT (QuickGELU) + Hugging Face BERT text tower under text_encoder.*, [CLS] pooling, MLP projection',
    signature: ['visual.conv1.weight', 'visual.transformer.resblocks.0.attn.in_proj_weight', 'text_encoder.transformer.embeddings.word_embeddings.weight'],
    vision: { kind: 'vit', act: 'quick_gelu', lnEps: 1e-5, headWidth: 64 },
    text: { kind: 'bert', lnEps: 1e-12, headWidth: 64, proj: 'mlp' },
    keys: [...openClipVitRules('visual'), ...hfBertRules('text_encoder.transformer'), ...hfMlpProjRules('text_encoder.proj')],
    ignore: BERT_IGNORE,
    logitScale: { key: 'logit_scale', exp: true },
    preprocessing: { resizeShortestEdge: 224, mean: OPENAI_MEAN, std: OPENAI_STD, cropRounding: 'round-half-even' },
    tokenizer: { kind: 'wordpiece', lowercase: true, stripAccents: null, contextLength: 256 },
  },
  {
    name: 'open_clip-vit-clip-text',
    models: ['OpenAI CLIP ViT-B/16 (open_clip)'],
    description: 'open_clip / OpenAI CLIP: native ViT and causal text transformer, QuickGELU, pooled at the end-of-text token',
    signature: ['visual.conv1.weight', 'visual.proj', 'token_embedding.weight', 'transformer.resblocks.0.attn.in_proj_weight'],
    vision: { kind: 'vit', act: 'quick_gelu', lnEps: 1e-5, headWidth: 64 },
    text: { kind: 'clip-text', act: 'quick_gelu', lnEps: 1e-5, headWidth: 64 },
    keys: [...openClipVitRules('visual'), ...openClipTextRules()],
    ignore: ['^attn_mask$', '^input_resolution$', '^context_length$', '^vocab_size$'],
    logitScale: { key: 'logit_scale', exp: true },
    preprocessing: { resizeShortestEdge: 224, mean: OPENAI_MEAN, std: OPENAI_STD, cropRounding: 'round-half-even' },
    tokenizer: { kind: 'source-tokenizer-json', lowercase: true, stripAccents: null, contextLength: 77 },
  },
  {
    name: 'hf-clip',
    models: ['PubMedCLIP'],
    description: 'Hugging Face CLIPModel (vision_model, text_model, visual_projection, text_projection)',
    signature: ['vision_model.embeddings.patch_embedding.weight', 'text_model.embeddings.token_embedding.weight', 'visual_projection.weight'],
    vision: { kind: 'vit', act: 'quick_gelu', lnEps: 1e-5, headWidth: 64 },
    text: { kind: 'clip-text', act: 'quick_gelu', lnEps: 1e-5, headWidth: 64 },
    keys: hfClipRules(),
    ignore: ['\\.embeddings\\.position_ids$'],
    logitScale: { key: 'logit_scale', exp: true },
    preprocessing: { resizeShortestEdge: 224, mean: OPENAI_MEAN, std: OPENAI_STD, cropRounding: 'floor' },
    tokenizer: { kind: 'source-tokenizer-json', lowercase: true, stripAccents: null, contextLength: 77 },
  },
  {
    name: 'pmc-clip',
    models: ['PMC-CLIP'],
    description: 'PMC-CLIP: ModifiedResNet-50 with a 32-head attention pool; PubMedBERT (no attention mask, padded to 77), [CLS] × text_projection',
    signature: ['visual.attnpool.c_proj.weight', 'visual.layer1.0.conv1.weight', 'text_encoder.embeddings.word_embeddings.weight', 'text_projection'],
    vision: { kind: 'modified-resnet', attnPoolHeads: 32 },
    text: { kind: 'bert', lnEps: 1e-12, headWidth: 64, proj: 'linear', padToContext: true },
    keys: [...modifiedResnetRules('visual'), ...hfBertRules('text_encoder'), { from: ['text_projection'], to: 'text.proj.0.weight', op: 'copy' }],
    // Training-only parts: the fusion transformer and MLM head, unused text-transformer leftovers, BN counters.
    ignore: [...BERT_IGNORE, 'num_batches_tracked$', '^fusion_module\\.', '^mlm_projection$', '^img_special_token$', '^positional_embedding$', '^ln_final\\.'],
    logitScale: { key: 'logit_scale', exp: true },
    preprocessing: { resizeShortestEdge: 224, mean: OPENAI_MEAN, std: OPENAI_STD, cropRounding: 'round-half-even' },
    tokenizer: { kind: 'wordpiece', lowercase: true, stripAccents: null, contextLength: 77 },
  },
];

/** Names of all recipes. */
export function recipeNames(): string[] {
  return RECIPES.map((r) => r.name);
}

/** A recipe by name, or E_RECIPE_UNKNOWN listing the names. */
export function recipeByName(name: string): Recipe {
  const r = RECIPES.find((x) => x.name === name);
  if (!r) throw new ConvertError('E_RECIPE_UNKNOWN', `--recipe ${name}: no such recipe (known: ${recipeNames().join(', ')})`);
  return r;
}

/** The first recipe whose signature keys are all in `dict`, or E_RECIPE_UNKNOWN naming what was seen. */
export function detectRecipe(dict: StateDict, file: string): Recipe {
  const found = RECIPES.find((r) => r.signature.every((k) => dict.has(k)) && !(r.antiSignature ?? []).some((k) => dict.has(k)));
  if (found) return found;
  const sample = [...dict.keys()].slice(0, 6).join(', ');
  throw new ConvertError(
    'E_RECIPE_UNKNOWN',
    `${file}: unknown architecture: the checkpoint's keys (${dict.size}, e.g. ${sample}) match no recipe (${recipeNames().join(', ')}); pass --recipe NAME if it is one of them`,
    { file },
  );
}
