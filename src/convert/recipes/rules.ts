/**
 * Key-rule tables of the tower layouts the field's checkpoints use, parameterised by the key
 * prefix under which a model keeps the tower. Each returns plain data (KeyRule[]).
 */
import type { KeyRule } from './types.js';

const r = (from: string | string[], to: string, op: KeyRule['op'] = 'copy', optional = false): KeyRule => ({
  from: Array.isArray(from) ? from : [from],
  to,
  op,
  ...(optional ? { optional } : {}),
});

/** LayerNorm weight and bias. */
function norm(from: string, to: string): KeyRule[] {
  return [r(`${from}.weight`, `${to}.weight`), r(`${from}.bias`, `${to}.bias`)];
}

/** A torch Linear (weight transposed to [in, out], bias copied). */
function linear(from: string, to: string, bias = true): KeyRule[] {
  return [r(`${from}.weight`, `${to}.weight`, 'T'), ...(bias ? [r(`${from}.bias`, `${to}.bias`)] : [])];
}

/** timm VisionTransformer (vit_base_patch16_224 & co.) under `p` (e.g. `visual.trunk`). */
export function timmVitRules(p: string): KeyRule[] {
  const b = `${p}.blocks.{i}`;
  const l = 'vision.layers.{i}';
  return [
    r(`${p}.patch_embed.proj.weight`, 'vision.patch.weight'),
    r(`${p}.patch_embed.proj.bias`, 'vision.patch.bias', 'copy', true),
    r(`${p}.cls_token`, 'vision.cls', 'as3d'),
    r(`${p}.pos_embed`, 'vision.pos', 'as3d'),
    ...norm(`${b}.norm1`, `${l}.ln1`),
    r(`${b}.attn.qkv.weight`, `${l}.qkv.weight`, 'qkvT'),
    r(`${b}.attn.qkv.bias`, `${l}.qkv.bias`),
    ...linear(`${b}.attn.proj`, `${l}.o`),
    ...norm(`${b}.norm2`, `${l}.ln2`),
    ...linear(`${b}.mlp.fc1`, `${l}.fc1`),
    ...linear(`${b}.mlp.fc2`, `${l}.fc2`),
    ...norm(`${p}.norm`, 'vision.ln_post'),
  ];
}

/** open_clip's own VisionTransformer (and OpenAI CLIP's) under `p` (e.g. `visual`). */
export function openClipVitRules(p: string): KeyRule[] {
  const b = `${p}.transformer.resblocks.{i}`;
  const l = 'vision.layers.{i}';
  return [
    r(`${p}.conv1.weight`, 'vision.patch.weight'),
    r(`${p}.class_embedding`, 'vision.cls', 'as3d'),
    r(`${p}.positional_embedding`, 'vision.pos', 'as3d'),
    ...norm(`${p}.ln_pre`, 'vision.ln_pre'),
    ...residualBlockRules(b, l),
    ...norm(`${p}.ln_post`, 'vision.ln_post'),
    r(`${p}.proj`, 'vision.proj.weight'),
  ];
}

/** open_clip / OpenAI CLIP ResidualAttentionBlock (nn.MultiheadAttention in_proj + out_proj, c_fc/c_proj). */
function residualBlockRules(b: string, l: string): KeyRule[] {
  return [
    ...norm(`${b}.ln_1`, `${l}.ln1`),
    r(`${b}.attn.in_proj_weight`, `${l}.qkv.weight`, 'qkvT'),
    r(`${b}.attn.in_proj_bias`, `${l}.qkv.bias`),
    ...linear(`${b}.attn.out_proj`, `${l}.o`),
    ...norm(`${b}.ln_2`, `${l}.ln2`),
    ...linear(`${b}.mlp.c_fc`, `${l}.fc1`),
    ...linear(`${b}.mlp.c_proj`, `${l}.fc2`),
  ];
}

/** open_clip / OpenAI CLIP text transformer at the model's top level (token_embedding, transformer, ln_final). */
export function openClipTextRules(): KeyRule[] {
  return [
    r('token_embedding.weight', 'text.tok'),
    r('positional_embedding', 'text.pos'),
    ...residualBlockRules('transformer.resblocks.{i}', 'text.layers.{i}'),
    ...norm('ln_final', 'text.ln_final'),
    r('text_projection', 'text.proj.0.weight'),
  ];
}

