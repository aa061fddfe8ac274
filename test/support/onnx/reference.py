#!/usr/bin/python3
"""Independent reference for the tiny CLIP/SigLIP test models.

Re-implements the architecture described in towers.ts in PyTorch (float64), reading the weights
from the ONNX files with onnx.numpy_helper, tokenizes with a from-scratch BERT basic tokenizer +
greedy WordPiece over tokenizer.json's vocabulary, and preprocesses the fixed 32x32 test image
with the mean/std of preprocessor_config.json (no resize is needed at the model's own size).

Usage: /usr/bin/python3 test/support/onnx/reference.py test/.models > test/models/reference-embeddings.json
"""
import json
import math
import sys
import unicodedata

import numpy as np
import onnx
import torch
from onnx import numpy_helper

TEXTS = ["a photo of a chest x-ray", "Brain MRI showing a tumour."]
IMAGE_SIZE = 32


def test_image(size=IMAGE_SIZE, height=None):
    """The deterministic RGB test image, shape (H, W, 3) uint8: must match test/models/fixtures.ts."""
    y, x, c = np.meshgrid(np.arange(height or size), np.arange(size), np.arange(3), indexing="ij")
    return ((x * 8 + y * 3 + c * 50 + x * y) % 256).astype(np.uint8)


def pil_resized(img, pre):
    """Hugging Face's Python processor steps with Pillow: shortest-edge or fixed-size resize, floor-centred crop."""
    from PIL import Image

    h, w = img.shape[:2]
    size = pre["size"]
    if "shortest_edge" in size:
        e = size["shortest_edge"]
        nw, nh = (e, int(e * h / w)) if w <= h else (int(e * w / h), e)
    else:
        nw, nh = size["width"], size["height"]
    out = np.asarray(Image.fromarray(img, "RGB").resize((nw, nh), pre.get("resample", 3)))
    if pre.get("do_center_crop"):
        ch, cw = pre["crop_size"]["height"], pre["crop_size"]["width"]
        top, left = (nh - ch) // 2, (nw - cw) // 2
        out = out[top : top + ch, left : left + cw]
    return out


def weights(path):
    model = onnx.load(path)
    return {t.name: torch.from_numpy(numpy_helper.to_array(t).astype(np.float64)) for t in model.graph.initializer}


def basic_tokens(text):
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    out = []
    for word in text.split():
        cur = ""
        for ch in word:
            if unicodedata.category(ch).startswith("P") or any(a <= ord(ch) <= b for a, b in ((33, 47), (58, 64), (91, 96), (123, 126))):
                if cur:
                    out.append(cur)
                out.append(ch)
                cur = ""
            else:
                cur += ch
        if cur:
            out.append(cur)
    return out


def wordpiece(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                pieces.append(vocab[piece])
                break
            end -= 1
        if end == start:
            return [vocab["[UNK]"]]
        start = end
    return pieces


def tokenize(text, vocab, max_len):
    ids = [vocab["[CLS]"]]
    for w in basic_tokens(text):
        ids += wordpiece(w, vocab)
    ids.append(vocab["[SEP]"])
    return ids[:max_len]


def layer_norm(x, w, prefix):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], w[prefix + ".weight"], w[prefix + ".bias"], eps=1e-5)


def encoder(x, w, prefix, layers, heads):
    b, s, d = x.shape
    dh = d // heads
    for i in range(layers):
        p = f"{prefix}.layers.{i}"
        h = layer_norm(x, w, p + ".ln1")

        def proj(m, t=h):
            return t @ w[f"{p}.attn.{m}.weight"] + w[f"{p}.attn.{m}.bias"]

        q = proj("q").reshape(b, s, heads, dh).transpose(1, 2)
        k = proj("k").reshape(b, s, heads, dh).transpose(1, 2)
        v = proj("v").reshape(b, s, heads, dh).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1)
        ctx = (att @ v).transpose(1, 2).reshape(b, s, d)
        x = x + ctx @ w[f"{p}.attn.o.weight"] + w[f"{p}.attn.o.bias"]
        h = layer_norm(x, w, p + ".ln2") @ w[f"{p}.mlp.fc1.weight"] + w[f"{p}.mlp.fc1.bias"]
        h = 0.5 * h * (1 + torch.erf(h / math.sqrt(2)))
        x = x + h @ w[f"{p}.mlp.fc2.weight"] + w[f"{p}.mlp.fc2.bias"]
    return x


