/**
 * Builds a tiny `llava` (image-text-to-text) model folder in the exact layout transformers.js loads:
 * vision_encoder.onnx (pixel_values -> image_features), embed_tokens.onnx (input_ids ->
 * inputs_embeds) and decoder_model_merged.onnx (inputs_embeds, attention_mask, position_ids,
 * past_key_values.* -> logits, present.*), with LlavaProcessor configs and a chat template.
 * llava_reference.py re-implements the maths in PyTorch for token-by-token parity.
 *
 * Vision: Conv patches (+bias) + positions, one pre-LN layer, final LN, then LLaVA's projector
 *   (Linear, GELU, Linear) -> one feature per patch (no class token; num_additional_image_tokens 0).
 * Language model (pre-LN): inputs_embeds + learned position embeddings at position_ids; causal
 *   self-attention over [past; new] with a key padding bias from attention_mask; MLP; final LN; lm_head.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, type WeightStore } from '../../support/onnx/graph.js';
import { DataType, type ModelSpec } from '../../support/onnx/proto.js';
import { buildVocabulary, tokenizerConfigJson, tokenizerJson } from '../../support/onnx/tokenizer.js';
import { attend, gaussian, heads, mlp, perm, writeJson, writeModel } from './ved-builder.js';

/** Everything that fixes the tiny LLaVA. */
export interface LlavaConfig {
  seed: number;
  imageSize: number;
  patchSize: number;
  visionWidth: number;
  textWidth: number;
  textLayers: number;
  textHeads: number;
  maxPositions: number;
}

/** 32-px images, patch 8 (16 image tokens), vision width 32; language model width 32, 2 layers, 2 heads. */
export const TINY_LLAVA: LlavaConfig = {
  seed: 77,
  imageSize: 32,
  patchSize: 8,
  visionWidth: 32,
  textWidth: 32,
  textLayers: 2,
  textHeads: 2,
  maxPositions: 96,
};

/** The vocabulary: the shared test vocabulary plus the image placeholder. */
export function llavaVocabulary(): string[] {
  return [...buildVocabulary(), '<image>'];
}

/** Special ids (test/support/onnx/tokenizer.ts order; `<image>` is last). */
export const LLAVA_TOKENS = { pad: 0, bos: 2, eos: 3, image: llavaVocabulary().length - 1 } as const;

/** The chat template: BOS, the image, then "findings : <text>". */
export const LLAVA_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{% for c in message['content'] %}{% if c['type'] == 'image' %}<image>{% else %} findings : {{ c['text'] }}{% endif %}{% endfor %}{% endfor %}";

function makeWeights(cfg: LlavaConfig, vocabSize: number): WeightStore {
  const store: WeightStore = new Map();
  const add = (name: string, dims: number[], std: number, mean = 0): void => {
    store.set(name, { dims, data: gaussian(cfg.seed, name, dims.reduce((a, b) => a * b, 1), std, mean) });
  };
  const ln = (name: string, width: number): void => {
    add(`${name}.weight`, [width], 0.1, 1);
    add(`${name}.bias`, [width], 0.1);
  };
  const attn = (p: string, width: number): void => {
    for (const m of ['q', 'k', 'v', 'o']) {
      add(`${p}.${m}.weight`, [width, width], 1 / Math.sqrt(width));
      add(`${p}.${m}.bias`, [width], 0.02);
    }
  };
  const ff = (p: string, width: number): void => {
    add(`${p}.fc1.weight`, [width, 4 * width], 1 / Math.sqrt(width));
    add(`${p}.fc1.bias`, [4 * width], 0.02);
    add(`${p}.fc2.weight`, [4 * width, width], 1 / Math.sqrt(4 * width));
    add(`${p}.fc2.bias`, [width], 0.02);
  };
  const W = cfg.visionWidth;
  const D = cfg.textWidth;
  const P = cfg.patchSize;
  add('vis.patch.weight', [W, 3, P, P], 1 / Math.sqrt(3 * P * P));
  add('vis.patch.bias', [W], 0.02);
  add('vis.pos', [1, (cfg.imageSize / P) ** 2, W], 0.5);
  ln('vis.layers.0.ln1', W);
  attn('vis.layers.0.attn', W);
  ln('vis.layers.0.ln2', W);
  ff('vis.layers.0.mlp', W);
  ln('vis.ln_f', W);
  add('proj.fc1.weight', [W, D], 1 / Math.sqrt(W));
  add('proj.fc1.bias', [D], 0.02);
  add('proj.fc2.weight', [D, D], 1 / Math.sqrt(D));
  add('proj.fc2.bias', [D], 0.02);
  add('lm.wte', [vocabSize, D], 0.5);
  add('lm.wpe', [cfg.maxPositions, D], 0.5);
  for (let i = 0; i < cfg.textLayers; i++) {
    ln(`lm.layers.${i}.ln1`, D);
    attn(`lm.layers.${i}.self`, D);
    ln(`lm.layers.${i}.ln2`, D);
    ff(`lm.layers.${i}.mlp`, D);
  }
  ln('lm.ln_f', D);
  add('lm.lm_head', [D, vocabSize], 2 / Math.sqrt(D));
  return store;
}

