"""PyTorch references of the other CLIP layouts the converter reads, each written from the upstream
module structure so that the upstream key names load strictly:

  unimed  UniMed-CLIP: open_clip VisualTransformer (QuickGELU, nn.MultiheadAttention blocks) +
          HFTextEncoder (BERT, MLP proj, [CLS]) under text_encoder.*; saved as a training checkpoint
          {"state_dict": {"module." + key: ...}, "epoch": ...} (.pt, zip).
  openai  OpenAI CLIP as open_clip builds it (ViT + causal text transformer, QuickGELU, pooled at
          argmax(ids) = end-of-text); saved as open_clip_model.safetensors + open_clip_config.json.
  hfclip  Hugging Face CLIPModel (PubMedCLIP): vision_model / text_model / projections; saved as
          pytorch_model.bin in the legacy (non-zip) torch.save format + config.json.

usage:
  reference_clip.py make KIND OUT_DIR CONFIG_JSON
  reference_clip.py run  KIND SRC_DIR PIXELS.f32 N IDS.json OUT.json
"""
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_biomedclip import HFTextEncoder, randomise  # noqa: E402

torch.set_num_threads(1)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


# ---- open_clip / OpenAI CLIP modules ----
class ResidualAttentionBlock(nn.Module):
    def __init__(self, d, heads, act):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads)
        self.ln_1 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(OrderedDict([("c_fc", nn.Linear(d, d * 4)), ("gelu", act()), ("c_proj", nn.Linear(d * 4, d))]))
        self.ln_2 = nn.LayerNorm(d)

    def forward(self, x, attn_mask=None):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=attn_mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, act):
        super().__init__()
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(width, heads, act) for _ in range(layers)])

    def forward(self, x, attn_mask=None):
        for r in self.resblocks:
            x = r(x, attn_mask)
        return x


class VisualTransformer(nn.Module):
    def __init__(self, image, patch, width, layers, out_dim, act):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(width))
        self.positional_embedding = nn.Parameter(torch.zeros((image // patch) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, width // 64, act)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.zeros(width, out_dim))

    def tokens(self, x):
        x = self.conv1(x).reshape(x.shape[0], self.conv1.out_channels, -1).permute(0, 2, 1)
        cls = self.class_embedding + torch.zeros(x.shape[0], 1, x.shape[-1])
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding)
        return self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)

    def forward(self, x):
        return self.ln_post(self.tokens(x)[:, 0, :]) @ self.proj

    def patches(self, x):
        """Dense features: every patch token through ln_post and the projection (MaskCLIP-style, no value trick)."""
        return self.ln_post(self.tokens(x)[:, 1:, :]) @ self.proj


class UniMedCLIP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        v = cfg["vision"]
        self.visual = VisualTransformer(v["image"], v["patch"], v["width"], v["layers"], cfg["embed_dim"], QuickGELU)
        self.text_encoder = HFTextEncoder(cfg["text"], cfg["embed_dim"], cfg.get("pad_id", 0))
        self.logit_scale = nn.Parameter(torch.ones([]) * np.log(1 / 0.07))

    def encode_text(self, ids):
        return self.text_encoder(ids)


class OpenAICLIP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        v, t = cfg["vision"], cfg["text"]
        self.context_length = t["positions"]
        self.visual = VisualTransformer(v["image"], v["patch"], v["width"], v["layers"], cfg["embed_dim"], QuickGELU)
        self.transformer = Transformer(t["width"], t["layers"], t["width"] // 64, QuickGELU)
        self.token_embedding = nn.Embedding(t["vocab"], t["width"])
        self.positional_embedding = nn.Parameter(torch.zeros(t["positions"], t["width"]))
        self.ln_final = nn.LayerNorm(t["width"])
        self.text_projection = nn.Parameter(torch.zeros(t["width"], cfg["embed_dim"]))
        self.logit_scale = nn.Parameter(torch.ones([]) * np.log(1 / 0.07))
        mask = torch.empty(self.context_length, self.context_length).fill_(float("-inf")).triu_(1)
        self.register_buffer("attn_mask", mask, persistent=False)

    def encode_text(self, text):
        x = self.token_embedding(text) + self.positional_embedding
        x = self.transformer(x.permute(1, 0, 2), attn_mask=self.attn_mask).permute(1, 0, 2)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection


# ---- Hugging Face CLIPModel ----
class CLIPAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.h, self.dh = heads, d // heads
        self.k_proj, self.v_proj, self.q_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, mask):
        b, n, d = x.shape
        split = lambda t: t.view(b, n, self.h, self.dh).transpose(1, 2)
        q, k, v = split(self.q_proj(x) * self.dh ** -0.5), split(self.k_proj(x)), split(self.v_proj(x))
        w = q @ k.transpose(-1, -2)
        if mask is not None:
            w = w + mask
        return self.out_proj((w.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d))


class CLIPMLP(nn.Module):
    def __init__(self, d, inter):
        super().__init__()
        self.activation_fn = QuickGELU()
        self.fc1, self.fc2 = nn.Linear(d, inter), nn.Linear(inter, d)

    def forward(self, x):
        return self.fc2(self.activation_fn(self.fc1(x)))


class CLIPEncoderLayer(nn.Module):
    def __init__(self, d, heads, inter):
        super().__init__()
        self.self_attn = CLIPAttention(d, heads)
        self.layer_norm1 = nn.LayerNorm(d)
        self.mlp = CLIPMLP(d, inter)
        self.layer_norm2 = nn.LayerNorm(d)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class CLIPEncoder(nn.Module):
    def __init__(self, d, layers, heads, inter):
        super().__init__()
        self.layers = nn.ModuleList([CLIPEncoderLayer(d, heads, inter) for _ in range(layers)])

    def forward(self, x, mask=None):
        for layer in self.layers:
            x = layer(x, mask)
        return x


class CLIPVisionEmbeddings(nn.Module):
    def __init__(self, image, patch, d):
        super().__init__()
        self.class_embedding = nn.Parameter(torch.zeros(d))
        self.patch_embedding = nn.Conv2d(3, d, kernel_size=patch, stride=patch, bias=False)
        n = (image // patch) ** 2 + 1
        self.position_embedding = nn.Embedding(n, d)
        self.register_buffer("position_ids", torch.arange(n).expand((1, -1)))

    def forward(self, px):
        x = self.patch_embedding(px).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(px.shape[0], 1, -1), x], dim=1)
        return x + self.position_embedding(self.position_ids)


