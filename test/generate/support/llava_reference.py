"""Independent PyTorch reference for the tiny LLaVA built by llava-builder.ts.

Weights come from the ONNX initializers; the maths is re-written in torch: vision tower and
projector, token embeddings with the image features put in place of the image tokens (in order),
causal language model with learned positions. Greedy decoding recomputes the whole sequence at
each step (no key/value cache).

usage: /usr/bin/python3 llava_reference.py MODEL_DIR REQUEST_JSON
REQUEST_JSON: {"rgb": path, "height": H, "width": W, "eos": id,
               "requests": [{"input_ids": [...], "max_new_tokens": N}]}
prints {"results": [{"ids": [...], "min_margin": m}]}
"""
import json
import math
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def load(path):
    return {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(path).graph.initializer}


def ln(x, w, p):
    return F.layer_norm(x, (x.shape[-1],), w[p + ".weight"], w[p + ".bias"], eps=1e-5)


def lin(x, w, p):
    return x @ w[p + ".weight"] + w[p + ".bias"]


def heads(x, h):
    b, t, d = x.shape
    return x.view(b, t, h, d // h).transpose(1, 2)


def attn(x, w, p, h, mask=None):
    q, k, v = (heads(lin(x, w, f"{p}.{m}"), h) for m in "qkv")
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = s.masked_fill(mask, float("-inf"))
    c = torch.softmax(s, -1) @ v
    b, _, t, dh = c.shape
    return lin(c.transpose(1, 2).reshape(b, t, h * dh), w, p + ".o")


def ff(x, w, p):
    return lin(F.gelu(lin(x, w, p + ".fc1")), w, p + ".fc2")


def main():
    model_dir, req_path = sys.argv[1], sys.argv[2]
    req = json.load(open(req_path))
    cfg = json.load(open(f"{model_dir}/config.json"))
    pre = json.load(open(f"{model_dir}/preprocessor_config.json"))
    w = {}
    for name in ("vision_encoder", "embed_tokens", "decoder_model_merged"):
        w.update(load(f"{model_dir}/onnx/{name}.onnx"))
    rgb = np.fromfile(req["rgb"], dtype=np.uint8).reshape(req["height"], req["width"], 3).astype(np.float32)
    mean = np.array(pre["image_mean"], dtype=np.float32)
    std = np.array(pre["image_std"], dtype=np.float32)
    pixels = torch.from_numpy(np.ascontiguousarray(((rgb * np.float32(pre["rescale_factor"]) - mean) / std).transpose(2, 0, 1)[None]))
    heads_text = cfg["text_config"]["num_attention_heads"]
    image_token = cfg["image_token_index"]
    results = []
    with torch.no_grad():
        x = F.conv2d(pixels, w["vis.patch.weight"], w["vis.patch.bias"], stride=cfg["vision_config"]["patch_size"])
        x = x.flatten(2).transpose(1, 2) + w["vis.pos"]
        x = x + attn(ln(x, w, "vis.layers.0.ln1"), w, "vis.layers.0.attn", 2)
        x = x + ff(ln(x, w, "vis.layers.0.ln2"), w, "vis.layers.0.mlp")
        features = ff(ln(x, w, "vis.ln_f"), w, "proj")[0]
        for r in req["requests"]:
            ids = list(r["input_ids"])
            new, margins = [], []
            for _ in range(r["max_new_tokens"]):
                t = torch.tensor(ids)
                emb = w["lm.wte"][t].clone()
                slots = (t == image_token).nonzero().flatten()
                assert len(slots) == features.shape[0], (len(slots), features.shape)
                emb[slots] = features
                h = (emb + w["lm.wpe"][: len(ids)])[None]
                causal = torch.triu(torch.ones(len(ids), len(ids), dtype=torch.bool), 1)
                for i in range(cfg["text_config"]["num_hidden_layers"]):
                    p = f"lm.layers.{i}"
                    h = h + attn(ln(h, w, p + ".ln1"), w, p + ".self", heads_text, causal)
                    h = h + ff(ln(h, w, p + ".ln2"), w, p + ".mlp")
                logits = (ln(h, w, "lm.ln_f") @ w["lm.lm_head"])[0, -1]
                top = torch.topk(logits, 2)
                margins.append(float(top.values[0] - top.values[1]))
                nxt = int(top.indices[0])
                ids.append(nxt)
                new.append(nxt)
                if nxt == req["eos"]:
                    break
            results.append({"ids": new, "min_margin": min(margins)})
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
