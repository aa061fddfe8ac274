#!/usr/bin/python3
"""Write q4 variants (`*_q4.onnx`) of the fp32 ONNX files of a model folder.

Every MatMul whose weight B is a constant float32 [K, N] matrix (an initializer, or the Transpose of
one, as in a language model head tied to the token embedding) becomes onnxruntime's contrib op
com.microsoft MatMulNBits (bits 4, block_size 32 by default) in the layout its CPU kernel reads:

  B            uint8 [N, n_blocks, block_size / 2]: column n of the weight, K split into blocks of
               block_size values (the last block zero-padded), two 4-bit values per byte, the even
               position in the low nibble;
  scales       float32 [N * n_blocks];
  zero_points  uint8 [N * ceil(n_blocks / 2)], packed the same way (asymmetric mode only; without
               it the kernel uses 8).

Dequantized weight = (q - zero_point) * scale. Asymmetric (default): per block, the range
[min(w, 0), max(w, 0)] maps onto 0..15. Symmetric (--symmetric): scale = max|w| / 7, zero point 8.
Rounding is numpy's round-half-to-even. Everything else (Gather of embeddings, Conv, norms) stays
fp32, so a file without such MatMuls is written unchanged under the _q4 name (transformers.js' q4
dtype then still finds every file).

Usage:
  /usr/bin/python3 scripts/quantize-q4.py MODEL_FOLDER [--block-size 32] [--symmetric] [--only NAME,...] [--exclude REGEX]
  /usr/bin/python3 scripts/quantize-q4.py FILE.onnx --out FILE_q4.onnx

Needs numpy and onnx (Debian: python3-numpy python3-onnx). Prints one JSON line per written file.
"""
import argparse
import json
import os
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VARIANT_SUFFIXES = ('_quantized', '_q4', '_q4f16', '_fp16', '_int8', '_uint8', '_bnb4', '_q2', '_q1')
# protobuf refuses messages of 2 GiB; write weights as external data above this
EXTERNAL_DATA_BYTES = 1_800_000_000