class CLIPVisionTransformer(nn.Module):
    def __init__(self, v):
        super().__init__()
        self.embeddings = CLIPVisionEmbeddings(v["image"], v["patch"], v["width"])
        self.pre_layrnorm = nn.LayerNorm(v["width"])
        self.encoder = CLIPEncoder(v["width"], v["layers"], v["width"] // 64, v["width"] * 4)
        self.post_layernorm = nn.LayerNorm(v["width"])

    def forward(self, px):
        return self.post_layernorm(self.encoder(self.pre_layrnorm(self.embeddings(px)))[:, 0, :])

    def patch_tokens(self, px):
        return self.post_layernorm(self.encoder(self.pre_layrnorm(self.embeddings(px)))[:, 1:, :])


class CLIPTextEmbeddings(nn.Module):
    def __init__(self, vocab, positions, d):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d)
        self.position_embedding = nn.Embedding(positions, d)
        self.register_buffer("position_ids", torch.arange(positions).expand((1, -1)))

    def forward(self, ids):
        return self.token_embedding(ids) + self.position_embedding(self.position_ids[:, : ids.shape[1]])


class CLIPTextTransformer(nn.Module):
    def __init__(self, t, eos_id):
        super().__init__()
        self.eos_id = eos_id
        self.embeddings = CLIPTextEmbeddings(t["vocab"], t["positions"], t["width"])
        self.encoder = CLIPEncoder(t["width"], t["layers"], t["width"] // 64, t["width"] * 4)
        self.final_layer_norm = nn.LayerNorm(t["width"])

    def forward(self, ids, attention_mask):
        b, n = ids.shape
        big = torch.finfo(torch.float32).min
        causal = torch.full((n, n), big).triu(1)[None, None]
        pad = (1.0 - attention_mask[:, None, None, :].float()) * big
        x = self.final_layer_norm(self.encoder(self.embeddings(ids), causal + pad))
        # eos_token_id != 2: the first position holding the end-of-text id
        eos = (ids == self.eos_id).int().argmax(dim=-1)
        return x[torch.arange(b), eos]


class CLIPModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.text_model = CLIPTextTransformer(cfg["text"], cfg["eos_id"])
        self.vision_model = CLIPVisionTransformer(cfg["vision"])
        self.visual_projection = nn.Linear(cfg["vision"]["width"], cfg["embed_dim"], bias=False)
        self.text_projection = nn.Linear(cfg["text"]["width"], cfg["embed_dim"], bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(2.6592))


KINDS = {"unimed": UniMedCLIP, "openai": OpenAICLIP, "hfclip": CLIPModel}


def save_safetensors(sd, path):
    header, blobs, offset = {}, [], 0
    for k, v in sd.items():
        raw = v.contiguous().reshape(-1).numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hb = json.dumps(header).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))


