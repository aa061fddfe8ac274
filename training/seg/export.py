"""Export a medvlm-tiny-seg checkpoint to models/medvlm-tiny-seg/ and write its parity reference.

    /usr/bin/python3 training/seg/export.py --ckpt /tmp/medvlm-seg/run128/best.pt --threshold 0.5 [--data DIR]

Writes onnx/model.onnx (pixel_values [B,3,S,S] float32, input_ids [B,L] int64, attention_mask [B,L] int64 ->
logits [B,1,S/2,S/2] float32; dynamic batch and sequence axes; opset 14), config.json, preprocessor_config.json,
the medvlm-tiny tokenizer files, and reference/parity.json: for each reference input (files from samples/ and
data-folder image ids), the prompt, its token ids, the pixel statistics, and PyTorch's logits statistics with a
strided sample. Then runs check_onnx.py (onnxruntime-node vs PyTorch).
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import shutil

import numpy as np
import onnx
import torch

import common as C
import prepare as P
from evaluate import load_model

OPSET = 14
STRIDE = 97  # strided sample of the flattened logits: every 97th value


def reference_inputs(data: str | None) -> list[dict]:
    """4-6 parity inputs: two repo samples (always present) and data-folder test images when the folder exists."""
    refs = [{"id": "sample-abdomen-ct-lesion", "image": "samples/vqarad-abdomen-ct-1.jpg", "prompt": "lesion"},
            {"id": "sample-chest-xray-polyp", "image": "samples/vqarad-chest-xray-1.jpg", "prompt": "polyp"}]
    if data:
        sp = C.splits()
        ben = next(n for n in sp["busi"]["test"] if n.startswith("benign"))
        mal = next(n for n in sp["busi"]["test"] if n.startswith("malignant"))
        kv = sp["kvasir"]["test"][:1][0]
        refs += [{"id": "busi-benign-lesion", "image": f"data:busi/images/{ben}", "prompt": C.PROMPTS["lesion"]},
                 {"id": "busi-malignant-lesion", "image": f"data:busi/images/{mal}", "prompt": "lesion"},
                 {"id": "kvasir-polyp", "image": f"data:kvasir_seg/images/{kv}", "prompt": C.PROMPTS["polyp"]},
                 {"id": "kvasir-breast-lesion-prompt", "image": f"data:kvasir_seg/images/{kv}",
                  "prompt": C.PROMPTS["lesion"]}]
    return refs


def resolve(image: str, data: str | None) -> str:
    return os.path.join(data, image[5:]) if image.startswith("data:") else os.path.join(C.ROOT, image)


def reference_feeds(refs: list[dict], data: str | None, size: int) -> dict[str, np.ndarray]:
    """Pixels through transformers.js' processor with the exported preprocessor_config, tokens padded to one L."""
    px = P.node_preprocess([resolve(r["image"], data) for r in refs], size, C.OUT)
    tok = C.tokenizer()
    ids, mask = tok.batch([r["prompt"] for r in refs])
    return {"pixel_values": C.to_pixel_values(px).numpy(), "input_ids": np.array(ids, dtype=np.int64),
            "attention_mask": np.array(mask, dtype=np.int64), "pixels_u8": px}


def export_onnx(model: C.TextSegmenter, path: str, size: int) -> None:
    ids = torch.tensor([[2, 50, 113, 2109, 114, 3], [2, 580, 168, 3, 0, 0]])
    mask = (ids != 0).long()
    px = torch.randn(2, 3, size, size)
    torch.onnx.export(model.eval(), (px, ids, mask), path, opset_version=OPSET, do_constant_folding=True,
                      input_names=["pixel_values", "input_ids", "attention_mask"], output_names=["logits"],
                      dynamic_axes={"pixel_values": {0: "batch_size"},
                                    "input_ids": {0: "batch_size", 1: "sequence_length"},
                                    "attention_mask": {0: "batch_size", 1: "sequence_length"},
                                    "logits": {0: "batch_size"}})
    onnx.checker.check_model(onnx.load(path))


