#!/usr/bin/python3
"""Independent check of scripts/quantize-q4.py's block quantization, and single-MatMul graphs for
onnxruntime to run.

For seeded weights of several shapes (K a multiple of the block size and not), in asymmetric and
symmetric mode:
  - unpacks B / scales / zero points element by element from the MatMulNBits layout (a plain loop,
    not the quantizer's vectorised packing) and requires the result to equal the quantizer's own
    dequantized weight exactly;
  - checks every element is within half a quantization step of the original weight;
  - writes a one-node graph (input A [2, 3, K] -> MatMul with W), quantizes it with the script's
    quantize_file, and writes A and A @ dequantized for the test to compare with onnxruntime's output.
Prints JSON: {cases: [{name, K, N, symmetric, exact, max_err_over_step, graph, a, expected}]}.
"""
import importlib.util
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('quantize_q4', os.path.join(HERE, '../../../scripts/quantize-q4.py'))
q4 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(q4)


def unpack_reference(packed, scales, zero_points, k, n, block_size):
    n_blocks = (k + block_size - 1) // block_size
    flat_b = packed.reshape(-1)
    blob = block_size // 2
    zp_row = (n_blocks + 1) // 2
    w = np.zeros((k, n), np.float32)
    for col in range(n):
        for blk in range(n_blocks):
            scale = scales[col * n_blocks + blk]
            if zero_points is None:
                zp = 8
            else:
                byte = int(zero_points[col * zp_row + blk // 2])
                zp = (byte >> 4) if blk % 2 else (byte & 0x0F)
            for i in range(block_size):
                row = blk * block_size + i
                if row >= k:
                    break
                byte = int(flat_b[(col * n_blocks + blk) * blob + i // 2])
                q = (byte >> 4) if i % 2 else (byte & 0x0F)
                w[row, col] = np.float32(q - zp) * scale
    return w


def main(out_dir):
    rng = np.random.default_rng(1234)
    cases = []
    for k, n in [(64, 48), (80, 24), (33, 5), (128, 7)]:
        for symmetric in (False, True):
            w = (rng.standard_normal((k, n)) * 0.3).astype(np.float32)
            w[:, 0] = np.abs(w[:, 0])  # an all-positive column: asymmetric zero point 0
            packed, scales, zps, deq = q4.quantize_weight(w, 32, symmetric)
            ref = unpack_reference(packed, scales, zps, k, n, 32)
            n_blocks = (k + 31) // 32
            step = np.repeat(scales.reshape(n, n_blocks), 32, axis=1)[:, :k].T
            err = float((np.abs(deq - w) / step).max())
            name = f'k{k}_n{n}_{"sym" if symmetric else "asym"}'
            graph = helper.make_graph(
                [helper.make_node('MatMul', ['A', 'W'], ['Y'], name='mm')],
                name,
                [helper.make_tensor_value_info('A', TensorProto.FLOAT, [2, 3, k])],
                [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [2, 3, n])],
                [numpy_helper.from_array(w, 'W')],
            )
            model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid('', 17)])
            model.ir_version = 8
            src = os.path.join(out_dir, f'{name}.onnx')
            dst = os.path.join(out_dir, f'{name}_q4.onnx')
            onnx.save(model, src)
            q4.quantize_file(src, dst, 32, symmetric)
            a = rng.standard_normal((2, 3, k)).astype(np.float32)
            a.tofile(os.path.join(out_dir, f'{name}.a.f32'))
            (a @ deq).astype(np.float32).tofile(os.path.join(out_dir, f'{name}.expected.f32'))
            ops = [nd.op_type for nd in onnx.load(dst).graph.node]
            cases.append({
                'name': name, 'K': k, 'N': n, 'symmetric': symmetric,
                'exact': bool(np.array_equal(ref, deq)),
                'max_err_over_step': err,
                'ops': ops,
                'graph': dst,
                'a': os.path.join(out_dir, f'{name}.a.f32'),
                'expected': os.path.join(out_dir, f'{name}.expected.f32'),
            })
    print(json.dumps({'cases': cases}))


if __name__ == '__main__':
    main(sys.argv[1])