def quantize_weight(w, block_size=32, symmetric=False):
    """Quantize a float32 [K, N] weight block-wise along K.

    Returns (packed uint8 [N, n_blocks, block_size // 2], scales float32 [N * n_blocks],
    zero_points uint8 [N * ceil(n_blocks / 2)] or None, dequantized float32 [K, N]).
    """
    if w.ndim != 2:
        raise ValueError(f'expected a 2-D weight, got shape {w.shape}')
    if block_size < 16 or block_size & (block_size - 1):
        raise ValueError(f'block_size must be a power of two >= 16, got {block_size}')
    k, n = w.shape
    n_blocks = (k + block_size - 1) // block_size
    cols = np.zeros((n, n_blocks * block_size), np.float32)
    cols[:, :k] = w.T.astype(np.float32)
    blocks = cols.reshape(n, n_blocks, block_size)
    if symmetric:
        amax = np.abs(blocks).max(axis=2)
        scale = np.where(amax > 0, amax / np.float32(7), np.float32(1)).astype(np.float32)
        zp = np.full((n, n_blocks), 8, np.uint8)
    else:
        lo = np.minimum(blocks.min(axis=2), 0)
        hi = np.maximum(blocks.max(axis=2), 0)
        span = (hi - lo).astype(np.float32)
        scale = np.where(span > 0, span / np.float32(15), np.float32(1)).astype(np.float32)
        zp = np.clip(np.round(-lo / scale), 0, 15).astype(np.uint8)
    q = np.clip(np.round(blocks / scale[:, :, None]) + zp[:, :, None], 0, 15).astype(np.uint8)
    packed = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)
    deq_cols = (q.astype(np.float32) - zp[:, :, None].astype(np.float32)) * scale[:, :, None]
    dequantized = np.ascontiguousarray(deq_cols.reshape(n, n_blocks * block_size)[:, :k].T)
    zero_points = None
    if not symmetric:
        zp_even = zp if n_blocks % 2 == 0 else np.concatenate([zp, np.zeros((n, 1), np.uint8)], axis=1)
        zero_points = (zp_even[:, 0::2] | (zp_even[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
    return packed, scale.reshape(-1), zero_points, dequantized


def _constant_weight(graph, name, inits, producers):
    """The float32 [K, N] value feeding a MatMul's B: an initializer, or Transpose(perm 1,0) of one."""
    if name in inits:
        t = inits[name]
        if t.data_type == TensorProto.FLOAT and len(t.dims) == 2:
            return numpy_helper.to_array(t), 'initializer'
        return None, None
    node = producers.get(name)
    if node is not None and node.op_type == 'Transpose' and node.input[0] in inits:
        perm = next((list(a.ints) for a in node.attribute if a.name == 'perm'), [1, 0])
        t = inits[node.input[0]]
        if perm == [1, 0] and t.data_type == TensorProto.FLOAT and len(t.dims) == 2:
            return numpy_helper.to_array(t).T, 'transposed initializer'
    return None, None


def quantize_model(model, block_size=32, symmetric=False, exclude=None):
    """Replace constant-weight MatMuls of the main graph in place (not those whose weight or output
    name matches the regular expression `exclude`); returns a list of what was done."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    producers = {o: n for n in graph.node for o in n.output}
    done = {}
    report = []
    new_nodes = []
    for node in graph.node:
        if node.op_type != 'MatMul' or node.domain not in ('', 'ai.onnx'):
            new_nodes.append(node)
            continue
        w, kind = _constant_weight(graph, node.input[1], inits, producers)
        if w is None or w.shape[0] < 16 or (exclude and (re.search(exclude, node.input[1]) or re.search(exclude, node.output[0]))):
            new_nodes.append(node)
            continue
        k, n = w.shape
        key = node.input[1]
        if key not in done:
            packed, scales, zps, _ = quantize_weight(w, block_size, symmetric)
            base = key.replace('/', '_')
            names = [f'{base}_Q4', f'{base}_scales'] + ([f'{base}_zp'] if zps is not None else [])
            graph.initializer.append(numpy_helper.from_array(packed, names[0]))
            graph.initializer.append(numpy_helper.from_array(scales, names[1]))
            if zps is not None:
                graph.initializer.append(numpy_helper.from_array(zps, names[2]))
            done[key] = names
        attrs = dict(K=k, N=n, bits=4, block_size=block_size)
        new_nodes.append(
            helper.make_node('MatMulNBits', [node.input[0], *done[key]], list(node.output), name=f'{node.name or key}_Q4', domain='com.microsoft', **attrs)
        )
        report.append({'node': node.name, 'weight': key, 'source': kind, 'K': k, 'N': n})
    del graph.node[:]
    graph.node.extend(new_nodes)
    # drop float weights (and Transposes) nothing reads any more
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    for _ in range(2):
        keep = [n for n in graph.node if n.op_type != 'Transpose' or any(o in used for o in n.output)]
        del graph.node[:]
        graph.node.extend(keep)
        used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    keep_inits = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep_inits)
    if report and not any(o.domain == 'com.microsoft' for o in model.opset_import):
        model.opset_import.append(helper.make_operatorsetid('com.microsoft', 1))
    return report


def quantize_file(src, dst, block_size=32, symmetric=False, exclude=None):
    model = onnx.load(src)
    report = quantize_model(model, block_size, symmetric, exclude)
    big = model.ByteSize() > EXTERNAL_DATA_BYTES if hasattr(model, 'ByteSize') else False
    if os.path.exists(dst):
        os.remove(dst)
    if big:
        data = os.path.basename(dst) + '_data'
        onnx.save_model(model, dst, save_as_external_data=True, all_tensors_to_one_file=True, location=data, size_threshold=1024)
    else:
        onnx.save_model(model, dst)
    return {'file': dst, 'matmuls': len(report), 'weights': len({r['weight'] for r in report}), 'bytes_in': os.path.getsize(src), 'bytes_out': os.path.getsize(dst)}


def fp32_files(folder, only):
    onnx_dir = os.path.join(folder, 'onnx')
    if not os.path.isdir(onnx_dir):
        sys.exit(f'{folder}: no onnx/ folder (expected a model folder in the Hugging Face layout)')
    names = sorted(f[:-5] for f in os.listdir(onnx_dir) if f.endswith('.onnx') and not f[:-5].endswith(VARIANT_SUFFIXES))
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            sys.exit(f'{folder}: --only names {", ".join(unknown)}, not among the fp32 files {", ".join(names)}')
        names = [n for n in names if n in only]
    if not names:
        sys.exit(f'{onnx_dir}: no fp32 .onnx files')
    return [(os.path.join(onnx_dir, n + '.onnx'), os.path.join(onnx_dir, n + '_q4.onnx')) for n in names]


def main():
    ap = argparse.ArgumentParser(description='4-bit block quantization (MatMulNBits) of a model folder or one ONNX file')
    ap.add_argument('source', help='model folder (writes onnx/<name>_q4.onnx beside each fp32 file) or one .onnx file')
    ap.add_argument('--out', help='output file when source is one .onnx file')
    ap.add_argument('--block-size', type=int, default=32)
    ap.add_argument('--symmetric', action='store_true', help='no zero points (zero point 8), scale = max|w| / 7')
    ap.add_argument('--only', help='comma-separated base names of the folder files to quantize (default: all)')
    ap.add_argument('--exclude', help='regular expression: MatMuls whose weight or output name matches stay fp32 (e.g. "^logits$" keeps the language-model head)')
    a = ap.parse_args()
    if os.path.isdir(a.source):
        pairs = fp32_files(a.source, [s.strip() for s in a.only.split(',')] if a.only else [])
    else:
        if not a.out:
            sys.exit('--out is required when the source is one .onnx file')
        pairs = [(a.source, a.out)]
    for src, dst in pairs:
        print(json.dumps(quantize_file(src, dst, a.block_size, a.symmetric, a.exclude)), flush=True)


if __name__ == '__main__':
    main()
