/**
 * Builds a tiny `vision-encoder-decoder` model folder in the exact layout transformers.js loads
 * (encoder_model.onnx + decoder_model_merged.onnx with GPT-2-style past key values), from seeded
 * random weights, with the ONNX writer in test/support/onnx. ved_reference.py re-implements the
 * maths in PyTorch (reading the weights from the ONNX initializers) for token-by-token parity.
 *
 * Encoder (ViT-like): Conv patches (+bias) + positions, pre-LN layers, final LN -> last_hidden_state.
 * Decoder (GPT-2-like, pre-LN): token + position embeddings (positions continue after the cache),
 *   per layer: causal self-attention over [past; new] keys/values (present.* = concatenation),
 *   cross-attention to encoder_hidden_states, MLP with erf GELU; final LN; untied lm_head.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../../src/metrics/bootstrap.js';
import { GraphBuilder, type WeightStore } from '../../support/onnx/graph.js';
import { DataType, encodeModel, type DataTypeId, type ModelSpec } from '../../support/onnx/proto.js';
import { buildVocabulary, tokenizerConfigJson, tokenizerJson } from '../../support/onnx/tokenizer.js';

/** Everything that fixes the tiny generator. */
export interface VedConfig {
  seed: number;
  imageSize: number;
  patchSize: number;
  encoderWidth: number;
  encoderLayers: number;
  encoderHeads: number;
  decoderWidth: number;
  decoderLayers: number;
  decoderHeads: number;
  maxPositions: number;
}

/** 32-px images, patch 8 (16 tokens), width 32; decoder width 32, 2 layers, 2 heads. */
export const TINY_VED: VedConfig = {
  seed: 2024,
  imageSize: 32,
  patchSize: 8,
  encoderWidth: 32,
  encoderLayers: 1,
  encoderHeads: 2,
  decoderWidth: 32,
  decoderLayers: 2,
  decoderHeads: 2,
  maxPositions: 64,
};

/** Special token ids of the test vocabulary (test/support/onnx/tokenizer.ts). */
export const VED_TOKENS = { pad: 0, unk: 1, start: 2, eos: 3 } as const;

/** Gaussian samples from a PRNG seeded by (seed, name): the same name always gives the same tensor. */
export function gaussian(seed: number, name: string, n: number, std: number, mean = 0): Float32Array {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const rand = mulberry32(h);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const t = 2 * Math.PI * rand();
    out[i] = mean + std * r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(t);
  }
  return out;
}

function makeWeights(cfg: VedConfig, vocabSize: number): WeightStore {
  const store: WeightStore = new Map();
  const add = (name: string, dims: number[], std: number, mean = 0): void => {
    store.set(name, { dims, data: gaussian(cfg.seed, name, dims.reduce((a, b) => a * b, 1), std, mean) });
  };
  const ln = (name: string, width: number): void => {
    add(`${name}.weight`, [width], 0.1, 1);
    add(`${name}.bias`, [width], 0.1);
  };
  const attn = (p: string, inQ: number, inKv: number, width: number): void => {
    add(`${p}.q.weight`, [inQ, width], 1 / Math.sqrt(inQ));
    add(`${p}.k.weight`, [inKv, width], 1 / Math.sqrt(inKv));
    add(`${p}.v.weight`, [inKv, width], 1 / Math.sqrt(inKv));
    add(`${p}.o.weight`, [width, width], 1 / Math.sqrt(width));
    for (const m of ['q', 'k', 'v', 'o']) add(`${p}.${m}.bias`, [width], 0.02);
  };
  const mlp = (p: string, width: number): void => {
    add(`${p}.fc1.weight`, [width, 4 * width], 1 / Math.sqrt(width));
    add(`${p}.fc1.bias`, [4 * width], 0.02);
    add(`${p}.fc2.weight`, [4 * width, width], 1 / Math.sqrt(4 * width));
    add(`${p}.fc2.bias`, [width], 0.02);
  };
  const W = cfg.encoderWidth;
  const D = cfg.decoderWidth;
  const P = cfg.patchSize;
  const tokens = (cfg.imageSize / P) ** 2;
  add('enc.patch.weight', [W, 3, P, P], 1 / Math.sqrt(3 * P * P));
  add('enc.patch.bias', [W], 0.02);
  add('enc.pos', [1, tokens, W], 0.5);
  for (let i = 0; i < cfg.encoderLayers; i++) {
    ln(`enc.layers.${i}.ln1`, W);
    attn(`enc.layers.${i}.attn`, W, W, W);
    ln(`enc.layers.${i}.ln2`, W);
    mlp(`enc.layers.${i}.mlp`, W);
  }
  ln('enc.ln_f', W);
  add('dec.wte', [vocabSize, D], 0.5);
  add('dec.wpe', [cfg.maxPositions, D], 0.5);
  for (let i = 0; i < cfg.decoderLayers; i++) {
    ln(`dec.layers.${i}.ln1`, D);
    attn(`dec.layers.${i}.self`, D, D, D);
    ln(`dec.layers.${i}.lnx`, D);
    attn(`dec.layers.${i}.cross`, D, W, D);
    ln(`dec.layers.${i}.ln2`, D);
    mlp(`dec.layers.${i}.mlp`, D);
  }
  ln('dec.ln_f', D);
  add('dec.lm_head', [D, vocabSize], 2 / Math.sqrt(D));
  return store;
}