def write_folder(model: C.TextSegmenter, st: dict, out: str, threshold: float) -> None:
    size = st["size"]
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(os.path.join(C.TINY_DIR, f), os.path.join(out, f))
    with open(os.path.join(out, "preprocessor_config.json"), "w") as f:
        # the training pixels came from transformers.js in Node (sharp / libvips affine bicubic): medvlm reproduces them
        json.dump({**P.preprocessor_config(size), "medvlm_resize": "libvips-affine"}, f, indent=1)
    with open(os.path.join(C.TINY_DIR, "tokenizer_config.json")) as f:
        max_len = int(json.load(f).get("model_max_length", 64))
    conf = {
        "model_type": "medvlm-text-segmenter",
        "architectures": ["MedvlmTextSegmenter"],
        "image_size": size,
        "output_size": size // 2,
        "max_text_length": max_len,
        "threshold": threshold,
        "prompts": C.PROMPTS,
        "prompt_variants": C.PROMPT_VARIANTS,
        "inputs": {"pixel_values": "float32 [B,3,S,S]: resize to exactly S x S (no crop), x/255, (x-mean)/std",
                   "input_ids": "int64 [B,L] (medvlm-tiny WordPiece tokenizer)", "attention_mask": "int64 [B,L]"},
        "outputs": {"logits": "float32 [B,1,S/2,S/2]; sigmoid gives the probability; resize to the input's size "
                              "(bilinear) then threshold"},
        "base_model": "medvlm-tiny",
        "parameters": sum(p.numel() for p in model.parameters()),
        "checkpoint_step": st["step"],
        "research_use": "Research use only. Not a medical device; outputs are not a diagnosis.",
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(conf, f, indent=1)
    export_onnx(model, os.path.join(out, "onnx", "model.onnx"), size)


def logits_stats(lg: np.ndarray, threshold: float) -> dict:
    flat = lg.reshape(-1)
    return {"dims": [1, *lg.shape], "mean": float(flat.mean()), "std": float(flat.std()), "min": float(flat.min()),
            "max": float(flat.max()), "stride": STRIDE,
            "sample": [round(float(v), 5) for v in flat[::STRIDE]],
            "area_fraction_at_threshold": float((1 / (1 + np.exp(-flat)) >= threshold).mean())}


def write_parity(model: C.TextSegmenter, st: dict, out: str, data: str | None, threshold: float) -> dict:
    refs = reference_inputs(data)
    feeds = reference_feeds(refs, data, st["size"])
    with torch.no_grad():
        lg = model(*(torch.from_numpy(feeds[k]) for k in ("pixel_values", "input_ids", "attention_mask"))).numpy()
    entries = []
    for j, r in enumerate(refs):
        n = int(feeds["attention_mask"][j].sum())
        pv = feeds["pixel_values"][j]
        e = {**r, "input_ids": feeds["input_ids"][j][:n].tolist(),
             "pixel_values": {"dims": [1, *pv.shape], "mean": float(pv.mean()), "std": float(pv.std())},
             "logits": logits_stats(lg[j], threshold)}
        if not r["image"].startswith("data:"):
            # repo samples only (never data-folder pixels): the processor's uint8 output, CHW, base64, so a test
            # can check the ONNX file alone, independent of any preprocessing code
            e["pixels_u8_chw_base64"] = base64.b64encode(feeds["pixels_u8"][j].tobytes()).decode("ascii")
        entries.append(e)
    doc = {"model": "medvlm-tiny-seg", "reference": f"PyTorch {torch.__version__} (CPU, 1 thread) on the checkpoint "
                                                    f"at step {st['step']}",
           "preprocessing": "transformers.js CLIPImageProcessor with this folder's preprocessor_config.json "
                            "(training/seg/preprocess.mjs); 'data:' images are relative to the shared data folder "
                            "(../shared/data), the others to the repo root",
           "threshold": threshold, "tolerance_logits_max_abs": 1e-3, "inputs": entries}
    os.makedirs(os.path.join(out, "reference"), exist_ok=True)
    with open(os.path.join(out, "reference", "parity.json"), "w") as f:
        json.dump(doc, f, indent=1)
    return doc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--threshold", type=float, required=True, help="chosen on validation (evaluate.py)")
    ap.add_argument("--out", default=C.SEG_DIR)
    ap.add_argument("--data", default=None)
    a = ap.parse_args()
    torch.set_num_threads(1)
    data = C.data_root(a.data)
    model, st = load_model(a.ckpt)
    write_folder(model, st, a.out, a.threshold)
    doc = write_parity(model, st, a.out, data, a.threshold)
    import check_onnx

    res = check_onnx.check(a.out, data, model)
    doc["check"] = {k: v for k, v in res.items() if k != "per_input"}
    with open(os.path.join(a.out, "reference", "parity.json"), "w") as f:
        json.dump(doc, f, indent=1)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
