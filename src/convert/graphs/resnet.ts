/**
 * CLIP's ModifiedResNet image tower (PMC-CLIP, OpenAI CLIP RN50): a 3-convolution stem with
 * average pooling, Bottleneck stages whose strided blocks average-pool before conv3 and in the
 * downsample path, and a multi-head attention pool whose query is the spatial mean token.
 * BatchNorm (inference statistics) is folded into the preceding convolution when the graph is built.
 *
 * Canonical weights: vision.stem.{1,2,3}.{conv.weight, bn.*}, vision.layer{1..4}.{i}.{conv1,conv2,conv3,bn1,bn2,bn3},
 * vision.layer{s}.{i}.downsample.{0.weight, 1.*}, vision.attnpool.{pos [T,C], qkv.{weight [C,3C], bias}, o.{weight [C,E], bias}}.
 */
import { DataType, type ModelSpec } from '../onnx/proto.js';
import { GraphBuilder, type QuantGranularity, type WeightStore } from '../onnx/graph.js';
import { expectShape, layerCount, type MappedWeights } from '../recipes/keymap.js';
import { ConvertError } from '../../core/errors.js';

/** Sizes of a ModifiedResNet, read from its weights. */
export interface ResnetDims {
  width: number;
  blocks: [number, number, number, number];
  imageSize: number;
  embedDim: number;
  heads: number;
}

const BN_EPS = 1e-5;

/** Read and check the tower's sizes; `heads` is the attention pool's head count (not in the weights). */
export function resnetDims(w: MappedWeights, heads: number): ResnetDims {
  const [half] = expectShape(w, 'vision.stem.1.conv.weight', [-1, 3, 3, 3]);
  const width = 2 * half;
  expectShape(w, 'vision.stem.3.conv.weight', [width, half, 3, 3]);
  const blocks = [1, 2, 3, 4].map((s) => layerCount(w, `vision.layer${s}`)) as ResnetDims['blocks'];
  if (blocks.some((b) => b === 0)) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: a ResNet stage has no blocks (found ${blocks.join(', ')})`, { file: w.file });
  const channels = width * 32;
  const [tokens] = expectShape(w, 'vision.attnpool.pos', [-1, channels]);
  const grid = Math.round(Math.sqrt(tokens - 1));
  if (grid * grid + 1 !== tokens) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: key ${w.sources.get('vision.attnpool.pos')} has ${tokens} rows, not 1 + a square grid`, { file: w.file });
  expectShape(w, 'vision.attnpool.qkv.weight', [channels, 3 * channels]);
  const [, embedDim] = expectShape(w, 'vision.attnpool.o.weight', [channels, -1]);
  if (channels % heads !== 0) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: ${channels} attention-pool channels do not split into ${heads} heads`, { file: w.file });
  return { width, blocks, imageSize: grid * 32, embedDim, heads };
}

/** Fold BatchNorm `bn` into conv weight `conv` as `${out}.weight` / `${out}.bias` in the store. */
function foldBn(w: MappedWeights, store: WeightStore, conv: string, bn: string, out: string): void {
  const cw = w.store.get(conv);
  if (!cw) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: missing key for ${conv}`, { file: w.file });
  const c = cw.dims[0];
  for (const p of ['weight', 'bias', 'running_mean', 'running_var']) expectShape(w, `${bn}.${p}`, [c]);
  const [gamma, beta, mean, variance] = ['weight', 'bias', 'running_mean', 'running_var'].map((p) => w.store.get(`${bn}.${p}`)!.data);
  const per = cw.data.length / c;
  const weight = new Float32Array(cw.data.length);
  const bias = new Float32Array(c);
  for (let o = 0; o < c; o++) {
    const s = gamma[o] / Math.sqrt(variance[o] + BN_EPS);
    for (let k = 0; k < per; k++) weight[o * per + k] = cw.data[o * per + k] * s;
    bias[o] = beta[o] - mean[o] * s;
  }
  store.set(`${out}.weight`, { dims: cw.dims, data: weight });
  store.set(`${out}.bias`, { dims: [c], data: bias });
}