const f32 = DataType.FLOAT;
const i64 = DataType.INT64;

function visionEncoder(cfg: LlavaConfig, weights: WeightStore): ModelSpec {
  const g = new GraphBuilder(weights, false);
  const W = cfg.visionWidth;
  const conv = g.op1('Conv', ['pixel_values', g.weight('vis.patch.weight'), g.weight('vis.patch.bias')], {
    kernel_shape: { kind: 'ints', value: [cfg.patchSize, cfg.patchSize] },
    strides: { kind: 'ints', value: [cfg.patchSize, cfg.patchSize] },
  });
  let x = g.op1('Add', [g.op1('Transpose', [g.op1('Reshape', [conv, g.int64([0, W, -1])])], perm([0, 2, 1])), g.weight('vis.pos')]);
  const h1 = g.layerNorm(x, 'vis.layers.0.ln1');
  const proj = (m: string): string => heads(g, g.linear(h1, `vis.layers.0.attn.${m}.weight`, `vis.layers.0.attn.${m}.bias`), 2, W / 2);
  x = g.op1('Add', [x, attend(g, proj('q'), proj('k'), proj('v'), 'vis.layers.0.attn', W, 2)]);
  x = g.op1('Add', [x, mlp(g, g.layerNorm(x, 'vis.layers.0.ln2'), 'vis.layers.0.mlp')]);
  const features = mlp(g, g.layerNorm(x, 'vis.ln_f'), 'proj');
  g.op1('Identity', [features], undefined, 'image_features');
  const tokens = (cfg.imageSize / cfg.patchSize) ** 2;
  return g.model(
    'vision_encoder',
    [{ name: 'pixel_values', elemType: f32, shape: ['batch_size', 3, cfg.imageSize, cfg.imageSize] }],
    [{ name: 'image_features', elemType: f32, shape: ['batch_size', tokens, cfg.textWidth] }],
  );
}

function embedTokens(cfg: LlavaConfig, weights: WeightStore): ModelSpec {
  const g = new GraphBuilder(weights, false);
  g.op1('Gather', [g.weight('lm.wte'), 'input_ids'], { axis: { kind: 'int', value: 0 } }, 'inputs_embeds');
  return g.model(
    'embed_tokens',
    [{ name: 'input_ids', elemType: i64, shape: ['batch_size', 'sequence_length'] }],
    [{ name: 'inputs_embeds', elemType: f32, shape: ['batch_size', 'sequence_length', cfg.textWidth] }],
  );
}

