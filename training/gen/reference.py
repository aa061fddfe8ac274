"""Reference greedy token ids of medvlm-tiny-gen from the PyTorch checkpoint, for the TypeScript parity test
(test/generate/tiny-gen.test.ts runs the exported ONNX files through transformers.js and must give the same ids).

/usr/bin/python3 training/gen/reference.py --ckpt training/out/gen/run1/best.pt [--model models/medvlm-tiny-gen]
Pixels: every sample image is preprocessed by transformers.js' own processor (training/preprocess.mjs with the
model folder's preprocessor_config.json), then normalised here; decoding uses the model folder's
generation_config.json (no_repeat_ngram_size) exactly as transformers.js applies it.
Writes <model>/reference/greedy.json: per image and prompt the new ids, the text and the smallest top-1/top-2
logit margin along the way (how safe the comparison is from float differences).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess

import numpy as np
import torch
import torch.nn.functional as F

import common as C
from export import load_model

SAMPLES = ["vqarad-head-ct-1.jpg", "vqarad-chest-xray-1.jpg", "vqarad-abdomen-ct-1.jpg", "pneumoniamnist-test-0000-pneumonia.png"]
PROMPTS = ["", "is this a ct scan?", "what part of the body is shown?"]
MAX_NEW = 24


@torch.no_grad()
def margins(model, feats, prompt_ids, new_ids):
    """Smallest top-1 minus top-2 logit over the generated positions (full recompute, no cache)."""
    seq = prompt_ids + new_ids
    logits = model(torch.tensor([seq[:-1]]), feats)[0]
    m = float("inf")
    for j in range(len(prompt_ids) - 1, len(seq) - 1):
        top = torch.topk(logits[j], 2).values
        m = min(m, float(top[0] - top[1]))
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--model", default=os.path.join(C.ROOT, "models", "medvlm-tiny-gen"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    model = load_model(a.ckpt)
    tok = C.Tok()
    gen_cfg = json.load(open(os.path.join(a.model, "generation_config.json")))
    nr = int(gen_cfg.get("no_repeat_ngram_size", 0))
    paths = [os.path.join(C.ROOT, "samples", s) for s in SAMPLES]
    out_dir = os.path.join(a.model, "reference")
    os.makedirs(out_dir, exist_ok=True)
    lst, binp = os.path.join("/tmp", "medvlm-gen-ref.json"), os.path.join("/tmp", "medvlm-gen-ref.bin")
    json.dump(paths, open(lst, "w"))
    subprocess.run(["node", os.path.join(C.ROOT, "training", "preprocess.mjs"), os.path.abspath(a.model), lst, binp], check=True, cwd=C.ROOT)
    px = np.fromfile(binp, dtype=np.uint8).reshape(len(paths), 3, 96, 96)
    feats = C.image_features(px)
    items = []
    for k, s in enumerate(SAMPLES):
        f = torch.from_numpy(feats[k:k + 1])
        for p in PROMPTS:
            prompt_ids = [C.START] + (tok.ids(p) if p else [])
            new = C.greedy(model, f, [prompt_ids], MAX_NEW, nr)[0]
            items.append({"image": f"samples/{s}", "prompt": p, "ids": new, "text": C.decode(tok, new),
                          "min_margin": round(margins(model, f, prompt_ids, new), 4)})
    doc = {"what": "greedy new token ids of the PyTorch checkpoint (training/gen/reference.py)", "max_new_tokens": MAX_NEW,
           "no_repeat_ngram_size": nr, "items": items}
    with open(os.path.join(out_dir, "greedy.json"), "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    for it in items:
        print(it["image"], repr(it["prompt"]), it["min_margin"], it["text"][:100])


if __name__ == "__main__":
    main()