/** Build vision_model.onnx. */
export function resnetVisionModel(w: MappedWeights, d: ResnetDims, quantize: boolean, granularity: QuantGranularity, producer: string): ModelSpec {
  const store: WeightStore = new Map(w.store);
  const g = new GraphBuilder(store, quantize, granularity, producer);
  const conv = (x: string, name: string, kernel: number, stride = 1): string => {
    const pad = (kernel - 1) / 2;
    return g.op1('Conv', [x, g.weight(`${name}.weight`), g.weight(`${name}.bias`)], {
      kernel_shape: { kind: 'ints', value: [kernel, kernel] },
      strides: { kind: 'ints', value: [stride, stride] },
      pads: { kind: 'ints', value: [pad, pad, pad, pad] },
    });
  };
  const relu = (x: string): string => g.op1('Relu', [x]);
  const avgPool = (x: string, k: number): string =>
    g.op1('AveragePool', [x], { kernel_shape: { kind: 'ints', value: [k, k] }, strides: { kind: 'ints', value: [k, k] } });

  for (const i of [1, 2, 3]) foldBn(w, store, `vision.stem.${i}.conv.weight`, `vision.stem.${i}.bn`, `fused.stem.${i}`);
  let x = relu(conv('pixel_values', 'fused.stem.1', 3, 2));
  x = relu(conv(x, 'fused.stem.2', 3));
  x = avgPool(relu(conv(x, 'fused.stem.3', 3)), 2);
  for (let s = 1; s <= 4; s++) {
    for (let b = 0; b < d.blocks[s - 1]; b++) {
      const p = `vision.layer${s}.${b}`;
      const f = `fused.layer${s}.${b}`;
      const stride = s > 1 && b === 0 ? 2 : 1;
      for (const k of [1, 2, 3]) foldBn(w, store, `${p}.conv${k}.weight`, `${p}.bn${k}`, `${f}.conv${k}`);
      let out = relu(conv(x, `${f}.conv1`, 1));
      out = relu(conv(out, `${f}.conv2`, 3));
      if (stride > 1) out = avgPool(out, stride);
      out = conv(out, `${f}.conv3`, 1);
      let identity = x;
      if (w.store.has(`${p}.downsample.0.weight`)) {
        foldBn(w, store, `${p}.downsample.0.weight`, `${p}.downsample.1`, `${f}.down`);
        identity = conv(stride > 1 ? avgPool(x, stride) : x, `${f}.down`, 1);
      }
      x = relu(g.op1('Add', [out, identity]));
    }
  }
  g.op1('Identity', [x], undefined, 'last_hidden_state');
  // Attention pool: tokens = [mean, spatial...] + pos; the query is token 0 only.
  const c = d.width * 32;
  const tokens = g.op1('Transpose', [g.op1('Reshape', [x, g.int64([0, c, -1])])], { perm: { kind: 'ints', value: [0, 2, 1] } });
  const mean = g.op1('ReduceMean', [tokens], { axes: { kind: 'ints', value: [1] }, keepdims: { kind: 'int', value: 1 } });
  const seq = g.op1('Add', [g.op1('Concat', [mean, tokens], { axis: { kind: 'int', value: 1 } }), g.weight('vision.attnpool.pos')]);
  const dh = c / d.heads;
  const qkv = g.linear(seq, 'vision.attnpool.qkv.weight', 'vision.attnpool.qkv.bias');
  const split = g.op1('Transpose', [g.op1('Reshape', [qkv, g.int64([0, 0, 3, d.heads, dh])])], { perm: { kind: 'ints', value: [2, 0, 3, 1, 4] } });
  const part = (i: number): string => g.op1('Gather', [split, g.int64([i], [])], { axis: { kind: 'int', value: 0 } });
  const q0 = g.op1('Slice', [part(0), g.int64([0]), g.int64([1]), g.int64([2])]);
  const q = g.op1('Mul', [q0, g.float([1 / Math.sqrt(dh)], [])]);
  const k = g.op1('Transpose', [part(1)], { perm: { kind: 'ints', value: [0, 1, 3, 2] } });
  const probs = g.op1('Softmax', [g.op1('MatMul', [q, k])], { axis: { kind: 'int', value: -1 } });
  const ctx = g.op1('Reshape', [g.op1('Transpose', [g.op1('MatMul', [probs, part(2)])], { perm: { kind: 'ints', value: [0, 2, 1, 3] } }), g.int64([0, c])]);
  g.linear(ctx, 'vision.attnpool.o.weight', 'vision.attnpool.o.bias', 'image_embeds');
  return g.model('vision_model', [{ name: 'pixel_values', elemType: DataType.FLOAT, shape: ['batch_size', 3, d.imageSize, d.imageSize] }], [
    { name: 'image_embeds', elemType: DataType.FLOAT, shape: ['batch_size', d.embedDim] },
    { name: 'last_hidden_state', elemType: DataType.FLOAT, shape: ['batch_size', c, d.imageSize / 32, d.imageSize / 32] },
  ]);
}
