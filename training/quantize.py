"""Dynamic int8 quantisation of an ONNX graph without onnxruntime's Python tools.

* MatMul / Gemm with a constant 2-D weight -> DynamicQuantizeLinear(A) + MatMulInteger(A_q, W_q) with a
  per-output-column uint8 weight (asymmetric), then Cast + Mul(scale) (+ Add bias for Gemm).
* Conv weights and Gather tables (token embedding) -> weight-only int8: an int8 initializer and a
  DequantizeLinear node (per output channel / per row), which onnxruntime folds at session start.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _quant_cols_uint8(w: np.ndarray):
    """w [K, N] -> (uint8 q [K, N], scale [N] float32, zero point [N] uint8), asymmetric per column."""
    lo = np.minimum(w.min(axis=0), 0.0)
    hi = np.maximum(w.max(axis=0), 0.0)
    scale = ((hi - lo) / 255.0).astype(np.float32)
    scale[scale == 0] = 1.0
    zp = np.clip(np.round(-lo / scale), 0, 255).astype(np.uint8)
    q = np.clip(np.round(w / scale) + zp, 0, 255).astype(np.uint8)
    return q, scale, zp


def _quant_axis_int8(w: np.ndarray, axis: int):
    """Symmetric int8 per slice along axis; returns (q, scale)."""
    red = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.abs(w).max(axis=red)
    scale = (amax / 127.0).astype(np.float32)
    scale[scale == 0] = 1.0
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def quantize_model(src: str, dst: str) -> dict:
    m = onnx.load(src)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    consumers: dict[str, int] = {}
    for n in g.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1
    new_nodes, new_inits, drop = [], [], set()
    stats = {"matmul": 0, "gemm": 0, "conv": 0, "gather": 0}
    uid = [0]

    def name(base):
        uid[0] += 1
        return f"{base}_q{uid[0]}"

    def dyn_matmul(a, w, out, bias=None):
        q, scale, zp = _quant_cols_uint8(w)
        wq, ws, wz = name("W_quant"), name("W_scale"), name("W_zp")
        new_inits.extend([numpy_helper.from_array(q, wq), numpy_helper.from_array(scale, ws),
                          numpy_helper.from_array(zp, wz)])
        aq, asc, azp = name("A_quant"), name("A_scale"), name("A_zp")
        yi, yf, s, ym = name("Y_int"), name("Y_float"), name("S"), name("Y")
        nodes = [
            helper.make_node("DynamicQuantizeLinear", [a], [aq, asc, azp], name=name("DQL")),
            helper.make_node("MatMulInteger", [aq, wq, azp, wz], [yi], name=name("MMI")),
            helper.make_node("Cast", [yi], [yf], to=TensorProto.FLOAT, name=name("Cast")),
            helper.make_node("Mul", [asc, ws], [s], name=name("ScaleMul")),
        ]
        if bias is None:
            nodes.append(helper.make_node("Mul", [yf, s], [out], name=name("Rescale")))
        else:
            nodes.append(helper.make_node("Mul", [yf, s], [ym], name=name("Rescale")))
            nodes.append(helper.make_node("Add", [ym, bias], [out], name=name("Bias")))
        return nodes

    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in inits and len(inits[n.input[1]].dims) == 2:
            w = numpy_helper.to_array(inits[n.input[1]])
            new_nodes += dyn_matmul(n.input[0], w, n.output[0])
            if consumers.get(n.input[1], 0) == 1:
                drop.add(n.input[1])
            stats["matmul"] += 1
        elif n.op_type == "Gemm" and n.input[1] in inits:
            at = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            if at.get("transA", 0) or at.get("alpha", 1.0) != 1.0 or at.get("beta", 1.0) != 1.0:
                new_nodes.append(n)
                continue
            w = numpy_helper.to_array(inits[n.input[1]])
            if at.get("transB", 0):
                w = w.T
            bias = n.input[2] if len(n.input) > 2 and n.input[2] else None
            new_nodes += dyn_matmul(n.input[0], np.ascontiguousarray(w), n.output[0], bias)
            if consumers.get(n.input[1], 0) == 1:
                drop.add(n.input[1])
            stats["gemm"] += 1
        elif n.op_type in ("Conv", "Gather") and n.input[1 if n.op_type == "Conv" else 0] in inits:
            idx = 1 if n.op_type == "Conv" else 0
            wname = n.input[idx]
            w = numpy_helper.to_array(inits[wname])
            if w.dtype != np.float32 or w.size < 1024:
                new_nodes.append(n)
                continue
            q, scale = _quant_axis_int8(w, 0)
            qn, sn, deq = name("Wq"), name("Ws"), name("Wdeq")
            new_inits.extend([numpy_helper.from_array(q, qn), numpy_helper.from_array(scale, sn)])
            new_nodes.append(helper.make_node("DequantizeLinear", [qn, sn], [deq], axis=0, name=name("Deq")))
            inputs = list(n.input)
            inputs[idx] = deq
            nn_ = helper.make_node(n.op_type, inputs, list(n.output), name=n.name)
            nn_.attribute.extend(n.attribute)
            new_nodes.append(nn_)
            if consumers.get(wname, 0) == 1:
                drop.add(wname)
            stats["conv" if n.op_type == "Conv" else "gather"] += 1
        else:
            new_nodes.append(n)
    keep = [t for t in g.initializer if t.name not in drop]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    del g.node[:]
    g.node.extend(new_nodes)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    return stats
