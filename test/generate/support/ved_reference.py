"""Independent PyTorch reference for the tiny vision-encoder-decoder built by ved-builder.ts.

Reads the weights from the ONNX initializers (onnx.numpy_helper) and re-implements the maths in
torch (no ONNX Runtime, no transformers.js): ViT-like encoder, GPT-2-like decoder with causal
self-attention and cross-attention. Greedy decoding recomputes the whole sequence at each step
(no key/value cache), so it also checks the cache handling of the ONNX decoder.

usage: /usr/bin/python3 ved_reference.py MODEL_DIR REQUEST_JSON
REQUEST_JSON: {"rgb": "path to raw uint8 HxWx3", "height": H, "width": W,
               "requests": [{"decoder_input_ids": [...], "max_new_tokens": N}], "eos": id}
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


def load_weights(path):
    model = onnx.load(path)
    return {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}


def layer_norm(x, w, p):
    return F.layer_norm(x, (x.shape[-1],), w[p + ".weight"], w[p + ".bias"], eps=1e-5)


def linear(x, w, p):
    return x @ w[p + ".weight"] + w[p + ".bias"]


def split_heads(x, h):
    b, t, d = x.shape
    return x.view(b, t, h, d // h).transpose(1, 2)


def attention(q, k, v, w, p, h, mask=None):
    dh = q.shape[-1]
    scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    ctx = torch.softmax(scores, dim=-1) @ v
    b, _, t, _ = ctx.shape
    return linear(ctx.transpose(1, 2).reshape(b, t, h * dh), w, p + ".o")


def mlp(x, w, p):
    return linear(F.gelu(linear(x, w, p + ".fc1")), w, p + ".fc2")


def encode(pixels, w, cfg):
    x = F.conv2d(pixels, w["enc.patch.weight"], w["enc.patch.bias"], stride=cfg["patch_size"])
    x = x.flatten(2).transpose(1, 2) + w["enc.pos"]
    h = cfg["encoder_heads"]
    for i in range(cfg["encoder_layers"]):
        p = f"enc.layers.{i}"
        y = layer_norm(x, w, p + ".ln1")
        q, k, v = (split_heads(linear(y, w, f"{p}.attn.{m}"), h) for m in "qkv")
        x = x + attention(q, k, v, w, p + ".attn", h)
        x = x + mlp(layer_norm(x, w, p + ".ln2"), w, p + ".mlp")
    return layer_norm(x, w, "enc.ln_f")


def decode_logits(ids, enc, w, cfg):
    t = ids.shape[1]
    x = w["dec.wte"][ids] + w["dec.wpe"][:t]
    causal = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    h = cfg["decoder_heads"]
    for i in range(cfg["decoder_layers"]):
        p = f"dec.layers.{i}"
        y = layer_norm(x, w, p + ".ln1")
        q, k, v = (split_heads(linear(y, w, f"{p}.self.{m}"), h) for m in "qkv")
        x = x + attention(q, k, v, w, p + ".self", h, causal)
        y = layer_norm(x, w, p + ".lnx")
        q = split_heads(linear(y, w, p + ".cross.q"), h)
        k, v = (split_heads(linear(enc, w, f"{p}.cross.{m}"), h) for m in "kv")
        x = x + attention(q, k, v, w, p + ".cross", h)
        x = x + mlp(layer_norm(x, w, p + ".ln2"), w, p + ".mlp")
    return layer_norm(x, w, "dec.ln_f") @ w["dec.lm_head"]


def main():
    model_dir, request_path = sys.argv[1], sys.argv[2]
    req = json.load(open(request_path))
    config = json.load(open(f"{model_dir}/config.json"))
    cfg = {
        "patch_size": config["encoder"]["patch_size"],
        "encoder_layers": config["encoder"]["num_hidden_layers"],
        "encoder_heads": config["encoder"]["num_attention_heads"],
        "decoder_layers": config["decoder"]["n_layer"],
        "decoder_heads": config["decoder"]["n_head"],
    }
    w = load_weights(f"{model_dir}/onnx/encoder_model.onnx")
    w.update(load_weights(f"{model_dir}/onnx/decoder_model_merged.onnx"))
    rgb = np.fromfile(req["rgb"], dtype=np.uint8).reshape(req["height"], req["width"], 3)
    pre = json.load(open(f"{model_dir}/preprocessor_config.json"))
    mean = np.array(pre["image_mean"], dtype=np.float32)
    std = np.array(pre["image_std"], dtype=np.float32)
    pixels = ((rgb.astype(np.float32) * np.float32(pre["rescale_factor"]) - mean) / std).transpose(2, 0, 1)[None]
    results = []
    with torch.no_grad():
        enc = encode(torch.from_numpy(np.ascontiguousarray(pixels)), w, cfg)
        for r in req["requests"]:
            ids = list(r["decoder_input_ids"])
            new, margins = [], []
            for _ in range(r["max_new_tokens"]):
                logits = decode_logits(torch.tensor([ids]), enc, w, cfg)[0, -1]
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
