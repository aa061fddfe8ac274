"""PyTorch reference of BiomedCLIP's architecture, written from the upstream module structure
(open_clip CLIP with a TimmModel image tower around timm's VisionTransformer, and an
HFTextEncoder around Hugging Face's BertModel without pooler, MLP projection,
cls_last_hidden_state_pooler), so that a state dict with the upstream key names loads strictly.

usage:
  reference_biomedclip.py make OUT_DIR CONFIG_JSON       random-initialised checkpoint in the open_clip release layout
  reference_biomedclip.py run  SRC_DIR PIXELS.f32 N IDS.json OUT.json
      image embeddings of N pixel tensors [N,3,S,S] (raw float32) and text embeddings of id lists
      (padded to the context length with the pad id, mask = ids != pad, as open_clip does), plus the
      patch features (every patch token through the final norm and the projection) of the first 4 images.
"""
import json
import time
import math
import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(max(1, int(os.environ.get("REF_THREADS", "1"))))


# ---- timm VisionTransformer (vit_base_patch16_224 layout) ----
class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch, bias=True)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class TimmAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.num_heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = TimmAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """timm ViT with global_pool='token', no fc_norm, head reset to Identity (no keys)."""

    def __init__(self, image, patch, dim, depth, heads, mlp):
        super().__init__()
        self.patch_embed = PatchEmbed(patch, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def tokens(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.norm(self.blocks(x))

    def forward(self, x):
        return self.tokens(x)[:, 0]


class TimmModel(nn.Module):
    def __init__(self, cfg, embed_dim):
        super().__init__()
        self.trunk = VisionTransformer(cfg["image"], cfg["patch"], cfg["width"], cfg["layers"], cfg["width"] // 64, cfg["mlp"])
        self.head = nn.Sequential(OrderedDict([("drop", nn.Dropout(0.0)), ("proj", nn.Linear(cfg["width"], embed_dim, bias=False))]))

    def forward(self, x):
        return self.head(self.trunk(x))

    def patches(self, x):
        """Every patch token through timm's final norm and the head projection (dense features)."""
        return self.head(self.trunk.tokens(x)[:, 1:])


# ---- Hugging Face BertModel (add_pooling_layer=False) ----
class BertEmbeddings(nn.Module):
    def __init__(self, vocab, hidden, positions):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden, padding_idx=0)
        self.position_embeddings = nn.Embedding(positions, hidden)
        self.token_type_embeddings = nn.Embedding(2, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(0.0)
        self.register_buffer("position_ids", torch.arange(positions).expand((1, -1)))

    def forward(self, ids):
        pos = self.position_ids[:, : ids.shape[1]]
        x = self.word_embeddings(ids) + self.token_type_embeddings(torch.zeros_like(ids)) + self.position_embeddings(pos)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.h, self.d = heads, hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, x, ext_mask):
        b, n, _ = x.shape
        split = lambda t: t.view(b, n, self.h, self.d).permute(0, 2, 1, 3)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d) + ext_mask
        return (scores.softmax(-1) @ v).permute(0, 2, 1, 3).reshape(b, n, self.h * self.d)


class BertSelfOutput(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, h, x):
        return self.LayerNorm(self.dense(h) + x)


class BertAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.self = BertSelfAttention(hidden, heads)
        self.output = BertSelfOutput(hidden)

    def forward(self, x, m):
        return self.output(self.self(x, m), x)


class BertIntermediate(nn.Module):
    def __init__(self, hidden, inter):
        super().__init__()
        self.dense = nn.Linear(hidden, inter)

    def forward(self, x):
        return F.gelu(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, hidden, inter):
        super().__init__()
        self.dense = nn.Linear(inter, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, h, x):
        return self.LayerNorm(self.dense(h) + x)


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, inter):
        super().__init__()
        self.attention = BertAttention(hidden, heads)
        self.intermediate = BertIntermediate(hidden, inter)
        self.output = BertOutput(hidden, inter)

    def forward(self, x, m):
        a = self.attention(x, m)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, hidden, layers, heads, inter):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(hidden, heads, inter) for _ in range(layers)])

    def forward(self, x, m):
        for layer in self.layer:
            x = layer(x, m)
        return x


class BertModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = BertEmbeddings(cfg["vocab"], cfg["width"], cfg["positions"])
        self.encoder = BertEncoder(cfg["width"], cfg["layers"], cfg["width"] // 64, cfg["mlp"])

    def forward(self, ids, mask):
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        return self.encoder(self.embeddings(ids), ext)


class HFTextEncoder(nn.Module):
    def __init__(self, cfg, embed_dim, pad_id):
        super().__init__()
        self.pad_id = pad_id
        self.transformer = BertModel(cfg)
        hidden = (cfg["width"] + embed_dim) // 2
        self.proj = nn.Sequential(nn.Linear(cfg["width"], hidden, bias=False), nn.GELU(), nn.Linear(hidden, embed_dim, bias=False))

    def forward(self, ids):
        mask = (ids != self.pad_id).long()
        return self.proj(self.transformer(ids, mask)[:, 0, :])  # cls_last_hidden_state_pooler


class CLIP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.visual = TimmModel(cfg["vision"], cfg["embed_dim"])
        self.text = HFTextEncoder(cfg["text"], cfg["embed_dim"], cfg.get("pad_id", 0))
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))


def randomise(model, seed):
    """Every parameter random (LayerNorm weights around 1), so that each one matters in parity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("logit_scale"):
                p.fill_(4.2 + 0.1 * torch.rand(1, generator=g).item())
            elif "norm" in name.lower() and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1 or "norm" in name.lower():
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            elif "embed" in name or "token" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))


def open_clip_config(cfg):
    return {
        "model_cfg": {
            "embed_dim": cfg["embed_dim"],
            "vision_cfg": {"timm_model_name": "vit_base_patch16_224", "timm_model_pretrained": False, "timm_pool": "", "timm_proj": "linear", "image_size": cfg["vision"]["image"]},
            "text_cfg": {"hf_model_name": "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract", "hf_tokenizer_name": "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract",
                         "hf_proj_type": "mlp", "hf_pooler_type": "cls_last_hidden_state_pooler", "context_length": cfg["context_length"]},
        },
        "preprocess_cfg": {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]},
    }


def make(out, cfg):
    os.makedirs(out, exist_ok=True)
    model = CLIP(cfg)
    randomise(model, cfg.get("seed", 0))
    sd = model.state_dict()
    check = CLIP(cfg)
    check.load_state_dict(sd, strict=True)  # the key names are the module structure's
    torch.save(sd, os.path.join(out, "open_clip_pytorch_model.bin"))
    json.dump(open_clip_config(cfg), open(os.path.join(out, "open_clip_config.json"), "w"), indent=2)
    json.dump(cfg, open(os.path.join(out, "reference_config.json"), "w"))
    print(json.dumps({"parameters": sum(p.numel() for p in model.parameters()), "logit_scale": float(model.logit_scale)}))


def load(src):
    cfg = json.load(open(os.path.join(src, "reference_config.json")))
    model = CLIP(cfg)
    model.load_state_dict(torch.load(os.path.join(src, "open_clip_pytorch_model.bin"), map_location="cpu"), strict=True)
    return model.eval(), cfg


def run(src, pixels_path, n, ids_path, out_path):
    model, cfg = load(src)
    s = cfg["vision"]["image"]
    pixels = torch.from_numpy(__import__("numpy").fromfile(pixels_path, dtype="float32").reshape(int(n), 3, s, s))
    ids = json.load(open(ids_path))
    ctx, pad = cfg["context_length"], cfg.get("pad_id", 0)
    batch = torch.full((len(ids), ctx), pad, dtype=torch.long)
    for i, row in enumerate(ids):
        if len(row) > ctx:  # upstream tokenizers truncate the text and keep the end token
            row = row[: ctx - 1] + row[-1:]
        batch[i, : len(row)] = torch.tensor(row)
    with torch.no_grad():
        if int(n):
            model.visual(pixels[:1])  # warm-up, not timed
        t0, c0 = time.perf_counter(), time.process_time()
        img = model.visual(pixels) if int(n) else torch.zeros(0)
        image_seconds, image_cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        txt = model.text(batch) if ids else torch.zeros(0)
        patches = model.visual.patches(pixels[:4]) if int(n) else torch.zeros(0)
    json.dump({"image_seconds": image_seconds, "image_cpu_seconds": image_cpu_seconds, "threads": torch.get_num_threads(), "image": img.tolist(), "text": txt.tolist(),
               "patches": patches.tolist(), "logit_scale": math.exp(float(model.logit_scale))}, open(out_path, "w"))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], json.loads(sys.argv[3]))
    else:
        run(*sys.argv[2:7])
