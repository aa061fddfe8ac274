"""PyTorch reference of PMC-CLIP, written from the upstream module structure (pmc_clip/model/blocks.py
ModifiedResNet with Bottleneck blocks and AttentionPool2d over F.multi_head_attention_forward;
pmc_clip.py: a Hugging Face BertModel with pooler as text_encoder, text_projection, and the
training-only fusion_module, mlm_projection, img_special_token, positional_embedding, ln_final).
The text tower runs as upstream encode_text does: ids padded to the context length, BertModel called
without an attention mask, the hidden state at the [CLS] position times text_projection.

usage:
  reference_pmc.py make OUT_DIR CONFIG_JSON     checkpoint.pt = {"state_dict": {"module." + key}, "optimizer": ..., "epoch": ...}
  reference_pmc.py run  SRC_DIR PIXELS.f32 N IDS.json OUT.json     (also "image_8_heads": the same weights with 8 pool heads)
"""
import json
import time
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_biomedclip import BertEmbeddings, BertEncoder, randomise  # noqa: E402
from reference_clip import Transformer  # noqa: E402

torch.set_num_threads(max(1, int(os.environ.get("REF_THREADS", "1"))))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride > 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(OrderedDict([("-1", nn.AvgPool2d(stride)), ("0", nn.Conv2d(inplanes, planes * 4, 1, stride=1, bias=False)), ("1", nn.BatchNorm2d(planes * 4))]))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(self.avgpool(out)))
        identity = self.downsample(x) if self.downsample is not None else x
        return F.relu(out + identity)


class AttentionPool2d(nn.Module):
    def __init__(self, spacial_dim, embed_dim, num_heads, output_dim):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(spacial_dim ** 2 + 1, embed_dim) / embed_dim ** 0.5)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.c_proj = nn.Linear(embed_dim, output_dim)
        self.num_heads = num_heads

    def forward(self, x):
        x = x.reshape(x.shape[0], x.shape[1], x.shape[2] * x.shape[3]).permute(2, 0, 1)
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0)
        x = x + self.positional_embedding[:, None, :]
        x, _ = F.multi_head_attention_forward(
            query=x, key=x, value=x, embed_dim_to_check=x.shape[-1], num_heads=self.num_heads,
            q_proj_weight=self.q_proj.weight, k_proj_weight=self.k_proj.weight, v_proj_weight=self.v_proj.weight,
            in_proj_weight=None, in_proj_bias=torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]),
            bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0, out_proj_weight=self.c_proj.weight,
            out_proj_bias=self.c_proj.bias, use_separate_proj_weight=True, training=False, need_weights=False)
        return x[0]