def make(kind, out, cfg):
    os.makedirs(out, exist_ok=True)
    model = KINDS[kind](cfg)
    randomise(model, cfg.get("seed", 0))
    sd = model.state_dict()
    KINDS[kind](cfg).load_state_dict(sd, strict=True)
    json.dump(cfg, open(os.path.join(out, "reference_config.json"), "w"))
    if kind == "unimed":
        torch.save({"epoch": 10, "state_dict": OrderedDict(("module." + k, v) for k, v in sd.items())}, os.path.join(out, "unimed_clip_vit_b16.pt"))
    elif kind == "openai":
        save_safetensors(sd, os.path.join(out, "open_clip_model.safetensors"))
        v, t = cfg["vision"], cfg["text"]
        json.dump({"model_cfg": {"embed_dim": cfg["embed_dim"], "quick_gelu": True,
                                 "vision_cfg": {"image_size": v["image"], "layers": v["layers"], "width": v["width"], "patch_size": v["patch"]},
                                 "text_cfg": {"context_length": t["positions"], "vocab_size": t["vocab"], "width": t["width"], "heads": t["width"] // 64, "layers": t["layers"]}},
                   "preprocess_cfg": {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]}},
                  open(os.path.join(out, "open_clip_config.json"), "w"))
    else:
        torch.save(sd, os.path.join(out, "pytorch_model.bin"), _use_new_zipfile_serialization=False)
        v, t = cfg["vision"], cfg["text"]
        json.dump({"model_type": "clip", "architectures": ["CLIPModel"], "projection_dim": cfg["embed_dim"],
                   "text_config": {"hidden_size": t["width"], "num_attention_heads": t["width"] // 64, "num_hidden_layers": t["layers"], "hidden_act": "quick_gelu",
                                   "layer_norm_eps": 1e-5, "vocab_size": t["vocab"], "max_position_embeddings": t["positions"], "eos_token_id": cfg["eos_id"]},
                   "vision_config": {"hidden_size": v["width"], "num_attention_heads": v["width"] // 64, "num_hidden_layers": v["layers"], "hidden_act": "quick_gelu",
                                     "layer_norm_eps": 1e-5, "image_size": v["image"], "patch_size": v["patch"]}},
                  open(os.path.join(out, "config.json"), "w"))
    print(json.dumps({"parameters": sum(p.numel() for p in model.parameters())}))


def run(kind, src, pixels_path, n, ids_path, out_path):
    cfg = json.load(open(os.path.join(src, "reference_config.json")))
    model = KINDS[kind](cfg)
    if kind == "unimed":
        sd = torch.load(os.path.join(src, "unimed_clip_vit_b16.pt"), map_location="cpu")["state_dict"]
        sd = {k[len("module."):]: v for k, v in sd.items()}
    elif kind == "openai":
        raw = open(os.path.join(src, "open_clip_model.safetensors"), "rb").read()
        hl = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8: 8 + hl])
        sd = {k: torch.from_numpy(np.frombuffer(raw[8 + hl + h["data_offsets"][0]: 8 + hl + h["data_offsets"][1]], dtype="<f4").reshape(h["shape"]).copy())
              for k, h in header.items() if k != "__metadata__"}
    else:
        sd = torch.load(os.path.join(src, "pytorch_model.bin"), map_location="cpu")
    model.load_state_dict(sd, strict=True)
    model.eval()
    s = cfg["vision"]["image"]
    pixels = torch.from_numpy(np.fromfile(pixels_path, dtype="float32").reshape(int(n), 3, s, s))
    ids = json.load(open(ids_path))
    ctx, pad = cfg["context_length"], cfg.get("pad_id", 0)
    batch = torch.full((len(ids), ctx), pad, dtype=torch.long)
    for i, row in enumerate(ids):
        if len(row) > ctx:  # upstream tokenizers truncate the text and keep the end token
            row = row[: ctx - 1] + row[-1:]
        batch[i, : len(row)] = torch.tensor(row)
    with torch.no_grad():
        if kind == "hfclip":
            img = model.visual_projection(model.vision_model(pixels))
            txt = model.text_projection(model.text_model(batch, (batch != pad).long()))
            patches = model.visual_projection(model.vision_model.patch_tokens(pixels[:4]))
        else:
            img = model.visual(pixels)
            txt = model.encode_text(batch)
            patches = model.visual.patches(pixels[:4])
    json.dump({"image": img.tolist(), "text": txt.tolist(), "patches": patches.tolist(), "logit_scale": math.exp(float(model.logit_scale))}, open(out_path, "w"))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
    else:
        run(*sys.argv[2:8])
