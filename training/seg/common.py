"""medvlm-tiny-seg: shared paths, data access, splits, and the model (medvlm-tiny towers + a text-conditioned decoder).

The medvlm-tiny PyTorch checkpoint is not in the repo, so the image and text towers are rebuilt here and their
weights read from the ONNX initializers of models/medvlm-tiny/onnx/{vision,text}_model.onnx (BatchNorm is already
folded into the convolutions there, so the image tower is conv+bias). `check_encoder_parity` compares the rebuilt
towers with the ONNX files through onnxruntime-node.

The data folder comes from --data or MEDVLM_DATA (default ../shared/data next to the repo); every script fails with
a clear message when it is absent.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TINY_DIR = os.path.join(ROOT, "models", "medvlm-tiny")
SEG_DIR = os.path.join(ROOT, "models", "medvlm-tiny-seg")
BUSI_SPLIT = os.path.join(TINY_DIR, "splits", "busi.json")
KVASIR_SPLIT = os.path.join(ROOT, "datasets", "splits", "kvasir-seg.json")
OUT = os.environ.get("MEDVLM_SEG_OUT", "/tmp/medvlm-seg")

sys.path.append(os.path.join(ROOT, "training"))  # for tokenizer.py (after training/seg/)
import tokenizer as T  # noqa: E402

# Prompts: the canonical one per target (written to config.json) and the variants used in training.
PROMPTS = {"lesion": "breast lesion", "polyp": "polyp"}
PROMPT_VARIANTS = {
    "busi": ["breast lesion", "lesion", "a breast lesion", "breast mass", "a breast ultrasound image of a lesion",
             "the lesion", "breast tumor", "tumor"],
    "kvasir": ["polyp", "a polyp", "colon polyp", "a colonoscopy image of a polyp", "colorectal polyp",
               "the polyp", "lesion"],
}
# Prompts that name the *other* target: paired with an image of the wrong kind they must give an empty mask.
NEGATIVE_PROMPTS = {
    "busi": ["polyp", "a polyp", "colon polyp", "a colonoscopy image of a polyp"],
    "kvasir": ["breast lesion", "breast mass", "a breast ultrasound image of a lesion", "breast tumor"],
}


def data_root(arg: str | None = None) -> str:
    """The shared data folder from --data, MEDVLM_DATA, or ../shared/data; exits with a message when absent."""
    d = arg or os.environ.get("MEDVLM_DATA") or os.path.join(os.path.dirname(ROOT), "shared", "data")
    need = [os.path.join(d, "busi", "masks.csv"), os.path.join(d, "kvasir_seg", "images")]
    missing = [p for p in need if not os.path.exists(p)]
    if missing:
        sys.exit(f"medvlm-tiny-seg: data folder {d!r} is missing {missing}; pass --data DIR or set MEDVLM_DATA "
                 "to the folder holding busi/ (with masks/) and kvasir_seg/")
    return d


def splits() -> dict[str, dict[str, list[str]]]:
    """{'busi': {train,val,test: [names]}, 'kvasir': {...}} from the recorded split files."""
    with open(BUSI_SPLIT) as f:
        b = json.load(f)
    with open(KVASIR_SPLIT) as f:
        k = json.load(f)
    return {"busi": {s: b[s] for s in ("train", "val", "test")},
            "kvasir": {s: k[s] for s in ("train", "val", "test")}}


def image_path(data: str, ds: str, name: str) -> str:
    return os.path.join(data, "busi" if ds == "busi" else "kvasir_seg", "images", name)


def mask_path(data: str, ds: str, name: str) -> str:
    if ds == "busi":
        return os.path.join(data, "busi", "masks", name[:-4] + ".png")
    return os.path.join(data, "kvasir_seg", "masks", name)


def load_mask(path: str) -> np.ndarray:
    """Binary mask (bool) at its stored size; Kvasir JPEG masks thresholded at 128."""
    from PIL import Image

    return np.asarray(Image.open(path).convert("L")) >= 128


def norm_params() -> tuple[list[float], list[float]]:
    with open(os.path.join(TINY_DIR, "preprocessor_config.json")) as f:
        pc = json.load(f)
    return pc["image_mean"], pc["image_std"]


def to_pixel_values(u8: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 [B,3,H,W] -> float32: x*(1/255), then (x-mean)/std (the transformers.js order)."""
    mean, std = norm_params()
    x = torch.as_tensor(u8).float() * (1 / 255)
    m = torch.tensor(mean).view(1, 3, 1, 1)
    s = torch.tensor(std).view(1, 3, 1, 1)
    return (x - m) / s


