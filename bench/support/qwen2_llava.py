#!/usr/bin/python3
"""ONNX graphs of a LLaVA-layout model with a Qwen2-0.5B-shaped language model and seeded random
weights, for the generation benchmark (never committed; written into a folder under /tmp).

Writes, into FOLDER/onnx (the JSON files come from the TypeScript side, bench/generate.ts):
  vision_encoder.onnx        pixel_values [B,3,S,S] -> image_features [B,(S/P)^2,D]: a small tower
                             (Conv patch embedding + learned positions, LLaVA's Linear-GELU-Linear
                             projector), not a full CLIP/SigLIP;
  embed_tokens.onnx          input_ids -> inputs_embeds (Gather from the token embedding);
  decoder_model_merged.onnx  inputs_embeds, attention_mask, position_ids, past_key_values.{i}.key/value
                             -> logits, present.{i}.key/value: Qwen2 blocks (RMSNorm, q/k/v with bias,
                             rotary embeddings at position_ids, grouped-query attention, SwiGLU MLP),
                             final RMSNorm, lm_head = the token embedding transposed (tied weights,
                             stored again in this file as exporters do). Weights over 1.8 GB go to
                             external data (decoder_model_merged.onnx_data beside it).
Standard opset-17 ops only, as torch exports them; q4 comes afterwards from scripts/quantize-q4.py.
Weights are seeded pseudo-random (a seeded pool of 8M normals, read from seeded offsets).

Usage: qwen2_llava.py FOLDER CONFIG_JSON   (CONFIG_JSON: hidden, layers, heads, kv_heads, intermediate,
       vocab, max_positions, rope_theta, image_size, patch_size, vision_width, seed; optional
       external_data_bytes: the decoder size above which its weights go to external data)
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

EXTERNAL_DATA_BYTES = 1_800_000_000


POOL_SIZE = 1 << 23  # 8M seeded normals


def seeded_normals(rng, pool, shape, std, mean=0.0):
    """Seeded pseudo-random weights of any size, cheaply: the seeded pool of normals from a seeded
    offset, repeated (the speed of a graph does not depend on the values; drawing 494M fresh normals
    costs minutes of CPU on a shared machine)."""
    size = int(np.prod(shape))
    start = int(rng.integers(0, len(pool)))
    out = np.resize(np.roll(pool, -start), size).reshape(shape)
    out *= np.float32(std)
    if mean:
        out += np.float32(mean)
    return out


class Graph:
    def __init__(self, rng, pool=None):
        self.rng = rng
        self.pool = pool
        self.nodes = []
        self.inits = []
        self.n = 0

    def weight(self, name, shape, std, mean=0.0):
        self.inits.append(numpy_helper.from_array(seeded_normals(self.rng, self.pool, shape, std, mean), name))
        return name

    def const(self, values, dtype=np.int64, name=None):
        self.n += 1
        name = name or f'c{self.n}'
        self.inits.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), name))
        return name

    def op(self, op_type, inputs, out=None, **attrs):
        self.n += 1
        out = out or f'{op_type.lower()}_{self.n}'
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f'n{self.n}_{op_type}', **attrs))
        return out

    def ops(self, op_type, inputs, count, **attrs):
        self.n += 1
        outs = [f'{op_type.lower()}_{self.n}_{i}' for i in range(count)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=f'n{self.n}_{op_type}', **attrs))
        return outs

    def linear(self, x, name, k, n, bias):
        y = self.op('MatMul', [x, self.weight(f'{name}.weight', (k, n), 0.02)])
        return self.op('Add', [y, self.weight(f'{name}.bias', (n,), 0.02)]) if bias else y

    def rms_norm(self, x, name, width, eps=1e-6):
        var = self.op('ReduceMean', [self.op('Mul', [x, x])], axes=[-1], keepdims=1)
        inv = self.op('Reciprocal', [self.op('Sqrt', [self.op('Add', [var, self.const([eps], np.float32)])])])
        return self.op('Mul', [self.op('Mul', [x, inv]), self.weight(f'{name}.weight', (width,), 0.02, 1.0)])

    def model(self, name, inputs, outputs, path, external=False):
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid('', 17)], producer_name='medvlm bench qwen2_llava.py')
        model.ir_version = 8
        if os.path.exists(path):
            os.remove(path)
        data = os.path.basename(path) + '_data'
        if os.path.exists(os.path.join(os.path.dirname(path), data)):
            os.remove(os.path.join(os.path.dirname(path), data))
        if external:
            onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data, size_threshold=1024)
        else:
            onnx.save_model(model, path)


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def vision_encoder(cfg, rng, pool, path):
    g = Graph(rng, pool)
    s, p, w, d = cfg['image_size'], cfg['patch_size'], cfg['vision_width'], cfg['hidden']
    tokens = (s // p) ** 2
    conv = g.op('Conv', ['pixel_values', g.weight('vis.patch.weight', (w, 3, p, p), 0.02), g.weight('vis.patch.bias', (w,), 0.02)], kernel_shape=[p, p], strides=[p, p])
    x = g.op('Transpose', [g.op('Reshape', [conv, g.const([0, w, -1])])], perm=[0, 2, 1])
    x = g.op('Add', [x, g.weight('vis.pos', (1, tokens, w), 0.02)])
    h = g.linear(x, 'proj.fc1', w, d, True)
    gelu = g.op('Mul', [g.op('Mul', [h, g.const([0.5], np.float32)]), g.op('Add', [g.const([1.0], np.float32), g.op('Erf', [g.op('Mul', [h, g.const([1 / np.sqrt(2)], np.float32)])])])])
    y = g.linear(gelu, 'proj.fc2', d, d, True)
    g.op('Identity', [y], 'image_features')
    g.model('vision_encoder', [vi('pixel_values', TensorProto.FLOAT, ['batch_size', 3, s, s])], [vi('image_features', TensorProto.FLOAT, ['batch_size', tokens, d])], path)


def embed_tokens(cfg, embedding, path):
    g = Graph(None)
    g.inits.append(numpy_helper.from_array(embedding, 'embed_tokens.weight'))
    g.op('Gather', ['embed_tokens.weight', 'input_ids'], 'inputs_embeds', axis=0)
    g.model('embed_tokens', [vi('input_ids', TensorProto.INT64, ['batch_size', 'sequence_length'])], [vi('inputs_embeds', TensorProto.FLOAT, ['batch_size', 'sequence_length', cfg['hidden']])], path)


def rope_tables(cfg):
    hd = cfg['hidden'] // cfg['heads']
    inv = 1.0 / (cfg['rope_theta'] ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    freqs = np.outer(np.arange(cfg['max_positions'], dtype=np.float64), inv)
    emb = np.concatenate([freqs, freqs], axis=1)
    return np.cos(emb).astype(np.float32), np.sin(emb).astype(np.float32)


def decoder(cfg, rng, pool, embedding, path):
    g = Graph(rng, pool)
    d, hcount, kv, inter, vocab = cfg['hidden'], cfg['heads'], cfg['kv_heads'], cfg['intermediate'], cfg['vocab']
    hd = d // hcount
    groups = hcount // kv
    cos_t, sin_t = rope_tables(cfg)
    g.inits.append(numpy_helper.from_array(cos_t, 'rope.cos'))
    g.inits.append(numpy_helper.from_array(sin_t, 'rope.sin'))
    cos = g.op('Unsqueeze', [g.op('Gather', ['rope.cos', 'position_ids'], axis=0), g.const([1])])  # [B,1,S,hd]
    sin = g.op('Unsqueeze', [g.op('Gather', ['rope.sin', 'position_ids'], axis=0), g.const([1])])
    # attention bias [B,1,1,S,T]: causal over [past; new] plus key padding from attention_mask
    past_len = g.op('Gather', [g.op('Shape', ['past_key_values.0.key']), g.const(2)], axis=0)
    new_len = g.op('Gather', [g.op('Shape', ['inputs_embeds']), g.const(1)], axis=0)
    total = g.op('Add', [past_len, new_len])
    q_pos = g.op('Range', [past_len, total, g.const(1)])
    k_pos = g.op('Range', [g.const(0), total, g.const(1)])
    later = g.op('Greater', [g.op('Unsqueeze', [k_pos, g.const([0])]), g.op('Unsqueeze', [q_pos, g.const([1])])])
    causal = g.op('Where', [later, g.const(-1e9, np.float32), g.const(0.0, np.float32)])
    mask_f = g.op('Cast', ['attention_mask'], to=TensorProto.FLOAT)
    padding = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [g.const(1.0, np.float32), mask_f]), g.const(-1e9, np.float32)]), g.const([1, 2, 3])])
    bias = g.op('Add', [causal, padding])
    scale = g.const(1 / np.sqrt(hd), np.float32)

    def rotate(x):
        x1, x2 = g.ops('Split', [x], 2, axis=-1)
        rot = g.op('Concat', [g.op('Neg', [x2]), x1], axis=-1)
        return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rot, sin])])

    def heads(x, n):  # [B,S,n*hd] -> [B,n,S,hd]
        return g.op('Transpose', [g.op('Reshape', [x, g.const([0, 0, n, hd])])], perm=[0, 2, 1, 3])

    inputs = [
        vi('inputs_embeds', TensorProto.FLOAT, ['batch_size', 'sequence_length', d]),
        vi('attention_mask', TensorProto.INT64, ['batch_size', 'total_sequence_length']),
        vi('position_ids', TensorProto.INT64, ['batch_size', 'sequence_length']),
    ]
    outputs = [vi('logits', TensorProto.FLOAT, ['batch_size', 'sequence_length', vocab])]
    x = 'inputs_embeds'
    for i in range(cfg['layers']):
        p = f'model.layers.{i}'
        for kind in ('key', 'value'):
            inputs.append(vi(f'past_key_values.{i}.{kind}', TensorProto.FLOAT, ['batch_size', kv, 'past_sequence_length', hd]))
            outputs.append(vi(f'present.{i}.{kind}', TensorProto.FLOAT, ['batch_size', kv, 'total_sequence_length', hd]))
        h = g.rms_norm(x, f'{p}.input_layernorm', d)
        q = rotate(heads(g.linear(h, f'{p}.self_attn.q_proj', d, d, True), hcount))
        k = rotate(heads(g.linear(h, f'{p}.self_attn.k_proj', d, kv * hd, True), kv))
        v = heads(g.linear(h, f'{p}.self_attn.v_proj', d, kv * hd, True), kv)
        k_all = g.op('Concat', [f'past_key_values.{i}.key', k], f'present.{i}.key', axis=2)
        v_all = g.op('Concat', [f'past_key_values.{i}.value', v], f'present.{i}.value', axis=2)
        # grouped-query attention: query head h reads key/value head h // groups
        q5 = g.op('Reshape', [q, g.const([0, kv, groups, -1, hd])])
        k5t = g.op('Transpose', [g.op('Unsqueeze', [k_all, g.const([2])])], perm=[0, 1, 2, 4, 3])
        v5 = g.op('Unsqueeze', [v_all, g.const([2])])
        scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q5, k5t]), scale]), bias])
        ctx = g.op('MatMul', [g.op('Softmax', [scores], axis=-1), v5])
        ctx = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [ctx, g.const([0, hcount, -1, hd])])], perm=[0, 2, 1, 3]), g.const([0, 0, d])])
        x = g.op('Add', [x, g.linear(ctx, f'{p}.self_attn.o_proj', d, d, False)])
        h = g.rms_norm(x, f'{p}.post_attention_layernorm', d)
        gate = g.linear(h, f'{p}.mlp.gate_proj', d, inter, False)
        up = g.linear(h, f'{p}.mlp.up_proj', d, inter, False)
        act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up])
        x = g.op('Add', [x, g.linear(act, f'{p}.mlp.down_proj', inter, d, False)])
    h = g.rms_norm(x, 'model.norm', d)
    g.inits.append(numpy_helper.from_array(np.ascontiguousarray(embedding.T), 'lm_head.weight'))
    g.op('MatMul', [h, 'lm_head.weight'], 'logits')
    size = sum(t.ByteSize() for t in g.inits)
    g.model('decoder_model_merged', inputs, outputs, path, external=size > cfg.get('external_data_bytes', EXTERNAL_DATA_BYTES))
    return size


def main():
    folder, cfg = sys.argv[1], json.loads(sys.argv[2])
    onnx_dir = os.path.join(folder, 'onnx')
    os.makedirs(onnx_dir, exist_ok=True)
    rng = np.random.default_rng(cfg['seed'])
    pool = rng.standard_normal(POOL_SIZE, dtype=np.float32)
    embedding = seeded_normals(rng, pool, (cfg['vocab'], cfg['hidden']), 0.02)
    vision_encoder(cfg, rng, pool, os.path.join(onnx_dir, 'vision_encoder.onnx'))
    embed_tokens(cfg, embedding, os.path.join(onnx_dir, 'embed_tokens.onnx'))
    size = decoder(cfg, rng, pool, embedding, os.path.join(onnx_dir, 'decoder_model_merged.onnx'))
    params = size // 4
    print(json.dumps({'folder': folder, 'decoder_bytes': size, 'decoder_params': params}))


if __name__ == '__main__':
    main()
