"""TS-independent check of the exported medvlm-tiny-seg ONNX file against PyTorch.

    /usr/bin/python3 training/seg/check_onnx.py [--model-dir models/medvlm-tiny-seg] [--ckpt best.pt] [--data DIR]

Python's onnxruntime is not installed here (Debian has no package for it), so the ONNX file runs through
onnxruntime-node (training/run_onnx.mjs, the runtime medvlm itself uses). The inputs are those of
reference/parity.json, preprocessed again by transformers.js' processor. Compared with PyTorch's values recorded in
parity.json (strided sample, mean/std) and, with --ckpt, with PyTorch's full logits. Prints max |delta|; exits 1
when it exceeds the tolerance recorded in parity.json. Data-folder inputs are skipped (with a message) when the
data folder is absent.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys

import numpy as np

import common as C


def check(model_dir: str, data: str | None, model=None) -> dict:
    import export as E

    with open(os.path.join(model_dir, "reference", "parity.json")) as f:
        doc = json.load(f)
    with open(os.path.join(model_dir, "config.json")) as f:
        size = json.load(f)["image_size"]
    refs = [r for r in doc["inputs"] if data or not r["image"].startswith("data:")]
    if len(refs) < len(doc["inputs"]):
        print(f"check_onnx: data folder absent, skipping {len(doc['inputs']) - len(refs)} data-folder inputs",
              file=sys.stderr)
    feeds = E.reference_feeds(refs, data, size)
    names = ("pixel_values", "input_ids", "attention_mask")
    got = C.run_onnx_node(os.path.join(model_dir, "onnx", "model.onnx"), {k: feeds[k] for k in names},
                          os.path.join(C.OUT, "check"))
    lg = got["logits"]
    res = {"runtime": "onnxruntime-node (training/run_onnx.mjs)", "inputs": len(refs), "per_input": {}}
    worst = 0.0
    for j, r in enumerate(refs):
        want = r["logits"]
        flat = lg[j].reshape(-1)
        d_sample = float(np.abs(flat[::want["stride"]] - np.array(want["sample"])).max())
        d_mean = abs(float(flat.mean()) - want["mean"])
        ids_ok = feeds["input_ids"][j][:len(r["input_ids"])].tolist() == r["input_ids"]
        res["per_input"][r["id"]] = {"max_abs_diff_strided_sample": d_sample, "abs_diff_mean": d_mean,
                                     "input_ids_match": ids_ok}
        if "pixels_u8_chw_base64" in r:
            rec = np.frombuffer(base64.b64decode(r["pixels_u8_chw_base64"]), dtype=np.uint8)
            res["per_input"][r["id"]]["pixels_match_recorded"] = bool(
                np.array_equal(rec, feeds["pixels_u8"][j].reshape(-1)))
        worst = max(worst, d_sample)
    res["max_abs_diff_vs_recorded_pytorch"] = worst
    if model is not None:
        import torch

        with torch.no_grad():
            ref = model(*(torch.from_numpy(feeds[k]) for k in ("pixel_values", "input_ids", "attention_mask")))
        res["max_abs_diff_vs_pytorch_full_logits"] = float(np.abs(ref.numpy() - lg).max())
    res["tolerance"] = doc["tolerance_logits_max_abs"]
    res["ok"] = worst <= doc["tolerance_logits_max_abs"] and res.get(
        "max_abs_diff_vs_pytorch_full_logits", 0) <= doc["tolerance_logits_max_abs"]
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=C.SEG_DIR)
    ap.add_argument("--ckpt", default=None)
    ap.add_argument("--data", default=None)
    a = ap.parse_args()
    data = a.data or os.environ.get("MEDVLM_DATA") or os.path.join(os.path.dirname(C.ROOT), "shared", "data")
    data = data if os.path.isdir(data) else None
    model = None
    if a.ckpt:
        import torch
        from evaluate import load_model

        torch.set_num_threads(1)
        model = load_model(a.ckpt)[0]
    res = check(a.model_dir, data, model)
    print(json.dumps(res, indent=1))
    sys.exit(0 if res["ok"] else 1)


if __name__ == "__main__":
    main()