class ModifiedResNet(nn.Module):
    def __init__(self, layers, output_dim, heads, image_size, width):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width // 2, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.conv2 = nn.Conv2d(width // 2, width // 2, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.conv3 = nn.Conv2d(width // 2, width, kernel_size=3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.avgpool = nn.AvgPool2d(2)
        self._inplanes = width
        self.layer1 = self._make_layer(width, layers[0])
        self.layer2 = self._make_layer(width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(width * 8, layers[3], stride=2)
        self.attnpool = AttentionPool2d(image_size // 32, width * 32, heads, output_dim)

    def _make_layer(self, planes, blocks, stride=1):
        layers = [Bottleneck(self._inplanes, planes, stride)]
        self._inplanes = planes * 4
        layers += [Bottleneck(self._inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.avgpool(F.relu(self.bn3(self.conv3(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return {"image_features": self.attnpool(x), "mim_loss": None}


class BertPooler(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)


class BertModel(nn.Module):
    """Hugging Face BertModel with its pooler (AutoModel.from_pretrained default)."""

    def __init__(self, t):
        super().__init__()
        self.embeddings = BertEmbeddings(t["vocab"], t["width"], t["positions"])
        self.encoder = BertEncoder(t["width"], t["layers"], t["width"] // 64, t["mlp"])
        self.pooler = BertPooler(t["width"])

    def forward(self, ids):
        mask = torch.ones_like(ids)  # upstream passes no attention_mask: BertModel attends to every position
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        return self.encoder(self.embeddings(ids), ext)


class PMC_CLIP(nn.Module):
    def __init__(self, cfg, heads=32):
        super().__init__()
        v, t = cfg["vision"], cfg["text"]
        self.cls_id = cfg["cls_id"]
        self.visual = ModifiedResNet(v["layers"], cfg["embed_dim"], heads, v["image"], v["width"])
        self.text_encoder = BertModel(t)
        self.positional_embedding = nn.Parameter(torch.empty(cfg["context_length"], t["width"]))
        self.ln_final = nn.LayerNorm(t["width"])
        self.text_projection = nn.Parameter(torch.empty(t["width"], cfg["embed_dim"]))
        self.mlm_projection = nn.Parameter(torch.empty(t["width"], t["vocab"]))
        self.logit_scale = nn.Parameter(torch.ones([]) * np.log(1 / 0.07))
        self.img_special_token = nn.Parameter(torch.zeros(1, 1, cfg["embed_dim"]))
        self.fusion_module = Transformer(t["width"], 1, t["width"] // 64, nn.GELU)

    def encode_text(self, ids):
        x = self.text_encoder(ids)
        last_token_index = torch.nonzero(ids == self.cls_id)
        return x[torch.arange(x.shape[0]), last_token_index[:, 1]] @ self.text_projection


def make(out, cfg):
    os.makedirs(out, exist_ok=True)
    model = PMC_CLIP(cfg)
    randomise(model, cfg.get("seed", 0))
    g = torch.Generator().manual_seed(cfg.get("seed", 0) + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + 0.1 * torch.randn(m.weight.shape, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
                m.num_batches_tracked.fill_(1000)
    sd = model.state_dict()
    PMC_CLIP(cfg).load_state_dict(sd, strict=True)
    # A training checkpoint as upstream saves it: DDP prefixes, optimizer state, epoch.
    opt = torch.optim.AdamW([model.text_projection, model.logit_scale], lr=1e-4)
    (model.text_projection.sum() + model.logit_scale).backward()
    opt.step()
    model.text_projection.data.copy_(sd["text_projection"])  # keep the saved weights those of sd
    torch.save({"epoch": 100, "name": "pmc_clip", "state_dict": OrderedDict(("module." + k, v) for k, v in sd.items()), "optimizer": opt.state_dict()},
               os.path.join(out, "checkpoint.pt"))
    json.dump(cfg, open(os.path.join(out, "reference_config.json"), "w"))


def run(src, pixels_path, n, ids_path, out_path):
    cfg = json.load(open(os.path.join(src, "reference_config.json")))
    sd = torch.load(os.path.join(src, "checkpoint.pt"), map_location="cpu")["state_dict"]
    sd = {k[len("module."):]: v for k, v in sd.items()}
    model, model8 = PMC_CLIP(cfg), PMC_CLIP(cfg, heads=8)
    model.load_state_dict(sd, strict=True)
    model8.load_state_dict(sd, strict=True)
    model.eval()
    model8.eval()
    s = cfg["vision"]["image"]
    pixels = torch.from_numpy(np.fromfile(pixels_path, dtype="float32").reshape(int(n), 3, s, s))
    ids = json.load(open(ids_path))
    ctx, pad = cfg["context_length"], cfg.get("pad_id", 0)
    batch = torch.full((len(ids), ctx), pad, dtype=torch.long)
    for i, row in enumerate(ids):
        if len(row) > ctx:
            row = row[: ctx - 1] + row[-1:]
        batch[i, : len(row)] = torch.tensor(row)
    with torch.no_grad():
        if int(n):
            model.visual(pixels[:1])  # warm-up, not timed
        t0, c0 = time.perf_counter(), time.process_time()
        img = model.visual(pixels)["image_features"]
        image_seconds, image_cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        img8 = model8.visual(pixels)["image_features"]
        txt = model.encode_text(batch)
    json.dump({"image_seconds": image_seconds, "image_cpu_seconds": image_cpu_seconds, "threads": torch.get_num_threads(), "image": img.tolist(), "image_8_heads": img8.tolist(), "text": txt.tolist(), "logit_scale": math.exp(float(model.logit_scale))}, open(out_path, "w"))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], json.loads(sys.argv[3]))
    else:
        run(*sys.argv[2:7])