def tokenizer() -> "T.WordPieceTokenizer":
    return T.WordPieceTokenizer.load(os.path.join(TINY_DIR, "tokenizer.json"))


# ------------------------------------------------------------------------------------------------ model
class ConvBlock(nn.Module):
    """medvlm-tiny residual block with BatchNorm folded: relu(x + conv(relu(conv(x))))."""

    def __init__(self, c):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return F.relu(x + self.c2(F.relu(self.c1(x))))


class ImageTower(nn.Module):
    """medvlm-tiny CNN (stem 4x4/4, widths 64/128/192); returns the three stage feature maps (S/4, S/8, S/16)."""

    def __init__(self, widths=(64, 128, 192), depths=(2, 2, 1), proj_dim=128):
        super().__init__()
        self.stem = nn.Conv2d(3, widths[0], 4, stride=4)
        self.down = nn.ModuleList([nn.Conv2d(widths[i - 1], widths[i], 3, stride=2, padding=1)
                                   for i in range(1, len(widths))])
        self.stages = nn.ModuleList([nn.Sequential(*[ConvBlock(c) for _ in range(d)]) for c, d in zip(widths, depths)])
        self.proj = nn.Linear(widths[-1], proj_dim, bias=False)

    def forward(self, x):
        feats = []
        x = F.relu(self.stem(x))
        for i, st in enumerate(self.stages):
            if i > 0:
                x = F.relu(self.down[i - 1](x))
            x = st(x)
            feats.append(x)
        return feats

    def embed(self, x):
        """Pooled, normalised image embedding (as medvlm-tiny's image_embeds)."""
        return F.normalize(self.proj(self.forward(x)[-1].mean(dim=(2, 3))), dim=-1)