const f32 = DataType.FLOAT;
/** ONNX TensorProto.BOOL (not in the shared writer's short list; the writer stores the number as is). */
const BOOL = 9 as DataTypeId;
const i64 = DataType.INT64;
/** Transpose attribute. */
export const perm = (value: number[]) => ({ perm: { kind: 'ints' as const, value } });

/** GELU (erf form). */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op1('Erf', [g.op1('Mul', [x, g.float([Math.SQRT1_2], [])])]);
  return g.op1('Mul', [g.op1('Mul', [x, g.float([0.5], [])]), g.op1('Add', [erf, g.float([1], [])])]);
}

/** [B,T,width] -> [B,H,T,dh] */
export function heads(g: GraphBuilder, x: string, h: number, dh: number): string {
  return g.op1('Transpose', [g.op1('Reshape', [x, g.int64([0, 0, h, dh])])], perm([0, 2, 1, 3]));
}

/** softmax(q kᵀ/√dh + bias) v, heads merged and projected. */
export function attend(g: GraphBuilder, q: string, k: string, v: string, p: string, width: number, h: number, bias?: string): string {
  const dh = width / h;
  let scores = g.op1('Mul', [g.op1('MatMul', [q, g.op1('Transpose', [k], perm([0, 1, 3, 2]))]), g.float([1 / Math.sqrt(dh)], [])]);
  if (bias) scores = g.op1('Add', [scores, bias]);
  const ctx = g.op1('MatMul', [g.op1('Softmax', [scores], { axis: { kind: 'int', value: -1 } }), v]);
  const merged = g.op1('Reshape', [g.op1('Transpose', [ctx], perm([0, 2, 1, 3])), g.int64([0, 0, width])]);
  return g.linear(merged, `${p}.o.weight`, `${p}.o.bias`);
}

/** fc2(GELU(fc1(x))). */
export function mlp(g: GraphBuilder, x: string, p: string): string {
  return g.linear(gelu(g, g.linear(x, `${p}.fc1.weight`, `${p}.fc1.bias`)), `${p}.fc2.weight`, `${p}.fc2.bias`);
}

