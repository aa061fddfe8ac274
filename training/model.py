"""medvlm-tiny: a small CLIP-style dual encoder (ResNet-ish CNN image tower, 3-layer text transformer)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Config:
    vocab_size: int = 2782
    max_len: int = 64
    text_width: int = 128
    text_layers: int = 3
    text_heads: int = 4
    text_ff: int = 512
    image_size: int = 96
    widths: list = field(default_factory=lambda: [64, 128, 192])
    depths: list = field(default_factory=lambda: [2, 2, 1])
    proj_dim: int = 128
    init_logit_scale: float = math.log(1 / 0.07)

    def to_dict(self):
        return asdict(self)


class Block(nn.Module):
    """Basic residual block: conv3x3-BN-ReLU-conv3x3-BN + identity, ReLU."""

    def __init__(self, c):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(c)
        self.c2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(c)
        nn.init.zeros_(self.b2.weight)

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        return F.relu(x + self.b2(self.c2(y)))


class ImageEncoder(nn.Module):
    """Stem conv 4x4 stride 4 (96 -> 24), three stages (24, 12, 6), mean pool, linear projection."""

    def __init__(self, cfg: Config):
        super().__init__()
        w = cfg.widths
        layers = [nn.Conv2d(3, w[0], 4, stride=4, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU()]
        for i, (c, d) in enumerate(zip(w, cfg.depths)):
            if i > 0:
                layers += [nn.Conv2d(w[i - 1], c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
            layers += [Block(c) for _ in range(d)]
        self.body = nn.Sequential(*layers)
        self.proj = nn.Linear(w[-1], cfg.proj_dim, bias=False)

    def forward(self, pixel_values):
        x = self.body(pixel_values)  # [B, C, 6, 6]
        hidden = x.flatten(2).transpose(1, 2)  # [B, 36, C]
        emb = self.proj(hidden.mean(dim=1))
        return emb, hidden


class TextLayer(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        d = cfg.text_width
        self.heads = cfg.text_heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, cfg.text_ff)
        self.fc2 = nn.Linear(cfg.text_ff, d)

    def forward(self, x, bias):
        b, n, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).reshape(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d // h)) + bias
        y = torch.matmul(att.softmax(dim=-1), v).transpose(1, 2).reshape(b, n, d)
        x = x + self.out(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TextEncoder(nn.Module):
    """Pre-LN transformer; pooling = mean over attention-mask positions; linear projection."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.tok = nn.Embedding(cfg.vocab_size, cfg.text_width)
        self.pos = nn.Parameter(torch.randn(cfg.max_len, cfg.text_width) * 0.01)
        self.layers = nn.ModuleList([TextLayer(cfg) for _ in range(cfg.text_layers)])
        self.ln = nn.LayerNorm(cfg.text_width)
        self.proj = nn.Linear(cfg.text_width, cfg.proj_dim, bias=False)
        nn.init.normal_(self.tok.weight, std=0.02)

    def forward(self, input_ids, attention_mask):
        n = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos[:n]
        m = attention_mask.to(x.dtype)
        bias = ((1.0 - m) * -1e4)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        x = self.ln(x)
        pooled = (x * m[:, :, None]).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)
        return self.proj(pooled), x


class DualEncoder(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.vision = ImageEncoder(cfg)
        self.text = TextEncoder(cfg)
        self.logit_scale = nn.Parameter(torch.tensor(cfg.init_logit_scale))

    def encode_image(self, pixel_values):
        return F.normalize(self.vision(pixel_values)[0], dim=-1)

    def encode_text(self, input_ids, attention_mask):
        return F.normalize(self.text(input_ids, attention_mask)[0], dim=-1)


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())