/** Hugging Face BertModel under `p` (e.g. `text.transformer`). */
export function hfBertRules(p: string): KeyRule[] {
  const b = `${p}.encoder.layer.{i}`;
  const l = 'text.layers.{i}';
  const qkv = ['query', 'key', 'value'].map((m) => `${b}.attention.self.${m}`);
  return [
    r(`${p}.embeddings.word_embeddings.weight`, 'text.tok'),
    r(`${p}.embeddings.position_embeddings.weight`, 'text.pos'),
    r(`${p}.embeddings.token_type_embeddings.weight`, 'text.type', 'row0'),
    ...norm(`${p}.embeddings.LayerNorm`, 'text.ln_emb'),
    r(qkv.map((m) => `${m}.weight`), `${l}.qkv.weight`, 'concatT'),
    r(qkv.map((m) => `${m}.bias`), `${l}.qkv.bias`, 'concat'),
    ...linear(`${b}.attention.output.dense`, `${l}.o`),
    ...norm(`${b}.attention.output.LayerNorm`, `${l}.ln_attn`),
    ...linear(`${b}.intermediate.dense`, `${l}.fc1`),
    ...linear(`${b}.output.dense`, `${l}.fc2`),
    ...norm(`${b}.output.LayerNorm`, `${l}.ln_out`),
  ];
}

/** open_clip's MLP projection after a Hugging Face text tower: proj.0 (Linear), GELU, proj.2 (Linear), no biases. */
export function hfMlpProjRules(p: string): KeyRule[] {
  return [r(`${p}.0.weight`, 'text.proj.0.weight', 'T'), r(`${p}.2.weight`, 'text.proj.1.weight', 'T')];
}

/** Hugging Face CLIPModel (vision_model, text_model, visual_projection, text_projection). */
export function hfClipRules(): KeyRule[] {
  const v = 'vision_model';
  const t = 'text_model';
  const layer = (b: string, l: string): KeyRule[] => {
    const qkv = ['q_proj', 'k_proj', 'v_proj'].map((m) => `${b}.self_attn.${m}`);
    return [
      ...norm(`${b}.layer_norm1`, `${l}.ln1`),
      r(qkv.map((m) => `${m}.weight`), `${l}.qkv.weight`, 'concatT'),
      r(qkv.map((m) => `${m}.bias`), `${l}.qkv.bias`, 'concat'),
      ...linear(`${b}.self_attn.out_proj`, `${l}.o`),
      ...norm(`${b}.layer_norm2`, `${l}.ln2`),
      ...linear(`${b}.mlp.fc1`, `${l}.fc1`),
      ...linear(`${b}.mlp.fc2`, `${l}.fc2`),
    ];
  };
  return [
    r(`${v}.embeddings.patch_embedding.weight`, 'vision.patch.weight'),
    r(`${v}.embeddings.class_embedding`, 'vision.cls', 'as3d'),
    r(`${v}.embeddings.position_embedding.weight`, 'vision.pos', 'as3d'),
    ...norm(`${v}.pre_layrnorm`, 'vision.ln_pre'),
    ...layer(`${v}.encoder.layers.{i}`, 'vision.layers.{i}'),
    ...norm(`${v}.post_layernorm`, 'vision.ln_post'),
    r('visual_projection.weight', 'vision.proj.weight', 'T'),
    r(`${t}.embeddings.token_embedding.weight`, 'text.tok'),
    r(`${t}.embeddings.position_embedding.weight`, 'text.pos'),
    ...layer(`${t}.encoder.layers.{i}`, 'text.layers.{i}'),
    ...norm(`${t}.final_layer_norm`, 'text.ln_final'),
    r('text_projection.weight', 'text.proj.0.weight', 'T'),
  ];
}

/** BatchNorm2d parameters and running statistics. */
function bn(from: string, to: string, optional = false): KeyRule[] {
  return ['weight', 'bias', 'running_mean', 'running_var'].map((p) => r(`${from}.${p}`, `${to}.${p}`, 'copy', optional));
}

/** CLIP's ModifiedResNet (PMC-CLIP, OpenAI RN50) under `p` (e.g. `visual`). */
export function modifiedResnetRules(p: string): KeyRule[] {
  const stem = [1, 2, 3].flatMap((i) => [r(`${p}.conv${i}.weight`, `vision.stem.${i}.conv.weight`), ...bn(`${p}.bn${i}`, `vision.stem.${i}.bn`)]);
  const stages = [1, 2, 3, 4].flatMap((s) => {
    const b = `${p}.layer${s}.{i}`;
    const l = `vision.layer${s}.{i}`;
    return [
      ...[1, 2, 3].flatMap((k) => [r(`${b}.conv${k}.weight`, `${l}.conv${k}.weight`), ...bn(`${b}.bn${k}`, `${l}.bn${k}`)]),
      r(`${b}.downsample.0.weight`, `${l}.downsample.0.weight`, 'copy', true),
      ...bn(`${b}.downsample.1`, `${l}.downsample.1`, true),
    ];
  });
  const qkv = ['q_proj', 'k_proj', 'v_proj'].map((m) => `${p}.attnpool.${m}`);
  return [
    ...stem,
    ...stages,
    r(`${p}.attnpool.positional_embedding`, 'vision.attnpool.pos'),
    r(qkv.map((m) => `${m}.weight`), 'vision.attnpool.qkv.weight', 'concatT'),
    r(qkv.map((m) => `${m}.bias`), 'vision.attnpool.qkv.bias', 'concat'),
    ...linear(`${p}.attnpool.c_proj`, 'vision.attnpool.o'),
  ];
}
