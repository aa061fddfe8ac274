/**
 * CLIP's causal text transformer (OpenAI CLIP / open_clip / Hugging Face CLIPTextModel): token +
 * position embeddings, pre-norm layers with a causal and a key-padding mask, final LayerNorm, the
 * token at the last attention-mask position (the end-of-text token; pooling there rather than at
 * argmax(input_ids) keeps working when a tokenizer's ids differ), projection.
 *
 * Canonical weights: text.tok [V,H], text.pos [P,H], text.layers.{i}.*, text.ln_final,
 * text.proj.0.weight [H,E].
 */
import { DataType, type ModelSpec } from '../onnx/proto.js';
import { GraphBuilder, type QuantGranularity } from '../onnx/graph.js';
import { expectShape, layerCount, type MappedWeights } from '../recipes/keymap.js';
import { ConvertError } from '../../core/errors.js';
import { checkLayer, forceEndToken, paddingMaskBias, preNormLayer, type Activation } from './blocks.js';

/** Sizes of a CLIP text tower, read from its weights. */
export interface ClipTextDims {
  vocab: number;
  width: number;
  positions: number;
  layers: number;
  heads: number;
  embedDim: number;
}

/** Settings the weights cannot tell. */
export interface ClipTextSettings {
  act: Activation;
  lnEps: number;
  headWidth: number;
  /** End-of-text id: put back at the last mask position when a tokenizer truncated it away (see forceEndToken). */
  endTokenId?: number;
}

/** Read and check the tower's sizes. */
export function clipTextDims(w: MappedWeights, s: ClipTextSettings): ClipTextDims {
  const [vocab, width] = expectShape(w, 'text.tok', [-1, -1]);
  const [positions] = expectShape(w, 'text.pos', [-1, width]);
  const layers = layerCount(w, 'text.layers');
  if (layers === 0) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: the text tower has no transformer layers`, { file: w.file });
  if (width % s.headWidth !== 0) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: text width ${width} is not a multiple of the head width ${s.headWidth}`, { file: w.file });
  for (let i = 0; i < layers; i++) checkLayer(w, `text.layers.${i}`, width, ['ln1', 'ln2']);
  expectShape(w, 'text.ln_final.weight', [width]);
  expectShape(w, 'text.ln_final.bias', [width]);
  const [, embedDim] = expectShape(w, 'text.proj.0.weight', [width, -1]);
  return { vocab, width, positions, layers, heads: width / s.headWidth, embedDim };
}

/** Build text_model.onnx. */
export function clipTextModel(w: MappedWeights, s: ClipTextSettings, d: ClipTextDims, quantize: boolean, granularity: QuantGranularity, producer: string): ModelSpec {
  const g = new GraphBuilder(w.store, quantize, granularity, producer);
  const ids = s.endTokenId === undefined ? 'input_ids' : forceEndToken(g, 'input_ids', 'attention_mask', s.endTokenId);
  const tok = g.op1('Gather', [g.weight('text.tok'), ids], { axis: { kind: 'int', value: 0 } });
  const seqLen = g.op1('Slice', [g.op1('Shape', ['input_ids']), g.int64([1]), g.int64([2]), g.int64([0])]);
  const pos = g.op1('Slice', [g.weight('text.pos'), g.int64([0]), seqLen, g.int64([0])]);
  let x = g.op1('Add', [tok, pos]);
  // Causal mask: -1e9 above the diagonal of a [P, P] table, sliced to [L, L].
  const causal = new Array<number>(d.positions * d.positions);
  for (let r = 0; r < d.positions; r++) for (let c = 0; c < d.positions; c++) causal[r * d.positions + c] = c > r ? -1e9 : 0;
  const table = g.float(causal, [d.positions, d.positions]);
  const zeros = g.int64([0, 0]);
  const ends = g.op1('Concat', [seqLen, seqLen], { axis: { kind: 'int', value: 0 } });
  const causalL = g.op1('Slice', [table, zeros, ends, g.int64([0, 1])]);
  const mask = g.op1('Add', [paddingMaskBias(g, 'attention_mask'), causalL]);
  const settings = { width: d.width, heads: d.heads, act: s.act, lnEps: s.lnEps };
  for (let i = 0; i < d.layers; i++) x = preNormLayer(g, x, `text.layers.${i}`, settings, mask);
  const hidden = g.layerNorm(x, 'text.ln_final', 'last_hidden_state', s.lnEps);
  const count = g.op1('ReduceSum', ['attention_mask', g.int64([1])], { keepdims: { kind: 'int', value: 1 } });
  const last = g.op1('Sub', [count, g.int64([1], [])]);
  const pooled = g.op1('GatherND', [hidden, last], { batch_dims: { kind: 'int', value: 1 } });
  g.linear(pooled, 'text.proj.0.weight', undefined, 'text_embeds');
  const i64 = DataType.INT64;
  return g.model('text_model', [
    { name: 'input_ids', elemType: i64, shape: ['batch_size', 'sequence_length'] },
    { name: 'attention_mask', elemType: i64, shape: ['batch_size', 'sequence_length'] },
  ], [
    { name: 'text_embeds', elemType: DataType.FLOAT, shape: ['batch_size', d.embedDim] },
    { name: 'last_hidden_state', elemType: DataType.FLOAT, shape: ['batch_size', 'sequence_length', d.width] },
  ]);
}