function decoder(cfg: LlavaConfig, weights: WeightStore, vocabSize: number): ModelSpec {
  const g = new GraphBuilder(weights, false);
  const D = cfg.textWidth;
  const H = cfg.textHeads;
  const dh = D / H;
  const scalar = (i: number): string => g.int64([i], []);
  const pastLen = g.op1('Gather', [g.op1('Shape', ['past_key_values.0.key']), scalar(2)], { axis: { kind: 'int', value: 0 } });
  const newLen = g.op1('Gather', [g.op1('Shape', ['inputs_embeds']), scalar(1)], { axis: { kind: 'int', value: 0 } });
  const total = g.op1('Add', [pastLen, newLen]);
  const one = g.int64([1], []);
  const queryPos = g.op1('Range', [pastLen, total, one]);
  const keyPos = g.op1('Range', [g.int64([0], []), total, one]);
  const later = g.op1('Greater', [g.op1('Unsqueeze', [keyPos, g.int64([0])]), g.op1('Unsqueeze', [queryPos, g.int64([1])])]);
  const causal = g.op1('Where', [later, g.float([-1e9], []), g.float([0], [])]);
  // key padding: (1 - mask) * -1e9, as [B, 1, 1, T]
  const maskF = g.op1('Cast', ['attention_mask'], { to: { kind: 'int', value: DataType.FLOAT } });
  const padding = g.op1('Unsqueeze', [g.op1('Mul', [g.op1('Sub', [g.float([1], []), maskF]), g.float([-1e9], [])]), g.int64([1, 2])]);
  const bias = g.op1('Add', [causal, padding]);
  let x = g.op1('Add', ['inputs_embeds', g.op1('Gather', [g.weight('lm.wpe'), 'position_ids'], { axis: { kind: 'int', value: 0 } })]);
  const inputs: ModelSpec['inputs'] = [
    { name: 'inputs_embeds', elemType: f32, shape: ['batch_size', 'sequence_length', D] },
    { name: 'attention_mask', elemType: i64, shape: ['batch_size', 'total_sequence_length'] },
    { name: 'position_ids', elemType: i64, shape: ['batch_size', 'sequence_length'] },
  ];
  const outputs: ModelSpec['outputs'] = [{ name: 'logits', elemType: f32, shape: ['batch_size', 'sequence_length', vocabSize] }];
  for (let i = 0; i < cfg.textLayers; i++) {
    const p = `lm.layers.${i}`;
    for (const kv of ['key', 'value']) {
      inputs.push({ name: `past_key_values.${i}.${kv}`, elemType: f32, shape: ['batch_size', H, 'past_sequence_length', dh] });
      outputs.push({ name: `present.${i}.${kv}`, elemType: f32, shape: ['batch_size', H, 'total_sequence_length', dh] });
    }
    const h1 = g.layerNorm(x, `${p}.ln1`);
    const proj = (m: string): string => heads(g, g.linear(h1, `${p}.self.${m}.weight`, `${p}.self.${m}.bias`), H, dh);
    const k = g.op1('Concat', [`past_key_values.${i}.key`, proj('k')], { axis: { kind: 'int', value: 2 } }, `present.${i}.key`);
    const v = g.op1('Concat', [`past_key_values.${i}.value`, proj('v')], { axis: { kind: 'int', value: 2 } }, `present.${i}.value`);
    x = g.op1('Add', [x, attend(g, proj('q'), k, v, `${p}.self`, D, H, bias)]);
    x = g.op1('Add', [x, mlp(g, g.layerNorm(x, `${p}.ln2`), `${p}.mlp`)]);
  }
  g.linear(g.layerNorm(x, 'lm.ln_f'), 'lm.lm_head', undefined, 'logits');
  return g.model('decoder_model_merged', inputs, outputs);
}

/** What the JSON files of a LLaVA folder describe beyond `LlavaConfig`. */
export interface LlavaJsonOptions {
  /** Vocabulary in id order; `<image>` must be in it. */
  vocab: string[];
  /** config.json `text_config` (the language model's shape as transformers.js reads it for its cache). */
  textConfig: Record<string, unknown>;
}

