/**
 * The tiny CLIP/SigLIP architecture: weight generation (seeded, deterministic) and the text,
 * vision and joint ONNX graphs. test/support/onnx/reference.py re-implements the same maths in
 * numpy; keep the two in step.
 *
 * Shared transformer layer (pre-LN): h = x + Attn(LN1(x)); y = h + FC2(GeluErf(FC1(LN2(h)))).
 * CLIP vision: Conv patches, CLS token, + positions, pre-LN, layers, CLS -> post-LN -> projection -> L2.
 * CLIP text: token + position embeddings, layers with key padding mask, final LN, token at the last
 *   attention-mask position -> projection -> L2.
 * SigLIP vision: Conv patches + positions, layers, post-LN, mean over tokens -> projection (pooler_output).
 * SigLIP text: input_ids only (no mask, padded to max length), layers, final LN, last position ->
 *   projection (pooler_output). The joint models L2-normalise and compute s*cos (+ b).
 */
import { mulberry32 } from '../../../src/metrics/bootstrap.js';
import { DataType } from './proto.js';
import type { ModelSpec, ValueInfoSpec } from './proto.js';
import { GraphBuilder, type WeightStore } from './graph.js';

/** Everything that fixes a test model's architecture and weights. */
export interface TowerConfig {
  family: 'clip' | 'siglip';
  seed: number;
  imageSize: number;
  patchSize: number;
  visionWidth: number;
  visionLayers: number;
  visionHeads: number;
  textWidth: number;
  textLayers: number;
  textHeads: number;
  /** Longest token sequence (tokenizer model_max_length and position table size). */
  maxTextLength: number;
  vocabSize: number;
  embedDim: number;
  /** log of the logit multiplier (CLIP's logit_scale parameter). */
  logitScaleLog: number;
  /** SigLIP's logit_bias (ignored for CLIP). */
  logitBias: number;
}