function encoderModel(cfg: VedConfig, weights: WeightStore, quantize: boolean): ModelSpec {
  const g = new GraphBuilder(weights, quantize);
  const W = cfg.encoderWidth;
  const H = cfg.encoderHeads;
  const conv = g.op1('Conv', ['pixel_values', g.weight('enc.patch.weight'), g.weight('enc.patch.bias')], {
    kernel_shape: { kind: 'ints', value: [cfg.patchSize, cfg.patchSize] },
    strides: { kind: 'ints', value: [cfg.patchSize, cfg.patchSize] },
  });
  let x = g.op1('Add', [g.op1('Transpose', [g.op1('Reshape', [conv, g.int64([0, W, -1])])], perm([0, 2, 1])), g.weight('enc.pos')]);
  for (let i = 0; i < cfg.encoderLayers; i++) {
    const p = `enc.layers.${i}`;
    const h1 = g.layerNorm(x, `${p}.ln1`);
    const proj = (m: string): string => heads(g, g.linear(h1, `${p}.attn.${m}.weight`, `${p}.attn.${m}.bias`), H, W / H);
    x = g.op1('Add', [x, attend(g, proj('q'), proj('k'), proj('v'), `${p}.attn`, W, H)]);
    x = g.op1('Add', [x, mlp(g, g.layerNorm(x, `${p}.ln2`), `${p}.mlp`)]);
  }
  g.layerNorm(x, 'enc.ln_f', 'last_hidden_state');
  const tokens = (cfg.imageSize / cfg.patchSize) ** 2;
  return g.model(
    'encoder_model',
    [{ name: 'pixel_values', elemType: f32, shape: ['batch_size', 3, cfg.imageSize, cfg.imageSize] }],
    [{ name: 'last_hidden_state', elemType: f32, shape: ['batch_size', tokens, W] }],
  );
}

function decoderModel(cfg: VedConfig, weights: WeightStore, vocabSize: number, quantize: boolean): ModelSpec {
  const g = new GraphBuilder(weights, quantize);
  const D = cfg.decoderWidth;
  const H = cfg.decoderHeads;
  const dh = D / H;
  const scalarIndex = (i: number): string => g.int64([i], []);
  const pastLen = g.op1('Gather', [g.op1('Shape', ['past_key_values.0.key']), scalarIndex(2)], { axis: { kind: 'int', value: 0 } });
  const newLen = g.op1('Gather', [g.op1('Shape', ['input_ids']), scalarIndex(1)], { axis: { kind: 'int', value: 0 } });
  const total = g.op1('Add', [pastLen, newLen]);
  const one = g.int64([1], []);
  const positions = g.op1('Range', [pastLen, total, one]);
  let x = g.op1('Add', [
    g.op1('Gather', [g.weight('dec.wte'), 'input_ids'], { axis: { kind: 'int', value: 0 } }),
    g.op1('Gather', [g.weight('dec.wpe'), positions], { axis: { kind: 'int', value: 0 } }),
  ]);
  // causal bias [S, total]: key position > query position -> -1e9
  const keyPositions = g.op1('Range', [g.int64([0], []), total, one]);
  const later = g.op1('Greater', [g.op1('Unsqueeze', [keyPositions, g.int64([0])]), g.op1('Unsqueeze', [positions, g.int64([1])])]);
  const causal = g.op1('Where', [later, g.float([-1e9], []), g.float([0], [])]);
  const inputs = [
    { name: 'input_ids', elemType: i64, shape: ['batch_size', 'decoder_sequence_length'] },
    { name: 'encoder_hidden_states', elemType: f32, shape: ['batch_size', 'encoder_sequence_length', cfg.encoderWidth] },
    { name: 'use_cache_branch', elemType: BOOL, shape: [1] },
  ] as ModelSpec['inputs'];
  const outputs: ModelSpec['outputs'] = [{ name: 'logits', elemType: f32, shape: ['batch_size', 'decoder_sequence_length', vocabSize] }];
  for (let i = 0; i < cfg.decoderLayers; i++) {
    const p = `dec.layers.${i}`;
    for (const kv of ['key', 'value']) {
      inputs.push({ name: `past_key_values.${i}.${kv}`, elemType: f32, shape: ['batch_size', H, 'past_decoder_sequence_length', dh] });
      outputs.push({ name: `present.${i}.${kv}`, elemType: f32, shape: ['batch_size', H, 'past_decoder_sequence_length + 1', dh] });
    }
    const h1 = g.layerNorm(x, `${p}.ln1`);
    const selfProj = (m: string): string => heads(g, g.linear(h1, `${p}.self.${m}.weight`, `${p}.self.${m}.bias`), H, dh);
    const k = g.op1('Concat', [`past_key_values.${i}.key`, selfProj('k')], { axis: { kind: 'int', value: 2 } }, `present.${i}.key`);
    const v = g.op1('Concat', [`past_key_values.${i}.value`, selfProj('v')], { axis: { kind: 'int', value: 2 } }, `present.${i}.value`);
    x = g.op1('Add', [x, attend(g, selfProj('q'), k, v, `${p}.self`, D, H, causal)]);
    const h2 = g.layerNorm(x, `${p}.lnx`);
    const cq = heads(g, g.linear(h2, `${p}.cross.q.weight`, `${p}.cross.q.bias`), H, dh);
    const crossKv = (m: string): string => heads(g, g.linear('encoder_hidden_states', `${p}.cross.${m}.weight`, `${p}.cross.${m}.bias`), H, dh);
    x = g.op1('Add', [x, attend(g, cq, crossKv('k'), crossKv('v'), `${p}.cross`, D, H)]);
    x = g.op1('Add', [x, mlp(g, g.layerNorm(x, `${p}.ln2`), `${p}.mlp`)]);
  }
  g.linear(g.layerNorm(x, 'dec.ln_f'), 'dec.lm_head', undefined, 'logits');
  return g.model('decoder_model_merged', inputs, outputs);
}

