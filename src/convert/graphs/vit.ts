/**
 * The ViT image tower (timm VisionTransformer, open_clip VisionTransformer, Hugging Face
 * CLIPVisionModel): Conv patches (+ bias), class token, + positions, optional pre-norm, pre-norm
 * layers, LayerNorm of the class token, optional projection. pixel_values → image_embeds
 * (unnormalised; medvlm L2-normalises) + last_hidden_state + patch_embeds: every patch token through
 * the same final LayerNorm and projection as the class token ([batch, grid², embed], unnormalised), the
 * dense features of the DenseEncoder capability (timm applies its final norm to every token; open_clip and
 * Hugging Face CLIP apply ln_post to the class token only, so for them this is the usual MaskCLIP-style
 * reading of the patch tokens without the value-embedding trick).
 *
 * Canonical weights: vision.patch.{weight [W,3,p,p], bias?}, vision.cls [1,1,W], vision.pos [1,T,W],
 * vision.ln_pre?, vision.layers.{i}.*, vision.ln_post, vision.proj.{weight [W,E], bias?}.
 */
import { DataType, type ModelSpec } from '../onnx/proto.js';
import { GraphBuilder, type QuantGranularity } from '../onnx/graph.js';
import { expectShape, layerCount, type MappedWeights } from '../recipes/keymap.js';
import { ConvertError } from '../../core/errors.js';
import { checkLayer, preNormLayer, type Activation } from './blocks.js';
import { PATCH_OUTPUT } from '../../models/transformers-dual-encoder.js';

/** The sizes of a ViT, read from its weights. */
export interface VitDims {
  width: number;
  patch: number;
  imageSize: number;
  tokens: number;
  layers: number;
  heads: number;
  mlp: number;
  embedDim: number;
}

/** Settings the weights cannot tell. */
export interface VitSettings {
  act: Activation;
  lnEps: number;
  headWidth: number;
}

/** Read and check the ViT's sizes from its canonical weights. */
export function vitDims(w: MappedWeights, s: VitSettings): VitDims {
  const [width, channels, patch, patch2] = expectShape(w, 'vision.patch.weight', [-1, 3, -1, -1]);
  if (patch !== patch2) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: key ${w.sources.get('vision.patch.weight')} is not a square patch embedding`, { file: w.file });
  void channels;
  if (w.store.has('vision.patch.bias')) expectShape(w, 'vision.patch.bias', [width]);
  expectShape(w, 'vision.cls', [1, 1, width]);
  const [, tokens] = expectShape(w, 'vision.pos', [1, -1, width]);
  const grid = Math.round(Math.sqrt(tokens - 1));
  if (grid * grid !== tokens - 1) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: key ${w.sources.get('vision.pos')} has ${tokens} positions, not 1 + a square grid`, { file: w.file });
  if (w.store.has('vision.ln_pre.weight')) {
    expectShape(w, 'vision.ln_pre.weight', [width]);
    expectShape(w, 'vision.ln_pre.bias', [width]);
  }
  const layers = layerCount(w, 'vision.layers');
  if (layers === 0) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: the vision tower has no transformer layers`, { file: w.file });
  if (width % s.headWidth !== 0) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: vision width ${width} is not a multiple of the head width ${s.headWidth}`, { file: w.file });
  let mlp = 0;
  for (let i = 0; i < layers; i++) mlp = checkLayer(w, `vision.layers.${i}`, width, ['ln1', 'ln2']);
  expectShape(w, 'vision.ln_post.weight', [width]);
  expectShape(w, 'vision.ln_post.bias', [width]);
  let embedDim = width;
  if (w.store.has('vision.proj.weight')) [, embedDim] = expectShape(w, 'vision.proj.weight', [width, -1]);
  if (w.store.has('vision.proj.bias')) expectShape(w, 'vision.proj.bias', [embedDim]);
  return { width, patch, imageSize: grid * patch, tokens, layers, heads: width / s.headWidth, mlp, embedDim };
}

/** Build vision_model.onnx. */
export function vitVisionModel(w: MappedWeights, s: VitSettings, d: VitDims, quantize: boolean, granularity: QuantGranularity, producer: string): ModelSpec {
  const g = new GraphBuilder(w.store, quantize, granularity, producer);
  const convInputs = ['pixel_values', g.weight('vision.patch.weight')];
  if (w.store.has('vision.patch.bias')) convInputs.push(g.weight('vision.patch.bias'));
  const conv = g.op1('Conv', convInputs, {
    kernel_shape: { kind: 'ints', value: [d.patch, d.patch] },
    strides: { kind: 'ints', value: [d.patch, d.patch] },
  });
  const tokens = g.op1('Transpose', [g.op1('Reshape', [conv, g.int64([0, d.width, -1])])], { perm: { kind: 'ints', value: [0, 2, 1] } });
  const batch = g.op1('Slice', [g.op1('Shape', ['pixel_values']), g.int64([0]), g.int64([1]), g.int64([0])]);
  const clsShape = g.op1('Concat', [batch, g.int64([1, d.width])], { axis: { kind: 'int', value: 0 } });
  const cls = g.op1('Expand', [g.weight('vision.cls'), clsShape]);
  let x = g.op1('Add', [g.op1('Concat', [cls, tokens], { axis: { kind: 'int', value: 1 } }), g.weight('vision.pos')]);
  if (w.store.has('vision.ln_pre.weight')) x = g.layerNorm(x, 'vision.ln_pre', undefined, s.lnEps);
  const settings = { width: d.width, heads: d.heads, act: s.act, lnEps: s.lnEps };
  for (let i = 0; i < d.layers; i++) x = preNormLayer(g, x, `vision.layers.${i}`, settings);
  g.op1('Identity', [x], undefined, 'last_hidden_state');
  const pooled = g.layerNorm(g.op1('Gather', [x, g.int64([0], [])], { axis: { kind: 'int', value: 1 } }), 'vision.ln_post', undefined, s.lnEps);
  const patches = g.layerNorm(g.op1('Slice', [x, g.int64([1]), g.int64([d.tokens]), g.int64([1])]), 'vision.ln_post', undefined, s.lnEps);
  const projBias = w.store.has('vision.proj.bias') ? 'vision.proj.bias' : undefined;
  for (const [input, output] of [[pooled, 'image_embeds'], [patches, PATCH_OUTPUT]] as const) {
    if (w.store.has('vision.proj.weight')) g.linear(input, 'vision.proj.weight', projBias, output);
    else g.op1('Identity', [input], undefined, output);
  }
  return g.model('vision_model', [{ name: 'pixel_values', elemType: DataType.FLOAT, shape: ['batch_size', 3, d.imageSize, d.imageSize] }], [
    { name: 'image_embeds', elemType: DataType.FLOAT, shape: ['batch_size', d.embedDim] },
    { name: 'last_hidden_state', elemType: DataType.FLOAT, shape: ['batch_size', d.tokens, d.width] },
    { name: PATCH_OUTPUT, elemType: DataType.FLOAT, shape: ['batch_size', d.tokens - 1, d.embedDim] },
  ]);
}