def l2(x):
    return x / x.norm(dim=-1, keepdim=True)


def vision(pixels, w, family, cfg):
    p = cfg["patch_size"]
    x = torch.nn.functional.conv2d(pixels, w["vision.patch_embedding"], stride=p)
    x = x.flatten(2).transpose(1, 2)
    if family == "clip":
        cls = w["vision.class_embedding"].expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)
    x = x + w["vision.position_embedding"]
    if family == "clip":
        x = layer_norm(x, w, "vision.pre_ln")
    x = encoder(x, w, "vision", cfg["num_hidden_layers"], cfg["num_attention_heads"])
    if family == "clip":
        pooled = layer_norm(x[:, 0], w, "vision.post_ln")
    else:
        pooled = layer_norm(x, w, "vision.post_ln").mean(dim=1)
    return l2(pooled @ w["vision.projection"])


def text(ids, w, family, cfg):
    x = w["text.token_embedding"][torch.tensor(ids)] + w["text.position_embedding"][: len(ids)]
    x = encoder(x[None], w, "text", cfg["num_hidden_layers"], cfg["num_attention_heads"])
    h = layer_norm(x, w, "text.final_ln")[0]
    return l2(h[-1] @ w["text.projection"])


def reference(folder):
    config = json.load(open(f"{folder}/config.json"))
    family = config["model_type"]
    pre = json.load(open(f"{folder}/preprocessor_config.json"))
    vocab = json.load(open(f"{folder}/tokenizer.json"))["model"]["vocab"]
    max_len = json.load(open(f"{folder}/tokenizer_config.json"))["model_max_length"]
    wt = weights(f"{folder}/onnx/text_model.onnx")
    wv = weights(f"{folder}/onnx/vision_model.onnx")
    wj = weights(f"{folder}/onnx/model.onnx")

    def embed(u8):
        img = u8.astype(np.float64) / 255.0
        img = (img - np.array(pre["image_mean"])) / np.array(pre["image_std"])
        pixels = torch.from_numpy(img.transpose(2, 0, 1)[None].copy())
        return vision(pixels, wv, family, config["vision_config"])[0]

    image_embeds = embed(test_image())
    # a 48x40 image through the model's preprocessing (Pillow resize + crop), as medvlm computes it
    image_embeds_48x40 = embed(pil_resized(test_image(48, 40), pre))

    token_ids, text_embeds = [], []
    for t in TEXTS:
        ids = tokenize(t, vocab, max_len)
        token_ids.append(ids)
        # SigLIP pads to max length and pools the last position; CLIP pools the last real token.
        padded = ids + [vocab["[PAD]"]] * (max_len - len(ids)) if family == "siglip" else ids
        text_embeds.append(text(padded, wt, family, config["text_config"]))
    return {
        "family": family,
        "texts": TEXTS,
        "token_ids": token_ids,
        "image_embeds": image_embeds.tolist(),
        "image_embeds_48x40": image_embeds_48x40.tolist(),
        "text_embeds": [t.tolist() for t in text_embeds],
        "logit_scale": math.exp(float(wj["logit_scale"])),
        "logit_bias": float(wj["logit_bias"]),
    }


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "test/.models"
    out = {
        "generator": "test/support/onnx/reference.py (PyTorch %s, float64)" % torch.__version__,
        "image": "pixel (y, x, c) = (8x + 3y + 50c + xy) mod 256, 32x32 RGB",
        "models": {name: reference(f"{root}/{name}") for name in ["tiny-clip", "tiny-siglip"]},
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