/** Write a model, chunk by chunk. */
export function writeModel(path: string, spec: ModelSpec): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of encodeModel(spec)) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

/** Write pretty JSON with a final newline. */
export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Write the folder (config.json, generation_config.json, preprocessor_config.json, tokenizer files,
 * onnx/{encoder_model,decoder_model_merged}{,_quantized}.onnx). Skips the work when the folder was
 * already built from the same configuration. Returns `dir`.
 */
export function buildVedFolder(dir: string, cfg: VedConfig = TINY_VED): string {
  const stamp = JSON.stringify({ v: 1, cfg });
  const stampFile = join(dir, '.build-stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return dir;
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const vocab = buildVocabulary();
  const weights = makeWeights(cfg, vocab.length);
  const ids = { decoder_start_token_id: VED_TOKENS.start, bos_token_id: VED_TOKENS.start, eos_token_id: VED_TOKENS.eos, pad_token_id: VED_TOKENS.pad };
  writeJson(join(dir, 'config.json'), {
    model_type: 'vision-encoder-decoder',
    architectures: ['VisionEncoderDecoderModel'],
    is_encoder_decoder: true,
    ...ids,
    encoder: {
      model_type: 'vit',
      hidden_size: cfg.encoderWidth,
      num_hidden_layers: cfg.encoderLayers,
      num_attention_heads: cfg.encoderHeads,
      intermediate_size: 4 * cfg.encoderWidth,
      image_size: cfg.imageSize,
      patch_size: cfg.patchSize,
      num_channels: 3,
      layer_norm_eps: 1e-5,
    },
    decoder: {
      model_type: 'gpt2',
      n_embd: cfg.decoderWidth,
      n_layer: cfg.decoderLayers,
      n_head: cfg.decoderHeads,
      n_positions: cfg.maxPositions,
      vocab_size: vocab.length,
      add_cross_attention: true,
      is_decoder: true,
      activation_function: 'gelu',
      layer_norm_epsilon: 1e-5,
      ...ids,
    },
  });
  writeJson(join(dir, 'generation_config.json'), { ...ids, max_length: cfg.maxPositions });
  writeJson(join(dir, 'preprocessor_config.json'), {
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
  writeJson(join(dir, 'tokenizer.json'), tokenizerJson(vocab));
  writeJson(join(dir, 'tokenizer_config.json'), tokenizerConfigJson('BertTokenizer', cfg.maxPositions));
  for (const quantize of [false, true]) {
    const suffix = quantize ? '_quantized' : '';
    writeModel(join(dir, 'onnx', `encoder_model${suffix}.onnx`), encoderModel(cfg, weights, quantize));
    writeModel(join(dir, 'onnx', `decoder_model_merged${suffix}.onnx`), decoderModel(cfg, weights, vocab.length, quantize));
  }
  writeFileSync(stampFile, stamp);
  return dir;
}