class TextLayer(nn.Module):
    def __init__(self, d=128, heads=4, ff=512):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, ff), nn.Linear(ff, d)

    def forward(self, x, bias):
        b, n, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).reshape(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d // h)) + bias
        y = torch.matmul(att.softmax(dim=-1), v).transpose(1, 2).reshape(b, n, d)
        x = x + self.out(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TextTower(nn.Module):
    """medvlm-tiny text transformer: mean pooling over attention-mask positions, projection, L2 norm."""

    def __init__(self, vocab=2782, max_len=64, d=128, layers=3, proj_dim=128):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(max_len, d))
        self.layers = nn.ModuleList([TextLayer(d) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.proj = nn.Linear(d, proj_dim, bias=False)

    def forward(self, input_ids, attention_mask):
        n = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos[:n]
        m = attention_mask.to(x.dtype)
        bias = ((1.0 - m) * -1e4)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        x = self.ln(x)
        pooled = (x * m[:, :, None]).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)
        return F.normalize(self.proj(pooled), dim=-1)


def conv_bn(cin, cout, k=3, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Film(nn.Module):
    """Feature-wise affine modulation from the text embedding: x * (1 + g(t)) + b(t)."""

    def __init__(self, tdim, c):
        super().__init__()
        self.lin = nn.Linear(tdim, 2 * c)
        nn.init.zeros_(self.lin.weight)
        nn.init.zeros_(self.lin.bias)

    def forward(self, x, t):
        g, b = self.lin(t).chunk(2, dim=-1)
        return x * (1 + g[:, :, None, None]) + b[:, :, None, None]


class SegDecoder(nn.Module):
    """Light U-Net-style decoder over the tower's S/16, S/8, S/4 maps plus a S/2 skip from the image itself.

    Text enters twice: a cosine map between the projected S/16 patch features and the text embedding (the
    CLIP-space similarity), and FiLM on every decoder stage. Output: one logit channel at S/2.
    """

    def __init__(self, widths=(64, 128, 192), tdim=128, c=(96, 64, 48, 32), hi=16):
        super().__init__()
        self.l3 = conv_bn(widths[2] + 1, c[0], 1)
        self.f3 = Film(tdim, c[0])
        self.d3 = conv_bn(c[0], c[0])
        self.l2 = conv_bn(widths[1], c[1], 1)
        self.u3 = conv_bn(c[0], c[1], 1)
        self.f2 = Film(tdim, c[1])
        self.d2 = conv_bn(c[1], c[1])
        self.l1 = conv_bn(widths[0], c[2], 1)
        self.u2 = conv_bn(c[1], c[2], 1)
        self.f1 = Film(tdim, c[2])
        self.d1 = conv_bn(c[2], c[2])
        self.hi = nn.Sequential(conv_bn(3, hi, 3, stride=2), conv_bn(hi, hi))
        self.d0 = conv_bn(c[2] + hi, c[3])
        self.f0 = Film(tdim, c[3])
        self.head = nn.Conv2d(c[3], 1, 1)
        self.sim_scale = nn.Parameter(torch.tensor(10.0))

    def forward(self, pixel_values, feats, proj, t):
        f1, f2, f3 = feats
        dense = F.normalize(torch.einsum("bchw,dc->bdhw", f3, proj.weight), dim=1)
        sim = torch.einsum("bdhw,bd->bhw", dense, t)[:, None] * self.sim_scale
        x = self.d3(self.f3(self.l3(torch.cat([f3, sim], 1)), t))
        x = F.interpolate(self.u3(x), size=f2.shape[-2:], mode="bilinear", align_corners=False)
        x = self.d2(self.f2(x + self.l2(f2), t))
        x = F.interpolate(self.u2(x), size=f1.shape[-2:], mode="bilinear", align_corners=False)
        x = self.d1(self.f1(x + self.l1(f1), t))
        h = self.hi(pixel_values)
        x = F.interpolate(x, size=h.shape[-2:], mode="bilinear", align_corners=False)
        x = self.f0(self.d0(torch.cat([x, h], 1)), t)
        return self.head(x)


class TextSegmenter(nn.Module):
    """pixel_values [B,3,S,S], input_ids/attention_mask [B,L] -> logits [B,1,S/2,S/2]."""

    def __init__(self):
        super().__init__()
        self.vision = ImageTower()
        self.text = TextTower()
        self.decoder = SegDecoder()

    def forward(self, pixel_values, input_ids, attention_mask):
        t = self.text(input_ids, attention_mask)
        feats = self.vision(pixel_values)
        return self.decoder(pixel_values, feats, self.vision.proj, t)


# ------------------------------------------------------------------------------------------------ weights from ONNX
def _initializers(path: str) -> tuple[dict, list]:
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}, list(m.graph.node)


def load_tiny_weights(model: TextSegmenter) -> None:
    """Copy medvlm-tiny's weights from its ONNX initializers into the rebuilt towers (in graph order)."""
    inits, nodes = _initializers(os.path.join(TINY_DIR, "onnx", "vision_model.onnx"))
    convs = [n for n in nodes if n.op_type == "Conv"]
    mods = [model.vision.stem]
    for i, st in enumerate(model.vision.stages):
        if i > 0:
            mods.append(model.vision.down[i - 1])
        for blk in st:
            mods += [blk.c1, blk.c2]
    assert len(convs) == len(mods), (len(convs), len(mods))
    with torch.no_grad():
        for n, mod in zip(convs, mods):
            w, b = inits[n.input[1]], inits[n.input[2]]
            assert tuple(w.shape) == tuple(mod.weight.shape), (n.name, w.shape, mod.weight.shape)
            mod.weight.copy_(torch.from_numpy(w))
            mod.bias.copy_(torch.from_numpy(b))
        mm = [n for n in nodes if n.op_type == "MatMul"]
        model.vision.proj.weight.copy_(torch.from_numpy(inits[mm[0].input[1]].T.copy()))

    inits, nodes = _initializers(os.path.join(TINY_DIR, "onnx", "text_model.onnx"))
    tt = model.text
    with torch.no_grad():
        tt.tok.weight.copy_(torch.from_numpy(inits["m.text.tok.weight"]))
        tt.pos.copy_(torch.from_numpy(inits["m.text.pos"]))
        tt.ln.weight.copy_(torch.from_numpy(inits["m.text.ln.weight"]))
        tt.ln.bias.copy_(torch.from_numpy(inits["m.text.ln.bias"]))
        # MatMul weights in graph order: per layer qkv, out, fc1, fc2; then the projection.
        mm = [inits[n.input[1]] for n in nodes if n.op_type == "MatMul" and n.input[1] in inits]
        assert len(mm) == 4 * len(tt.layers) + 1, len(mm)
        for i, layer in enumerate(tt.layers):
            p = f"m.text.layers.{i}."
            for nm in ("ln1", "ln2"):
                getattr(layer, nm).weight.copy_(torch.from_numpy(inits[p + nm + ".weight"]))
                getattr(layer, nm).bias.copy_(torch.from_numpy(inits[p + nm + ".bias"]))
            for j, nm in enumerate(("qkv", "out", "fc1", "fc2")):
                lin = getattr(layer, nm)
                w = mm[4 * i + j].T
                assert tuple(w.shape) == tuple(lin.weight.shape), (nm, w.shape)
                lin.weight.copy_(torch.from_numpy(w.copy()))
                lin.bias.copy_(torch.from_numpy(inits[p + nm + ".bias"]))
        tt.proj.weight.copy_(torch.from_numpy(mm[-1].T.copy()))


def run_onnx_node(model_path: str, feeds: dict[str, np.ndarray], workdir: str) -> dict[str, np.ndarray]:
    """Run an ONNX file through onnxruntime-node (training/run_onnx.mjs) and return its outputs as arrays."""
    os.makedirs(workdir, exist_ok=True)
    spec = {k: {"type": "int64" if v.dtype == np.int64 else "float32", "dims": list(v.shape),
                "data": v.flatten().tolist()} for k, v in feeds.items()}
    fin, fout = os.path.join(workdir, "feeds.json"), os.path.join(workdir, "out.json")
    with open(fin, "w") as f:
        json.dump(spec, f)
    subprocess.run(["node", os.path.join(ROOT, "training", "run_onnx.mjs"), model_path, fin, fout], check=True,
                   cwd=ROOT)
    with open(fout) as f:
        got = json.load(f)
    return {k: np.array(v["data"], dtype=np.float32).reshape(v["dims"]) for k, v in got.items()}


def check_encoder_parity(model: TextSegmenter, u8: np.ndarray) -> dict:
    """Rebuilt towers vs medvlm-tiny's ONNX files (onnxruntime-node) on the given 96 px images and fixed texts."""
    tok = tokenizer()
    ids, mask = tok.batch(["breast lesion", "a colonoscopy image of a polyp", "an MR image of the head"])
    ids, mask = np.array(ids, dtype=np.int64), np.array(mask, dtype=np.int64)
    px = to_pixel_values(u8)
    with torch.no_grad():
        t = model.text(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
        i = model.vision.embed(px).numpy()
    ot = run_onnx_node(os.path.join(TINY_DIR, "onnx", "text_model.onnx"), {"input_ids": ids, "attention_mask": mask},
                       os.path.join(OUT, "parity-tiny"))
    oi = run_onnx_node(os.path.join(TINY_DIR, "onnx", "vision_model.onnx"), {"pixel_values": px.numpy()},
                       os.path.join(OUT, "parity-tiny"))
    return {"text_embeds_max_abs_diff": float(np.abs(ot["text_embeds"] - t).max()),
            "image_embeds_max_abs_diff": float(np.abs(oi["image_embeds"] - i).max())}