function hashName(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Gaussian samples (mean, std) from a PRNG seeded by (seed, name): the same name gives the same tensor. */
function gaussian(seed: number, name: string, n: number, mean: number, std: number): Float32Array {
  const rand = mulberry32(hashName(seed, name));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

function tokenCount(cfg: TowerConfig): number {
  const patches = (cfg.imageSize / cfg.patchSize) ** 2;
  return cfg.family === 'clip' ? patches + 1 : patches;
}

/** Generate every weight of the configuration. */
export function makeWeights(cfg: TowerConfig): WeightStore {
  const store: WeightStore = new Map();
  const add = (name: string, dims: number[], mean: number, std: number): void => {
    store.set(name, { dims, data: gaussian(cfg.seed, name, dims.reduce((a, b) => a * b, 1), mean, std) });
  };
  const layers = (prefix: string, count: number, width: number): void => {
    const mlp = 4 * width;
    for (let i = 0; i < count; i++) {
      const p = `${prefix}.layers.${i}`;
      for (const ln of ['ln1', 'ln2']) {
        add(`${p}.${ln}.weight`, [width], 1, 0.1);
        add(`${p}.${ln}.bias`, [width], 0, 0.1);
      }
      for (const m of ['q', 'k', 'v', 'o']) {
        add(`${p}.attn.${m}.weight`, [width, width], 0, 1 / Math.sqrt(width));
        add(`${p}.attn.${m}.bias`, [width], 0, 0.02);
      }
      add(`${p}.mlp.fc1.weight`, [width, mlp], 0, 1 / Math.sqrt(width));
      add(`${p}.mlp.fc1.bias`, [mlp], 0, 0.02);
      add(`${p}.mlp.fc2.weight`, [mlp, width], 0, 1 / Math.sqrt(mlp));
      add(`${p}.mlp.fc2.bias`, [width], 0, 0.02);
    }
  };
  const p = cfg.patchSize;
  add('vision.patch_embedding', [cfg.visionWidth, 3, p, p], 0, 1 / Math.sqrt(3 * p * p));
  if (cfg.family === 'clip') {
    add('vision.class_embedding', [1, 1, cfg.visionWidth], 0, 0.5);
    add('vision.pre_ln.weight', [cfg.visionWidth], 1, 0.1);
    add('vision.pre_ln.bias', [cfg.visionWidth], 0, 0.1);
  }
  add('vision.position_embedding', [1, tokenCount(cfg), cfg.visionWidth], 0, 0.5);
  layers('vision', cfg.visionLayers, cfg.visionWidth);
  add('vision.post_ln.weight', [cfg.visionWidth], 1, 0.1);
  add('vision.post_ln.bias', [cfg.visionWidth], 0, 0.1);
  add('vision.projection', [cfg.visionWidth, cfg.embedDim], 0, 1 / Math.sqrt(cfg.visionWidth));

  add('text.token_embedding', [cfg.vocabSize, cfg.textWidth], 0, 0.5);
  add('text.position_embedding', [cfg.maxTextLength, cfg.textWidth], 0, 0.5);
  layers('text', cfg.textLayers, cfg.textWidth);
  add('text.final_ln.weight', [cfg.textWidth], 1, 0.1);
  add('text.final_ln.bias', [cfg.textWidth], 0, 0.1);
  add('text.projection', [cfg.textWidth, cfg.embedDim], 0, 1 / Math.sqrt(cfg.textWidth));

  store.set('logit_scale', { dims: [], data: Float32Array.of(cfg.logitScaleLog) });
  store.set('logit_bias', { dims: [], data: Float32Array.of(cfg.family === 'siglip' ? cfg.logitBias : 0) });
  return store;
}

function gelu(g: GraphBuilder, x: string): string {
  const scaled = g.op1('Mul', [x, g.float([Math.SQRT1_2], [])]);
  const erf = g.op1('Erf', [scaled]);
  const onePlus = g.op1('Add', [erf, g.float([1], [])]);
  const half = g.op1('Mul', [x, g.float([0.5], [])]);
  return g.op1('Mul', [half, onePlus]);
}

function attention(g: GraphBuilder, x: string, prefix: string, width: number, heads: number, maskBias?: string): string {
  const dh = width / heads;
  const split = g.int64([0, 0, heads, dh]);
  const proj = (m: string): string => g.linear(x, `${prefix}.attn.${m}.weight`, `${prefix}.attn.${m}.bias`);
  const q = g.op1('Transpose', [g.op1('Reshape', [proj('q'), split])], { perm: { kind: 'ints', value: [0, 2, 1, 3] } });
  const k = g.op1('Transpose', [g.op1('Reshape', [proj('k'), split])], { perm: { kind: 'ints', value: [0, 2, 3, 1] } });
  const v = g.op1('Transpose', [g.op1('Reshape', [proj('v'), split])], { perm: { kind: 'ints', value: [0, 2, 1, 3] } });
  let scores = g.op1('Mul', [g.op1('MatMul', [q, k]), g.float([1 / Math.sqrt(dh)], [])]);
  if (maskBias) scores = g.op1('Add', [scores, maskBias]);
  const probs = g.op1('Softmax', [scores], { axis: { kind: 'int', value: -1 } });
  const ctx = g.op1('Transpose', [g.op1('MatMul', [probs, v])], { perm: { kind: 'ints', value: [0, 2, 1, 3] } });
  const merged = g.op1('Reshape', [ctx, g.int64([0, 0, width])]);
  return g.linear(merged, `${prefix}.attn.o.weight`, `${prefix}.attn.o.bias`);
}

function encoderLayers(g: GraphBuilder, x: string, prefix: string, count: number, width: number, heads: number, maskBias?: string): string {
  let h = x;
  for (let i = 0; i < count; i++) {
    const p = `${prefix}.layers.${i}`;
    h = g.op1('Add', [h, attention(g, g.layerNorm(h, `${p}.ln1`), p, width, heads, maskBias)]);
    const fc1 = g.linear(g.layerNorm(h, `${p}.ln2`), `${p}.mlp.fc1.weight`, `${p}.mlp.fc1.bias`);
    h = g.op1('Add', [h, g.linear(gelu(g, fc1), `${p}.mlp.fc2.weight`, `${p}.mlp.fc2.bias`)]);
  }
  return h;
}

/** Vision tower; returns the names of the (unnormalised) pooled projection and the hidden state. */
function visionTower(g: GraphBuilder, cfg: TowerConfig, pixels: string, hiddenName: string): { pooled: string; hidden: string } {
  const p = cfg.patchSize;
  const conv = g.op1('Conv', [pixels, g.weight('vision.patch_embedding')], {
    kernel_shape: { kind: 'ints', value: [p, p] },
    strides: { kind: 'ints', value: [p, p] },
  });
  const flat = g.op1('Reshape', [conv, g.int64([0, cfg.visionWidth, -1])]);
  let tokens = g.op1('Transpose', [flat], { perm: { kind: 'ints', value: [0, 2, 1] } });
  if (cfg.family === 'clip') {
    const batch = g.op1('Slice', [g.op1('Shape', [pixels]), g.int64([0]), g.int64([1]), g.int64([0])]);
    const clsShape = g.op1('Concat', [batch, g.int64([1, cfg.visionWidth])], { axis: { kind: 'int', value: 0 } });
    const cls = g.op1('Expand', [g.weight('vision.class_embedding'), clsShape]);
    tokens = g.op1('Concat', [cls, tokens], { axis: { kind: 'int', value: 1 } });
  }
  let x = g.op1('Add', [tokens, g.weight('vision.position_embedding')]);
  if (cfg.family === 'clip') x = g.layerNorm(x, 'vision.pre_ln');
  const h = encoderLayers(g, x, 'vision', cfg.visionLayers, cfg.visionWidth, cfg.visionHeads);
  let pooled: string;
  let hidden: string;
  if (cfg.family === 'clip') {
    hidden = g.op1('Identity', [h], undefined, hiddenName);
    const cls = g.op1('Gather', [h, g.int64([0], [])], { axis: { kind: 'int', value: 1 } });
    pooled = g.layerNorm(cls, 'vision.post_ln');
  } else {
    hidden = g.layerNorm(h, 'vision.post_ln', hiddenName);
    pooled = g.op1('ReduceMean', [hidden], { axes: { kind: 'ints', value: [1] }, keepdims: { kind: 'int', value: 0 } });
  }
  return { pooled: g.linear(pooled, 'vision.projection'), hidden };
}

/** Text tower; returns the names of the (unnormalised) pooled projection and the hidden state. */
function textTower(g: GraphBuilder, cfg: TowerConfig, ids: string, mask: string | undefined, hiddenName: string): { pooled: string; hidden: string } {
  const tok = g.op1('Gather', [g.weight('text.token_embedding'), ids], { axis: { kind: 'int', value: 0 } });
  const seqLen = g.op1('Slice', [g.op1('Shape', [ids]), g.int64([1]), g.int64([2]), g.int64([0])]);
  const pos = g.op1('Slice', [g.weight('text.position_embedding'), g.int64([0]), seqLen, g.int64([0])]);
  const x = g.op1('Add', [tok, pos]);
  let maskBias: string | undefined;
  if (mask) {
    const maskF = g.op1('Cast', [mask], { to: { kind: 'int', value: DataType.FLOAT } });
    const inverted = g.op1('Sub', [g.float([1], []), maskF]);
    const bias = g.op1('Mul', [inverted, g.float([-1e4], [])]);
    maskBias = g.op1('Unsqueeze', [bias, g.int64([1, 2])]);
  }
  const h = encoderLayers(g, x, 'text', cfg.textLayers, cfg.textWidth, cfg.textHeads, maskBias);
  const hidden = g.layerNorm(h, 'text.final_ln', hiddenName);
  let pooled: string;
  if (mask) {
    const count = g.op1('ReduceSum', [mask, g.int64([1])], { keepdims: { kind: 'int', value: 1 } });
    const last = g.op1('Sub', [count, g.int64([1], [])]);
    pooled = g.op1('GatherND', [hidden, last], { batch_dims: { kind: 'int', value: 1 } });
  } else {
    pooled = g.op1('Gather', [hidden, g.int64([-1], [])], { axis: { kind: 'int', value: 1 } });
  }
  return { pooled: g.linear(pooled, 'text.projection'), hidden };
}

const f32 = DataType.FLOAT;
const i64 = DataType.INT64;

function textInputs(cfg: TowerConfig, batch: string): ValueInfoSpec[] {
  const inputs: ValueInfoSpec[] = [{ name: 'input_ids', elemType: i64, shape: [batch, 'sequence_length'] }];
  if (cfg.family === 'clip') inputs.push({ name: 'attention_mask', elemType: i64, shape: [batch, 'sequence_length'] });
  return inputs;
}

function pixelInput(cfg: TowerConfig, batch: string): ValueInfoSpec {
  return { name: 'pixel_values', elemType: f32, shape: [batch, 3, cfg.imageSize, cfg.imageSize] };
}

/** The text-only model: CLIP → text_embeds (L2) + last_hidden_state; SigLIP → pooler_output + last_hidden_state. */
export function textModel(cfg: TowerConfig, weights: WeightStore, quantize: boolean): ModelSpec {
  const g = new GraphBuilder(weights, quantize);
  const { pooled } = textTower(g, cfg, 'input_ids', cfg.family === 'clip' ? 'attention_mask' : undefined, 'last_hidden_state');
  const embedName = cfg.family === 'clip' ? 'text_embeds' : 'pooler_output';
  if (cfg.family === 'clip') g.l2Normalize(pooled, embedName);
  else g.op1('Identity', [pooled], undefined, embedName);
  return g.model('text_model', textInputs(cfg, 'batch_size'), [
    { name: embedName, elemType: f32, shape: ['batch_size', cfg.embedDim] },
    { name: 'last_hidden_state', elemType: f32, shape: ['batch_size', 'sequence_length', cfg.textWidth] },
  ]);
}

/** The vision-only model: CLIP → image_embeds (L2) + last_hidden_state; SigLIP → pooler_output + last_hidden_state. */
export function visionModel(cfg: TowerConfig, weights: WeightStore, quantize: boolean): ModelSpec {
  const g = new GraphBuilder(weights, quantize);
  const { pooled } = visionTower(g, cfg, 'pixel_values', 'last_hidden_state');
  const embedName = cfg.family === 'clip' ? 'image_embeds' : 'pooler_output';
  if (cfg.family === 'clip') g.l2Normalize(pooled, embedName);
  else g.op1('Identity', [pooled], undefined, embedName);
  const tokens = tokenCount(cfg);
  return g.model('vision_model', [pixelInput(cfg, 'batch_size')], [
    { name: embedName, elemType: f32, shape: ['batch_size', cfg.embedDim] },
    { name: 'last_hidden_state', elemType: f32, shape: ['batch_size', tokens, cfg.visionWidth] },
  ]);
}

/** The joint model: logits_per_image [I,T], logits_per_text [T,I], text_embeds, image_embeds (both L2). */
export function jointModel(cfg: TowerConfig, weights: WeightStore, quantize: boolean): ModelSpec {
  const g = new GraphBuilder(weights, quantize);
  const text = textTower(g, cfg, 'input_ids', cfg.family === 'clip' ? 'attention_mask' : undefined, 'text_last_hidden_state');
  const vision = visionTower(g, cfg, 'pixel_values', 'vision_last_hidden_state');
  const textEmbeds = g.l2Normalize(text.pooled, 'text_embeds');
  const imageEmbeds = g.l2Normalize(vision.pooled, 'image_embeds');
  const cos = g.op1('MatMul', [textEmbeds, g.op1('Transpose', [imageEmbeds], { perm: { kind: 'ints', value: [1, 0] } })]);
  const scaled = g.op1('Mul', [cos, g.op1('Exp', [g.weight('logit_scale')])]);
  const logitsPerText = g.op1('Add', [scaled, g.weight('logit_bias')], undefined, 'logits_per_text');
  g.op1('Transpose', [logitsPerText], { perm: { kind: 'ints', value: [1, 0] } }, 'logits_per_image');
  return g.model('model', [...textInputs(cfg, 'text_batch_size'), pixelInput(cfg, 'image_batch_size')], [
    { name: 'logits_per_image', elemType: f32, shape: ['image_batch_size', 'text_batch_size'] },
    { name: 'logits_per_text', elemType: f32, shape: ['text_batch_size', 'image_batch_size'] },
    { name: 'text_embeds', elemType: f32, shape: ['text_batch_size', cfg.embedDim] },
    { name: 'image_embeds', elemType: f32, shape: ['image_batch_size', cfg.embedDim] },
  ]);
}
