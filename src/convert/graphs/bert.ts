/**
 * The BERT text tower (Hugging Face BertModel without pooler, as open_clip's HFTextEncoder and
 * PMC-CLIP use it): word + position + token-type-0 embeddings, LayerNorm, post-norm layers with
 * a key-padding mask, the [CLS] (first) token, then a projection: `mlp` (Linear → GELU → Linear,
 * no biases) or `linear` (a [H, E] matrix). input_ids, attention_mask → text_embeds
 * (unnormalised) + last_hidden_state.
 *
 * Canonical weights: text.tok [V,H], text.pos [P,H], text.type [1,H], text.ln_emb,
 * text.layers.{i}.{qkv,o,ln_attn,fc1,fc2,ln_out}, text.proj.0.weight (+ text.proj.1.weight for mlp).
 */
import { DataType, type ModelSpec } from '../onnx/proto.js';
import { GraphBuilder, type QuantGranularity } from '../onnx/graph.js';
import { expectShape, layerCount, type MappedWeights } from '../recipes/keymap.js';
import { ConvertError } from '../../core/errors.js';
import { checkLayer, forceEndToken, gelu, paddingMaskBias, postNormLayer } from './blocks.js';

/** The sizes of a BERT tower, read from its weights. */
export interface BertDims {
  vocab: number;
  width: number;
  positions: number;
  layers: number;
  heads: number;
  mlp: number;
  embedDim: number;
}

/** Settings the weights cannot tell. */
export interface BertSettings {
  lnEps: number;
  headWidth: number;
  proj: 'mlp' | 'linear';
  /** [SEP] id: put back at the last mask position when a tokenizer truncated it away (see forceEndToken). */
  endTokenId?: number;
  /**
   * PMC-CLIP: the upstream model pads every text to the context length with [PAD] and runs BERT
   * without an attention mask (padding is attended to). The graph pads to `length` itself.
   */
  padToContext?: { length: number; padId: number };
}

/** Read and check the BERT tower's sizes. */
export function bertDims(w: MappedWeights, s: BertSettings): BertDims {
  const [vocab, width] = expectShape(w, 'text.tok', [-1, -1]);
  const [positions] = expectShape(w, 'text.pos', [-1, width]);
  expectShape(w, 'text.type', [1, width]);
  expectShape(w, 'text.ln_emb.weight', [width]);
  expectShape(w, 'text.ln_emb.bias', [width]);
  const layers = layerCount(w, 'text.layers');
  if (layers === 0) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: the text tower has no transformer layers`, { file: w.file });
  if (width % s.headWidth !== 0) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: text width ${width} is not a multiple of the head width ${s.headWidth}`, { file: w.file });
  let mlp = 0;
  for (let i = 0; i < layers; i++) mlp = checkLayer(w, `text.layers.${i}`, width, ['ln_attn', 'ln_out']);
  let embedDim: number;
  if (s.proj === 'mlp') {
    const [, hidden] = expectShape(w, 'text.proj.0.weight', [width, -1]);
    [, embedDim] = expectShape(w, 'text.proj.1.weight', [hidden, -1]);
  } else {
    [, embedDim] = expectShape(w, 'text.proj.0.weight', [width, -1]);
  }
  return { vocab, width, positions, layers, heads: width / s.headWidth, mlp, embedDim };
}

/** Build text_model.onnx. */
export function bertTextModel(w: MappedWeights, s: BertSettings, d: BertDims, quantize: boolean, granularity: QuantGranularity, producer: string): ModelSpec {
  const g = new GraphBuilder(w.store, quantize, granularity, producer);
  let ids = s.endTokenId === undefined ? 'input_ids' : forceEndToken(g, 'input_ids', 'attention_mask', s.endTokenId);
  if (s.padToContext) {
    const { length, padId } = s.padToContext;
    const masked = g.op1('Where', [g.op1('Cast', ['attention_mask'], { to: { kind: 'int', value: DataType.BOOL } }), ids, g.int64([padId], [])]);
    const len = g.op1('Slice', [g.op1('Shape', [masked]), g.int64([1]), g.int64([2]), g.int64([0])]);
    const pads = g.op1('Concat', [g.int64([0, 0, 0]), g.op1('Sub', [g.int64([length]), len])], { axis: { kind: 'int', value: 0 } });
    ids = g.op1('Pad', [masked, pads, g.int64([padId], [])], { mode: { kind: 'string', value: 'constant' } });
  }
  const tok = g.op1('Gather', [g.weight('text.tok'), ids], { axis: { kind: 'int', value: 0 } });
  const seqLen = g.op1('Slice', [g.op1('Shape', [ids]), g.int64([1]), g.int64([2]), g.int64([0])]);
  const pos = g.op1('Slice', [g.weight('text.pos'), g.int64([0]), seqLen, g.int64([0])]);
  const emb = g.op1('Add', [g.op1('Add', [tok, pos]), g.weight('text.type')]);
  let x = g.layerNorm(emb, 'text.ln_emb', undefined, s.lnEps);
  const mask = s.padToContext ? undefined : paddingMaskBias(g, 'attention_mask');
  const settings = { width: d.width, heads: d.heads, act: 'gelu' as const, lnEps: s.lnEps };
  for (let i = 0; i < d.layers; i++) x = postNormLayer(g, x, `text.layers.${i}`, settings, mask);
  if (s.padToContext) g.op1('Slice', [x, g.int64([0]), g.op1('Slice', [g.op1('Shape', ['input_ids']), g.int64([1]), g.int64([2]), g.int64([0])]), g.int64([1])], undefined, 'last_hidden_state');
  else g.op1('Identity', [x], undefined, 'last_hidden_state');
  const cls = g.op1('Gather', [x, g.int64([0], [])], { axis: { kind: 'int', value: 1 } });
  if (s.proj === 'mlp') g.linear(gelu(g, g.linear(cls, 'text.proj.0.weight')), 'text.proj.1.weight', undefined, 'text_embeds');
  else g.linear(cls, 'text.proj.0.weight', undefined, 'text_embeds');
  const i64 = DataType.INT64;
  return g.model('text_model', [
    { name: 'input_ids', elemType: i64, shape: ['batch_size', 'sequence_length'] },
    { name: 'attention_mask', elemType: i64, shape: ['batch_size', 'sequence_length'] },
  ], [
    { name: 'text_embeds', elemType: DataType.FLOAT, shape: ['batch_size', d.embedDim] },
    { name: 'last_hidden_state', elemType: DataType.FLOAT, shape: ['batch_size', 'sequence_length', d.width] },
  ]);
}