/**
 * Write config.json, generation_config.json, preprocessor/processor configs and the tokenizer files
 * of a LLaVA folder (not the ONNX files): the tiny test model and the benchmark's 0.5B-class graph
 * share them.
 */
export function writeLlavaJson(dir: string, cfg: LlavaConfig, o: LlavaJsonOptions): void {
  const { vocab } = o;
  const imageId = vocab.indexOf('<image>');
  if (imageId < 0) throw new Error('the vocabulary has no <image> token');
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const ids = { bos_token_id: LLAVA_TOKENS.bos, eos_token_id: LLAVA_TOKENS.eos, pad_token_id: LLAVA_TOKENS.pad };
  writeJson(join(dir, 'config.json'), {
    model_type: 'llava',
    architectures: ['LlavaForConditionalGeneration'],
    image_token_index: imageId,
    projector_hidden_act: 'gelu',
    vision_feature_select_strategy: 'full',
    vision_feature_layer: -1,
    ...ids,
    text_config: { ...o.textConfig, vocab_size: vocab.length, ...ids },
    vision_config: { model_type: 'clip_vision_model', hidden_size: cfg.visionWidth, image_size: cfg.imageSize, patch_size: cfg.patchSize, num_hidden_layers: 1, num_attention_heads: 2 },
  });
  writeJson(join(dir, 'generation_config.json'), { ...ids, max_length: cfg.maxPositions });
  writeJson(join(dir, 'preprocessor_config.json'), {
    processor_class: 'LlavaProcessor',
    image_processor_type: 'ViTImageProcessor',
    do_resize: true,
    size: { height: cfg.imageSize, width: cfg.imageSize },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
  });
  writeJson(join(dir, 'processor_config.json'), { processor_class: 'LlavaProcessor', image_token: '<image>', patch_size: cfg.patchSize, num_additional_image_tokens: 0 });
  // tokenizer: the shared WordPiece one, plus <image> as a special token, BOS only (no [SEP] appended)
  const tok = tokenizerJson(vocab) as { added_tokens: object[]; post_processor: Record<string, unknown> };
  tok.added_tokens.push({ id: imageId, content: '<image>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  tok.post_processor = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [LLAVA_TOKENS.bos], tokens: ['[CLS]'] } },
  };
  writeJson(join(dir, 'tokenizer.json'), tok);
  writeJson(join(dir, 'tokenizer_config.json'), {
    ...tokenizerConfigJson('BertTokenizer', cfg.maxPositions),
    bos_token: '[CLS]',
    eos_token: '[SEP]',
    chat_template: LLAVA_CHAT_TEMPLATE,
  });
}

/** Write the folder (skipped when already built from the same configuration). Returns `dir`. */
export function buildLlavaFolder(dir: string, cfg: LlavaConfig = TINY_LLAVA): string {
  const stamp = JSON.stringify({ v: 1, cfg });
  const stampFile = join(dir, '.build-stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return dir;
  const vocab = llavaVocabulary();
  const weights = makeWeights(cfg, vocab.length);
  writeLlavaJson(dir, cfg, {
    vocab,
    textConfig: {
      model_type: 'mistral',
      hidden_size: cfg.textWidth,
      num_hidden_layers: cfg.textLayers,
      num_attention_heads: cfg.textHeads,
      num_key_value_heads: cfg.textHeads,
      head_dim: cfg.textWidth / cfg.textHeads,
      intermediate_size: 4 * cfg.textWidth,
      max_position_embeddings: cfg.maxPositions,
    },
  });
  writeModel(join(dir, 'onnx', 'vision_encoder.onnx'), visionEncoder(cfg, weights));
  writeModel(join(dir, 'onnx', 'embed_tokens.onnx'), embedTokens(cfg, weights));
  writeModel(join(dir, 'onnx', 'decoder_model_merged.onnx'), decoder(cfg, weights, vocab.length));
  writeFileSync(stampFile, stamp);
  return dir;
}
