"""Give medvlm-tiny's vision tower a dense output: `patch_embeds` [B, 36, 128], the 6x6 grid of the last
CNN stage through the SAME linear projection as the pooled image embedding (not normalised).

    /usr/bin/python3 training/dense_export.py            # rewrites onnx/vision_model{,_quantized}.onnx in place
    /usr/bin/python3 training/dense_export.py --check    # only writes the parity reference

The projection is linear without bias, so mean(patch_embeds) == the unnormalised image embedding; the
existing outputs (image_embeds, last_hidden_state) are untouched. The q8 file gets a float MatMul with the
dequantised weight of its own MatMulInteger (the same numbers the pooled path uses).

Parity reference: a PyTorch forward built ONLY from the fp32 file's initializers and node attributes
(Conv/Relu/Add/Transpose/Reshape/ReduceMean/MatMul), on the sample images as medvlm's processor prepares
them (training/preprocess.mjs), written to models/medvlm-tiny/reference/dense-parity.json.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL = os.path.join(ROOT, "models", "medvlm-tiny")
OUT_NAME = "patch_embeds"


def proj_weight(m: onnx.ModelProto) -> np.ndarray:
    """The [192, 128] projection weight: float MatMul (fp32) or dequantised MatMulInteger (q8)."""
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "MatMul" and n.input[1] in inits and inits[n.input[1]].ndim == 2:
            return inits[n.input[1]].astype(np.float32)
    for n in m.graph.node:
        if n.op_type == "MatMulInteger":
            w, zp = inits[n.input[1]].astype(np.float32), inits[n.input[3]].astype(np.float32)
            scale = None
            for k in m.graph.node:  # Mul(A_scale, W_scale): per-column weight scale
                if k.op_type == "Mul" and k.input[1] in inits and inits[k.input[1]].shape == zp.shape:
                    scale = inits[k.input[1]].astype(np.float32)
            assert scale is not None, "no weight scale found"
            return ((w - zp[None, :]) * scale[None, :]).astype(np.float32)
    raise SystemExit("no projection MatMul found")


def add_dense_output(path: str) -> None:
    m = onnx.load(path)
    if any(o.name == OUT_NAME for o in m.graph.output):
        print(f"{path}: already has {OUT_NAME}")
        return
    w = proj_weight(m)
    m.graph.initializer.append(numpy_helper.from_array(w, "medvlm_patch_proj_weight"))
    m.graph.node.append(helper.make_node("MatMul", ["last_hidden_state", "medvlm_patch_proj_weight"], [OUT_NAME],
                                         name="medvlm_patch_proj"))
    m.graph.output.append(helper.make_tensor_value_info(OUT_NAME, onnx.TensorProto.FLOAT,
                                                        ["batch_size", 36, int(w.shape[1])]))
    onnx.checker.check_model(m)
    onnx.save(m, path)
    print(f"{path}: added {OUT_NAME} {w.shape}")


def torch_forward(path: str, px: torch.Tensor) -> dict:
    """Interpret the fp32 graph with torch ops from its initializers (independent of onnxruntime)."""
    m = onnx.load(path)
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    env["pixel_values"] = px
    for n in m.graph.node:
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        x = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            y = F.conv2d(x[0], x[1], x[2] if len(x) > 2 else None, stride=tuple(a.get("strides", [1, 1])),
                         padding=(p[0], p[1]), dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1))
        elif op == "Relu":
            y = F.relu(x[0])
        elif op == "Add":
            y = x[0] + x[1]
        elif op == "Mul":
            y = x[0] * x[1]
        elif op == "Div":
            y = x[0] / x[1]
        elif op == "Constant":
            y = torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
        elif op == "Shape":
            y = torch.tensor(list(x[0].shape), dtype=torch.int64)
        elif op == "Slice":
            y = x[0][int(x[1][0]):int(x[2][0])]
        elif op == "Concat":
            y = torch.cat([t.reshape(-1) for t in x], dim=a["axis"])
        elif op == "Reshape":
            shape = [int(s) if int(s) != 0 else x[0].shape[i] for i, s in enumerate(x[1].tolist())]
            y = x[0].reshape(shape)
        elif op == "Transpose":
            y = x[0].permute(*a["perm"])
        elif op == "ReduceMean":
            y = x[0].mean(dim=a["axes"], keepdim=bool(a.get("keepdims", 1)))
        elif op == "ReduceL2":
            y = x[0].norm(dim=a["axes"], keepdim=bool(a.get("keepdims", 1)))
        elif op == "MatMul":
            y = torch.matmul(x[0], x[1])
        elif op == "Clip":
            y = x[0].clamp(min=float(x[1]) if x[1] is not None else None)
        elif op == "Expand":
            y = x[0].expand(*x[1].tolist())
        else:
            raise SystemExit(f"reference: unsupported op {op}")
        env[n.output[0]] = y
    return {o.name: env[o.name] for o in m.graph.output}


def reference() -> None:
    samples = sorted(f for f in os.listdir(os.path.join(ROOT, "samples")) if f.endswith((".png", ".jpg")))[::3]  # 3 of 8: keeps the file small
    with tempfile.TemporaryDirectory() as tmp:
        lst = os.path.join(tmp, "list.json")
        json.dump([os.path.join(ROOT, "samples", s) for s in samples], open(lst, "w"))
        subprocess.run(["node", os.path.join(ROOT, "training", "preprocess.mjs"), MODEL, lst, os.path.join(tmp, "px.bin")],
                       check=True, cwd=ROOT)
        u8 = np.fromfile(os.path.join(tmp, "px.bin"), dtype=np.uint8).reshape(len(samples), 3, 96, 96)
    pp = json.load(open(os.path.join(MODEL, "preprocessor_config.json")))
    mean = np.array(pp["image_mean"], np.float32)[None, :, None, None]
    std = np.array(pp["image_std"], np.float32)[None, :, None, None]
    px = torch.from_numpy((u8.astype(np.float32) * np.float32(pp["rescale_factor"]) - mean) / std)
    with torch.no_grad():
        out = torch_forward(os.path.join(MODEL, "onnx", "vision_model.onnx"), px)
        patches = torch.matmul(out["last_hidden_state"], torch.from_numpy(proj_weight(onnx.load(os.path.join(MODEL, "onnx", "vision_model.onnx")))))
    # linearity check: the mean patch embedding, normalised, is the image embedding
    pooled = F.normalize(patches.mean(1), dim=-1)
    err = float((pooled - out["image_embeds"]).abs().max())
    assert err < 1e-5, err
    ref = {
        "what": "patch_embeds of medvlm-tiny's vision tower (6x6 grid, row-major, unnormalised), PyTorch from the ONNX initializers",
        "grid": [6, 6],
        "pooled_vs_image_embeds_max_abs_diff": err,
        "images": {s: patches[i].numpy().round(5).tolist() for i, s in enumerate(samples)},
    }
    path = os.path.join(MODEL, "reference", "dense-parity.json")
    with open(path, "w") as f:
        json.dump(ref, f)
    print("wrote", path, "pooled-vs-image_embeds", err)


if __name__ == "__main__":
    if "--check" not in sys.argv:
        for name in ("vision_model.onnx", "vision_model_quantized.onnx"):
            add_dense_output(os.path.join(MODEL, "onnx", name))
    reference()
