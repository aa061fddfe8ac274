"""Reference embeddings for the parity fixture in samples/ -> models/medvlm-tiny/reference/embeddings.json.

    /usr/bin/python3 training/reference.py [--ckpt training/out/best.pt]

Pixel values come from transformers.js' own CLIPImageProcessor (training/tjs_reference.mjs), because its
resize (sharp affine, bicubic, no antialiasing) differs from PIL's antialiased bicubic; the PIL difference
is measured and reported. The same script runs the exported ONNX files through transformers.js
(CLIP*WithProjection, fp32 and q8) and records their agreement with PyTorch.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import tokenizer as T  # noqa: E402
import zeroshot as Z  # noqa: E402
from export import load  # noqa: E402

TEXTS = [
    "a CT image of the head",
    "a chest x-ray with pneumonia",
    "an image of the abdomen",
    # long enough to be truncated at 64 tokens (tests truncation + mask pooling)
    "Axial contrast-enhanced CT of the abdomen shows a large, heterogeneous, hypervascular mass arising from the "
    "right hepatic lobe with a central stellate scar, mild perihepatic ascites, no biliary dilatation, patent portal "
    "and hepatic veins, normal spleen, pancreas and kidneys, and no retroperitoneal or mesenteric lymphadenopathy; "
    "findings favour focal nodular hyperplasia over fibrolamellar hepatocellular carcinoma.",
]


def pil_pixels(path: str) -> np.ndarray:
    """Plain PIL preprocessing (antialiased bicubic) following the JS size/crop arithmetic."""
    from PIL import Image

    im = Image.open(path).convert("RGB")
    w, h = im.size
    f = max(96 / w, 96 / h)
    nw, nh = math.floor(round(w * f, 2)), math.floor(round(h * f, 2))
    im = im.resize((nw, nh), Image.BICUBIC)
    left, top = (nw - 96) // 2, (nh - 96) // 2
    im = im.crop((left, top, left + 96, top + 96))
    u8 = np.asarray(im).transpose(2, 0, 1)[None]
    return Z.to_pixel_values(u8).numpy()[0]


def cos(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(data.OUT, "best.pt"))
    ap.add_argument("--model-dir", default=data.MODEL_DIR)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load(args.ckpt)
    samples = os.path.join(data.ROOT, "samples")
    files = sorted(f for f in os.listdir(samples) if f.endswith((".jpg", ".png")))
    paths = [os.path.join(samples, f) for f in files]
    tmp = os.path.join(data.OUT, "reference")
    os.makedirs(tmp, exist_ok=True)
    json.dump(paths, open(os.path.join(tmp, "images.json"), "w"))
    json.dump(TEXTS, open(os.path.join(tmp, "texts.json"), "w"))
    dump = os.path.join(tmp, "tjs.json")
    subprocess.run(["node", os.path.join(data.ROOT, "training", "tjs_reference.mjs"), args.model_dir,
                    os.path.join(tmp, "images.json"), os.path.join(tmp, "texts.json"), dump], check=True, cwd=data.ROOT)
    tjs = json.load(open(dump))
    px = np.stack([np.array(tjs["pixel_values"][p]["data"], dtype=np.float32).reshape(3, 96, 96) for p in paths])
    # 1) node pixels vs PIL pixels, and vs the training cache route (node uint8 + Python normalisation)
    pil = np.stack([pil_pixels(p) for p in paths])
    pil_diff = np.abs(pil - px)
    u8 = data._node_preprocess(paths, os.path.join(tmp, "pixels.bin"))
    cache_route = Z.to_pixel_values(u8).numpy()
    # 2) PyTorch embeddings on node pixels and on PIL pixels
    with torch.no_grad():
        img = model.encode_image(torch.from_numpy(px)).numpy()
        img_pil = model.encode_image(torch.from_numpy(pil)).numpy()
    tok = T.WordPieceTokenizer.load(os.path.join(args.model_dir, "tokenizer.json"))
    ids_ok = all(tjs["input_ids"][t][:len(tok.encode(t))] == tok.encode(t) for t in TEXTS)
    txt = Z.embed_texts(model, tok, TEXTS)
    ref = {
        "model": "medvlm-tiny", "checkpoint": os.path.basename(args.ckpt),
        "pixel_source": "transformers.js 4.3.2 AutoProcessor (CLIPImageProcessor via sharp) on RawImage.read(file); "
                        "PyTorch fp32 embeddings computed from exactly those pixel_values",
        "embeddings_normalized": True,
        "logit_scale": float(model.logit_scale.exp()),
        "images": {f: [round(float(v), 7) for v in e] for f, e in zip(files, img)},
        "texts": {t: [round(float(v), 7) for v in e] for t, e in zip(TEXTS, txt)},
        "input_ids": {t: tok.encode(t) for t in TEXTS},
    }
    os.makedirs(os.path.join(args.model_dir, "reference"), exist_ok=True)
    with open(os.path.join(args.model_dir, "reference", "embeddings.json"), "w") as f:
        json.dump(ref, f, indent=1)
    parity = {
        "node_vs_pil_pixels": {"max_abs_diff": float(pil_diff.max()), "mean_abs_diff": float(pil_diff.mean()),
                               "per_image_max": {f: float(d.max()) for f, d in zip(files, pil_diff)},
                               "embedding_cosine_node_vs_pil_pixels_min":
                                   min(cos(a, b) for a, b in zip(img, img_pil)),
                               "note": "sharp's affine bicubic does not antialias when downscaling; PIL does"},
        "node_pixels_vs_training_cache_route_max_abs_diff": float(np.abs(cache_route - px).max()),
        "tokenizer_ids_match": ids_ok,
        "transformersjs_vs_pytorch": {},
    }
    for dtype in ("fp32", "q8"):
        ic = [cos(tjs["image_embeds"][dtype][p], e) for p, e in zip(paths, img)]
        tc = [cos(tjs["text_embeds"][dtype][t], e) for t, e in zip(TEXTS, txt)]
        parity["transformersjs_vs_pytorch"][dtype] = {"image_min_cosine": min(ic), "text_min_cosine": min(tc)}
    ref_logits = ref["logit_scale"] * img @ txt.T
    for dtype in ("fp32", "q8"):
        j = tjs["joint"][dtype]
        got = np.array(j["data"], dtype=np.float64).reshape(j["dims"])
        parity["transformersjs_vs_pytorch"][dtype]["joint_logits_per_image_dims"] = j["dims"]
        parity["transformersjs_vs_pytorch"][dtype]["joint_logits_max_abs_diff"] = float(np.abs(got - ref_logits).max())
        parity["transformersjs_vs_pytorch"][dtype]["joint_argmax_agree"] = float(
            (got.argmax(1) == ref_logits.argmax(1)).mean())
    with open(os.path.join(args.model_dir, "reference", "parity.json"), "w") as f:
        json.dump(parity, f, indent=1)
    print(json.dumps(parity, indent=1))
    labels = json.load(open(os.path.join(samples, "labels.json")))
    sims = img @ txt.T
    for f, s in zip(files, sims):
        print(f, labels[f].get("organ"), labels[f].get("modality"), np.round(s, 3).tolist())


if __name__ == "__main__":
    main()
