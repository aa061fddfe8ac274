/**
 * Transformer building blocks shared by the converter's tower graphs: activations, fused-qkv
 * multi-head attention with an optional additive mask, and pre-/post-norm layers. Canonical
 * weight names per layer `P`: P.ln1, P.ln2 (pre-norm) or P.ln_attn, P.ln_out (post-norm),
 * P.qkv.{weight [W, 3W], bias [3W]}, P.o, P.fc1, P.fc2 (weights [in, out]).
 */
import type { GraphBuilder } from '../onnx/graph.js';
import { expectShape, type MappedWeights } from '../recipes/keymap.js';

/** MLP activations. */
export type Activation = 'gelu' | 'quick_gelu';

/** Exact GELU: x · ½ · (1 + erf(x / √2)). */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op1('Erf', [g.op1('Div', [x, g.float([Math.SQRT2], [])])]);
  return g.op1('Mul', [g.op1('Mul', [x, g.op1('Add', [erf, g.float([1], [])])]), g.float([0.5], [])]);
}

/** QuickGELU (OpenAI CLIP): x · sigmoid(1.702 · x). */
export function quickGelu(g: GraphBuilder, x: string): string {
  return g.op1('Mul', [x, g.op1('Sigmoid', [g.op1('Mul', [x, g.float([1.702], [])])])]);
}

/** Apply an activation. */
export function activate(g: GraphBuilder, x: string, act: Activation): string {
  return act === 'gelu' ? gelu(g, x) : quickGelu(g, x);
}

/** Check the shapes of one transformer layer's weights; returns the MLP width. */
export function checkLayer(w: MappedWeights, p: string, width: number, norms: [string, string]): number {
  for (const n of norms) {
    expectShape(w, `${p}.${n}.weight`, [width]);
    expectShape(w, `${p}.${n}.bias`, [width]);
  }
  expectShape(w, `${p}.qkv.weight`, [width, 3 * width]);
  expectShape(w, `${p}.qkv.bias`, [3 * width]);
  expectShape(w, `${p}.o.weight`, [width, width]);
  expectShape(w, `${p}.o.bias`, [width]);
  const [, mlp] = expectShape(w, `${p}.fc1.weight`, [width, -1]);
  expectShape(w, `${p}.fc1.bias`, [mlp]);
  expectShape(w, `${p}.fc2.weight`, [mlp, width]);
  expectShape(w, `${p}.fc2.bias`, [width]);
  return mlp;
}

/** Multi-head self-attention with a fused qkv projection; `maskBias` is added to the scores. */
export function attention(g: GraphBuilder, x: string, p: string, width: number, heads: number, maskBias?: string): string {
  const dh = width / heads;
  const qkv = g.linear(x, `${p}.qkv.weight`, `${p}.qkv.bias`);
  const split = g.op1('Transpose', [g.op1('Reshape', [qkv, g.int64([0, 0, 3, heads, dh])])], { perm: { kind: 'ints', value: [2, 0, 3, 1, 4] } });
  const part = (i: number): string => g.op1('Gather', [split, g.int64([i], [])], { axis: { kind: 'int', value: 0 } });
  const q = g.op1('Mul', [part(0), g.float([1 / Math.sqrt(dh)], [])]);
  const k = g.op1('Transpose', [part(1)], { perm: { kind: 'ints', value: [0, 1, 3, 2] } });
  let scores = g.op1('MatMul', [q, k]);
  if (maskBias) scores = g.op1('Add', [scores, maskBias]);
  const probs = g.op1('Softmax', [scores], { axis: { kind: 'int', value: -1 } });
  const ctx = g.op1('Transpose', [g.op1('MatMul', [probs, part(2)])], { perm: { kind: 'ints', value: [0, 2, 1, 3] } });
  return g.linear(g.op1('Reshape', [ctx, g.int64([0, 0, width])]), `${p}.o.weight`, `${p}.o.bias`);
}

/** Settings of a stack of layers. */
export interface LayerSettings {
  width: number;
  heads: number;
  act: Activation;
  lnEps: number;
}

/** Pre-norm layer (ViT, CLIP): h = x + Attn(LN1(x)); y = h + FC2(act(FC1(LN2(h)))). */
export function preNormLayer(g: GraphBuilder, x: string, p: string, s: LayerSettings, maskBias?: string): string {
  const h = g.op1('Add', [x, attention(g, g.layerNorm(x, `${p}.ln1`, undefined, s.lnEps), p, s.width, s.heads, maskBias)]);
  const fc1 = g.linear(g.layerNorm(h, `${p}.ln2`, undefined, s.lnEps), `${p}.fc1.weight`, `${p}.fc1.bias`);
  return g.op1('Add', [h, g.linear(activate(g, fc1, s.act), `${p}.fc2.weight`, `${p}.fc2.bias`)]);
}

/** Post-norm layer (BERT): h = LN(x + Attn(x)); y = LN(h + FC2(act(FC1(h)))). */
export function postNormLayer(g: GraphBuilder, x: string, p: string, s: LayerSettings, maskBias?: string): string {
  const h = g.layerNorm(g.op1('Add', [x, attention(g, x, p, s.width, s.heads, maskBias)]), `${p}.ln_attn`, undefined, s.lnEps);
  const fc1 = g.linear(h, `${p}.fc1.weight`, `${p}.fc1.bias`);
  return g.layerNorm(g.op1('Add', [h, g.linear(activate(g, fc1, s.act), `${p}.fc2.weight`, `${p}.fc2.bias`)]), `${p}.ln_out`, undefined, s.lnEps);
}

/** Additive key-padding mask [B, 1, 1, L] from attention_mask [B, L] (0 where kept, -1e4·… where padded). */
export function paddingMaskBias(g: GraphBuilder, mask: string): string {
  const maskF = g.op1('Cast', [mask], { to: { kind: 'int', value: 1 } });
  const bias = g.op1('Mul', [g.op1('Sub', [g.float([1], []), maskF]), g.float([-1e9], [])]);
  return g.op1('Unsqueeze', [bias, g.int64([1, 2])]);
}

/**
 * input_ids with the token at the last attention-mask position replaced by `endId`. Upstream
 * tokenizers (Hugging Face, open_clip) keep the end token ([SEP], <|endoftext|>) when they
 * truncate; transformers.js' truncation cuts it off. A no-op for sequences that were not truncated.
 */
export function forceEndToken(g: GraphBuilder, ids: string, mask: string, endId: number): string {
  const count = g.op1('ReduceSum', [mask, g.int64([1])], { keepdims: { kind: 'int', value: 1 } });
  const last = g.op1('Sub', [count, g.int64([1], [])]);
  const len = g.op1('Squeeze', [g.op1('Slice', [g.op1('Shape', [ids]), g.int64([1]), g.int64([2]), g.int64([0])]), g.int64([0])]);
  const positions = g.op1('Unsqueeze', [g.op1('Range', [g.int64([0], []), len, g.int64([1], [])]), g.int64([0])]);
  const isLast = g.op1('Equal', [positions, last]);
  return g.op1('Where', [isLast, g.int64([endId], []), ids]);
}
