"""medvlm-tiny-gen: shared pieces (image features from medvlm-tiny's tower, the decoder, training texts).

The image tower is medvlm-tiny's CNN, rebuilt in PyTorch from the initializers of
models/medvlm-tiny/onnx/vision_model.onnx (BatchNorm already folded into the convolutions) and kept frozen;
its 6x6x192 feature map (36 tokens) is computed once per image and cached. The trainable part of the encoder
is a learned position embedding and a LayerNorm on those 36 tokens; the decoder is GPT-2-like (pre-LN,
causal self-attention, cross-attention to the 36 image tokens, erf-GELU MLP, tied output embedding).

Texts (lower-cased by the WordPiece tokenizer of medvlm-tiny):
- report (empty prompt): "<plane> <modality> image of the <region>. <caption> <findings>" for MedPix,
  short label reports for BUSI and PneumoniaMNIST;
- question answering (prompt = the question, answer = a word or two): derived from MedPix metadata
  (modality, MR sequence, contrast, plane, body region, abnormality, finding keywords in caption/findings),
  BUSI labels and PneumoniaMNIST labels. VQA-RAD is never used here.
"""
from __future__ import annotations

import math
import os
import random
import re
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.dirname(HERE))
import data  # noqa: E402  (training/data.py)
from tokenizer import WordPieceTokenizer  # noqa: E402

ROOT = data.ROOT
TINY = os.path.join(ROOT, "models", "medvlm-tiny")
OUT = os.path.join(ROOT, "training", "out", "gen")
MEAN, STD = 0.35, 0.27
PAD, UNK, START, EOS = 0, 1, 2, 3
MAX_REPORT_TOKENS = 128


# ---------------------------------------------------------------- frozen image tower
class OnnxConvTower(nn.Module):
    """The Conv/Relu/Add part of vision_model.onnx, evaluated node by node with its own weights."""

    def __init__(self, path: str = os.path.join(TINY, "onnx", "vision_model.onnx")):
        super().__init__()
        import onnx
        from onnx import numpy_helper

        m = onnx.load(path)
        self.params = nn.ParameterDict()
        names = {}
        for i, init in enumerate(m.graph.initializer):
            key = f"w{i}"
            names[init.name] = key
            self.params[key] = nn.Parameter(torch.from_numpy(numpy_helper.to_array(init).copy()), requires_grad=False)
        self.nodes = []
        for n in m.graph.node:
            if n.op_type not in ("Conv", "Relu", "Add"):
                break
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            self.nodes.append((n.op_type, [names.get(x, x) for x in n.input], n.output[0], attrs))
        self.input_name = m.graph.input[0].name

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        env = {self.input_name: pixel_values}
        get = lambda k: self.params[k] if k in self.params else env[k]  # noqa: E731
        last = None
        for op, ins, out, at in self.nodes:
            if op == "Conv":
                p = at.get("pads", [0, 0, 0, 0])
                env[out] = F.conv2d(get(ins[0]), get(ins[1]), get(ins[2]), stride=tuple(at["strides"]), padding=(p[0], p[1]))
            elif op == "Relu":
                env[out] = F.relu(get(ins[0]))
            else:
                env[out] = get(ins[0]) + get(ins[1])
            last = out
        x = env[last]
        return x.flatten(2).transpose(1, 2)  # [B, 36, 192] = last_hidden_state


def normalise(px_uint8: np.ndarray) -> torch.Tensor:
    return (torch.from_numpy(px_uint8).float() / 255.0 - MEAN) / STD


@torch.no_grad()
def image_features(px_uint8: np.ndarray, batch: int = 128) -> np.ndarray:
    tower = OnnxConvTower().eval()
    out = []
    for i in range(0, len(px_uint8), batch):
        out.append(tower(normalise(px_uint8[i:i + batch])).numpy())
    return np.concatenate(out).astype(np.float32)


# ---------------------------------------------------------------- model
class Config:
    def __init__(self, vocab_size: int, width: int = 192, layers: int = 3, heads: int = 4, enc_width: int = 192,
                 enc_tokens: int = 36, max_positions: int = 192, dropout: float = 0.1):
        self.vocab_size, self.width, self.layers, self.heads = vocab_size, width, layers, heads
        self.enc_width, self.enc_tokens, self.max_positions, self.dropout = enc_width, enc_tokens, max_positions, dropout

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class DecoderLayer(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        d, e = c.width, c.enc_width
        self.h = c.heads
        self.ln1, self.lnx, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.sq, self.sk, self.sv, self.so = (nn.Linear(d, d) for _ in range(4))
        self.cq, self.co = nn.Linear(d, d), nn.Linear(d, d)
        self.ck, self.cv = nn.Linear(e, d), nn.Linear(e, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.drop = nn.Dropout(c.dropout)

    def _heads(self, x):
        b, t, d = x.shape
        return x.view(b, t, self.h, d // self.h).transpose(1, 2)

    def _attend(self, q, k, v, out, bias=None):
        dh = q.shape[-1]
        s = q @ k.transpose(-1, -2) / math.sqrt(dh)
        if bias is not None:
            s = s + bias
        ctx = s.softmax(-1) @ v
        b, h, t, _ = ctx.shape
        return out(ctx.transpose(1, 2).reshape(b, t, h * dh))

    def forward(self, x, enc, causal):
        h1 = self.ln1(x)
        x = x + self.drop(self._attend(self._heads(self.sq(h1)), self._heads(self.sk(h1)), self._heads(self.sv(h1)), self.so, causal))
        h2 = self.lnx(x)
        x = x + self.drop(self._attend(self._heads(self.cq(h2)), self._heads(self.ck(enc)), self._heads(self.cv(enc)), self.co))
        return x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)))))


class TinyGen(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.cfg = c
        self.enc_pos = nn.Parameter(torch.zeros(c.enc_tokens, c.enc_width))
        self.enc_ln = nn.LayerNorm(c.enc_width)
        self.wte = nn.Embedding(c.vocab_size, c.width)
        self.wpe = nn.Parameter(torch.randn(c.max_positions, c.width) * 0.01)
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c.layers))
        self.ln_f = nn.LayerNorm(c.width)
        self.drop = nn.Dropout(c.dropout)
        nn.init.normal_(self.wte.weight, std=0.02)

    def encode(self, feats: torch.Tensor) -> torch.Tensor:
        return self.enc_ln(feats + self.enc_pos)

    def forward(self, ids: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        enc = self.encode(feats)
        t = ids.shape[1]
        x = self.drop(self.wte(ids) + self.wpe[:t])
        causal = torch.triu(torch.full((t, t), -1e9), diagonal=1)
        for layer in self.layers:
            x = layer(x, enc, causal)
        return self.ln_f(x) @ self.wte.weight.t()


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


# ---------------------------------------------------------------- texts
REGION = {"Head": "head", "Thorax": "chest", "Abdomen": "abdomen", "Spine and Muscles": "spine and muscles",
          "Reproductive and Urinary System": "pelvis"}
MOD = {"CT": "ct", "MR": "mri"}
PLANES = {"Axial": "axial", "Coronal": "coronal", "Sagittal": "sagittal", "Transverse": "axial"}

FINDING_TERMS = {
    "mass": r"\bmass(es)?\b", "lesion": r"\blesions?\b", "fracture": r"\bfractures?\b",
    "hemorrhage": r"\b(hemorrhag\w*|haemorrhag\w*|bleed\w*|hematoma)\b", "edema": r"\b(o?edema\w*)\b",
    "effusion": r"\beffusions?\b", "pneumothorax": r"\bpneumothorax\b", "cyst": r"\bcyst(s|ic)?\b",
    "calcification": r"\bcalcifi\w+\b", "enhancement": r"\benhanc\w+\b", "hydrocephalus": r"\bhydrocephalus\b",
    "infarct": r"\binfarct\w*\b", "fluid": r"\bfluid\b", "free air": r"\b(free air|pneumoperitoneum)\b",
    "dilation": r"\b(dilat\w+|distended|distension)\b", "lymphadenopathy": r"\blymphadenopathy\b",
    "nodule": r"\bnodul\w*\b", "abscess": r"\babscess\w*\b", "tumor": r"\b(tumou?rs?|neoplasm|carcinoma|cancer)\b",
    "aneurysm": r"\baneurysm\w*\b", "atrophy": r"\batroph\w+\b", "herniation": r"\bherniat\w+\b",
    "stone": r"\b(stones?|calculi|calculus)\b", "midline shift": r"\bmidline shift\b", "obstruction": r"\bobstruct\w+\b",
    "thickening": r"\bthicken\w+\b", "air-fluid level": r"\bair[- ]fluid\b", "narrowing": r"\b(narrow\w*|stenosis)\b",
}
FINDING_Q = {
    "mass": ["is there a mass?", "is a mass present?", "is there a mass in the image?"],
    "lesion": ["is there a lesion?", "is a lesion present?"],
    "fracture": ["is there a fracture?", "is a fracture present?"],
    "hemorrhage": ["is there hemorrhage?", "is there bleeding?", "is there a hematoma?"],
    "edema": ["is there edema?"], "effusion": ["is there an effusion?", "is there a pleural effusion?"],
    "pneumothorax": ["is there a pneumothorax?"], "cyst": ["is there a cyst?", "is the lesion cystic?"],
    "calcification": ["are there calcifications?", "is there calcification?"],
    "enhancement": ["is there enhancement?", "is there contrast enhancement?"],
    "hydrocephalus": ["is there hydrocephalus?"], "infarct": ["is there an infarct?", "is there an infarction?"],
    "fluid": ["is there fluid?", "is free fluid present?"], "free air": ["is there free air?"],
    "dilation": ["is there dilation?", "is anything dilated?"], "lymphadenopathy": ["is there lymphadenopathy?"],
    "nodule": ["is there a nodule?"], "abscess": ["is there an abscess?"], "tumor": ["is there a tumor?"],
    "aneurysm": ["is there an aneurysm?"], "atrophy": ["is there atrophy?"], "herniation": ["is there herniation?"],
    "stone": ["is there a stone?", "are there stones?"], "midline shift": ["is there a midline shift?"],
    "obstruction": ["is there an obstruction?"], "thickening": ["is there wall thickening?"],
    "air-fluid level": ["is there an air-fluid level?"], "narrowing": ["is there narrowing?", "is there stenosis?"],
}


def _neg(text: str, m: re.Match) -> bool:
    before = text[max(0, m.start() - 20):m.start()]
    return bool(re.search(r"\b(no|without|absence of|negative for)\s+(\w+\s+)?$", before))


def finding_terms(text: str) -> set[str]:
    t = text.lower()
    found = set()
    for k, rx in FINDING_TERMS.items():
        ms = list(re.finditer(rx, t))
        if ms and any(not _neg(t, m) for m in ms):
            found.add(k)
    return found


def medpix_report(r: dict) -> str:
    plane = PLANES.get(r["plane"])
    head = f"{plane + ' ' if plane else ''}{MOD[r['type']]} image of the {REGION[r['location_category']]}."
    cap = data.clean_caption(r["caption"]) or ""
    fnd = " ".join((r.get("findings") or "").split())
    return " ".join(x for x in (head, cap, fnd) if x)


def mr_sequence(modality: str) -> str | None:
    m = modality.lower()
    if "flair" in m:
        return "flair"
    if "t2" in m and "t2*" not in m:
        return "t2 weighted"
    if "t1" in m:
        return "t1 weighted"
    if "dwi" in m or "diffusion" in m:
        return "diffusion weighted"
    return None


def contrast_of(modality: str) -> bool | None:
    m = modality.lower()
    if "noncontrast" in m:
        return False
    if "contrast" in m or "w/gd" in m or "gadolinium" in m:
        return True
    return None


def yn(b: bool) -> str:
    return "yes" if b else "no"


MODALITY_WHAT = ["what is the modality?", "what imaging modality was used?", "what type of imaging is this?",
                 "what kind of scan is this?", "how was this image taken?", "what modality is shown?"]
MODALITY_YN = {
    "ct": ["is this a ct scan?", "is this a ct?", "was this image taken with ct?", "is this a ct image?"],
    "mri": ["is this an mri?", "is this an mri scan?", "was this taken with mri?", "is this a mr image?"],
    "x-ray": ["is this an x-ray?", "is this a radiograph?", "is this a plain film?"],
    "ultrasound": ["is this an ultrasound?", "is this a sonogram?"],
}
REGION_WHAT = ["what part of the body is shown?", "what body region is this?", "which part of the body is imaged?",
               "where in the body is this?", "what organ system is shown?"]
REGION_YN = {
    "head": ["is this an image of the head?", "is the head shown?", "is this a head scan?"],
    "chest": ["is this an image of the chest?", "is the chest shown?", "is this a chest image?"],
    "abdomen": ["is this an image of the abdomen?", "is the abdomen shown?", "is this an abdominal image?"],
    "spine and muscles": ["is the spine shown?", "is this an image of the spine?"],
    "pelvis": ["is the pelvis shown?", "is this an image of the pelvis?"],
    "breast": ["is the breast shown?", "is this a breast image?"],
}
PLANE_WHAT = ["what plane is this?", "in which plane is this image taken?", "what is the plane of this image?",
              "what imaging plane is shown?"]
PLANE_YN = {"axial": ["is this an axial image?", "is this an axial section?", "was this taken in the axial plane?"],
            "coronal": ["is this a coronal image?", "is this a coronal section?", "was this taken in the coronal plane?"],
            "sagittal": ["is this a sagittal image?", "is this a sagittal section?", "was this taken in the sagittal plane?"]}


def _or(rng: random.Random, truth: str, options: list[str], template: str) -> tuple[str, str]:
    other = rng.choice([o for o in options if o != truth])
    a, b = (truth, other) if rng.random() < 0.5 else (other, truth)
    return template.format(a=a, b=b), truth


def _modality_qa(rng: random.Random, mod: str) -> tuple[str, str]:
    k = rng.random()
    if k < 0.35:
        return rng.choice(MODALITY_WHAT), mod
    if k < 0.8:
        asked = mod if rng.random() < 0.5 else rng.choice([m for m in MODALITY_YN if m != mod])
        return rng.choice(MODALITY_YN[asked]), yn(asked == mod)
    return _or(rng, mod, list(MODALITY_YN), rng.choice(["is this a {a} or a {b}?", "was this taken with {a} or {b}?"]))


def _region_qa(rng: random.Random, region: str, regions: list[str]) -> tuple[str, str]:
    k = rng.random()
    if k < 0.4:
        return rng.choice(REGION_WHAT), region
    asked = region if rng.random() < 0.5 else rng.choice([x for x in regions if x != region])
    return rng.choice(REGION_YN[asked]), yn(asked == region)


def medpix_qa(rng: random.Random, r: dict, terms: set[str]) -> tuple[str, str]:
    """One derived question/answer pair about a MedPix image."""
    mod = MOD[r["type"]]
    region = REGION[r["location_category"]]
    plane = PLANES.get(r["plane"])
    kinds = ["modality", "region", "finding", "finding", "abnormal"]
    if plane:
        kinds.append("plane")
    if r["type"] == "MR" and mr_sequence(r["modality"]):
        kinds.append("sequence")
    if contrast_of(r["modality"]) is not None:
        kinds.append("contrast")
    if r["location_category"] == "Head":
        kinds.append("brain")
    kind = rng.choice(kinds)
    if kind == "modality":
        return _modality_qa(rng, mod)
    if kind == "region":
        return _region_qa(rng, region, [x for x in REGION.values()])
    if kind == "plane":
        k = rng.random()
        if k < 0.4:
            return rng.choice(PLANE_WHAT), plane
        if k < 0.8:
            asked = plane if rng.random() < 0.5 else rng.choice([p for p in PLANE_YN if p != plane])
            return rng.choice(PLANE_YN[asked]), yn(asked == plane)
        return _or(rng, plane, list(PLANE_YN), "is this {a} or {b}?")
    if kind == "sequence":
        seq = mr_sequence(r["modality"])
        if rng.random() < 0.4:
            return rng.choice(["what mri sequence is this?", "what type of mri sequence is shown?", "what weighting is this mri?"]), seq
        asked = seq if rng.random() < 0.5 else rng.choice([s for s in ("t1 weighted", "t2 weighted", "flair") if s != seq])
        return f"is this a {asked} image?", yn(asked == seq)
    if kind == "contrast":
        return rng.choice(["was contrast used?", "is this a contrast enhanced image?", "was contrast given?",
                           "is this image with contrast?"]), yn(bool(contrast_of(r["modality"])))
    if kind == "brain":
        brain = r["location"] in ("Brain and Neuro", "Nerve, central")
        return rng.choice(["is the brain shown?", "is this an image of the brain?", "does this image show the brain?"]), yn(brain)
    if kind == "abnormal":
        q = rng.choice([("is this normal?", "no"), ("is this image normal?", "no"), ("is there an abnormality?", "yes"),
                        ("is this image abnormal?", "yes"), ("is there a pathology?", "yes")])
        return q
    present = sorted(terms)
    if present and rng.random() < 0.5:
        t = rng.choice(present)
        return rng.choice(FINDING_Q[t]), "yes"
    t = rng.choice([x for x in FINDING_TERMS if x not in terms])
    return rng.choice(FINDING_Q[t]), "no"


BUSI_REPORT = {"benign": "breast ultrasound image. there is a benign appearing lesion.",
               "malignant": "breast ultrasound image. there is a suspicious lesion, likely malignant.",
               "normal": "breast ultrasound image. normal breast tissue without a focal lesion."}


def busi_qa(rng: random.Random, label: str) -> tuple[str, str]:
    lesion = label != "normal"
    k = rng.randrange(6)
    if k == 0:
        return _modality_qa(rng, "ultrasound")
    if k == 1:
        return _region_qa(rng, "breast", ["breast", "chest", "head", "abdomen"])
    if k == 2:
        return rng.choice(["is there a mass?", "is there a lesion?", "is a lesion present?"]), yn(lesion)
    if k == 3:
        return rng.choice(["is this normal?", "is this image normal?"]), yn(not lesion)
    if lesion:
        if k == 4:
            return _or(rng, label, ["benign", "malignant"], "is the lesion {a} or {b}?")
        asked = rng.choice(["benign", "malignant"])
        return f"is the lesion {asked}?", yn(asked == label)
    return "is there an abnormality?", "no"


PMN_REPORT = {0: "frontal chest x-ray. the lungs are clear. no consolidation.",
              1: "frontal chest x-ray. there are opacities consistent with pneumonia."}


def pmnist_qa(rng: random.Random, label: int) -> tuple[str, str]:
    k = rng.randrange(6)
    if k == 0:
        return _modality_qa(rng, "x-ray")
    if k == 1:
        return _region_qa(rng, "chest", ["chest", "head", "abdomen", "pelvis"])
    if k == 2:
        return rng.choice(["is there pneumonia?", "does this patient have pneumonia?", "is there consolidation?",
                           "is there an opacity?", "is there an infiltrate?"]), yn(label == 1)
    if k == 3:
        return rng.choice(["is this normal?", "are the lungs normal?", "is this chest x-ray normal?",
                           "are the lungs clear?"]), yn(label == 0)
    if k == 4:
        return rng.choice(["is there a pneumothorax?", "is there a fracture?", "is there a pleural effusion?",
                           "is there a mass?"]), "no"
    return rng.choice(["is this a chest x-ray?", "is this an image of the lungs?"]), "yes"


class Tok:
    def __init__(self):
        self.wp = WordPieceTokenizer.load(os.path.join(TINY, "tokenizer.json"))

    def ids(self, text: str) -> list[int]:
        return [self.wp.vocab[t] for t in self.wp.tokenize(text)]

    @property
    def vocab_size(self) -> int:
        return len(self.wp.vocab)


def sequence(tok: Tok, prompt: str, target: str, max_target: int = MAX_REPORT_TOKENS) -> tuple[list[int], int]:
    """[START] prompt target [EOS]; returns ids and the index of the first target position."""
    p = tok.ids(prompt) if prompt else []
    t = tok.ids(target)[:max_target]
    return [START] + p + t + [EOS], 1 + len(p)


def collate(seqs: list[tuple[list[int], int]]) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(len(s) for s, _ in seqs)
    ids = torch.full((len(seqs), n), PAD, dtype=torch.long)
    labels = torch.full((len(seqs), n), -100, dtype=torch.long)
    for i, (s, first) in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        # position j predicts token j+1; loss on target tokens and EOS
        for j in range(first - 1, len(s) - 1):
            labels[i, j] = s[j + 1]
    return ids, labels


# ---------------------------------------------------------------- greedy decoding (key/value cache)
def _no_repeat_banned(seq: list[int], n: int) -> set[int]:
    """Tokens that would repeat an n-gram already in seq (transformers' NoRepeatNGramLogitsProcessor)."""
    if n <= 0 or len(seq) + 1 < n:
        return set()
    prefix = tuple(seq[len(seq) - n + 1:]) if n > 1 else ()
    banned = set()
    for i in range(len(seq) - n + 1):
        if tuple(seq[i:i + n - 1]) == prefix:
            banned.add(seq[i + n - 1])
    return banned


@torch.no_grad()
def _greedy_same_length(model: TinyGen, enc: torch.Tensor, prompts: list[list[int]], max_new: int, no_repeat_ngram: int) -> list[list[int]]:
    """Greedy decoding of prompts of one length as one batch, with a key/value cache."""
    b = len(prompts)
    cross = [(L._heads(L.ck(enc)), L._heads(L.cv(enc))) for L in model.layers]
    cache: list = [None] * len(model.layers)
    seqs = [list(p) for p in prompts]
    new: list[list[int]] = [[] for _ in range(b)]
    done = [False] * b
    inp = torch.tensor(prompts)
    pos0 = 0
    for _ in range(max_new):
        t = inp.shape[1]
        x = model.wte(inp) + model.wpe[pos0:pos0 + t]
        total = pos0 + t
        q_pos = torch.arange(pos0, total)[:, None]
        k_pos = torch.arange(0, total)[None, :]
        causal = torch.where(k_pos > q_pos, torch.tensor(-1e9), torch.tensor(0.0))
        for li, L in enumerate(model.layers):
            h1 = L.ln1(x)
            k, v = L._heads(L.sk(h1)), L._heads(L.sv(h1))
            if cache[li] is not None:
                k, v = torch.cat([cache[li][0], k], 2), torch.cat([cache[li][1], v], 2)
            cache[li] = (k, v)
            x = x + L._attend(L._heads(L.sq(h1)), k, v, L.so, causal)
            x = x + L._attend(L._heads(L.cq(L.lnx(x))), cross[li][0], cross[li][1], L.co)
            x = x + L.fc2(F.gelu(L.fc1(L.ln2(x))))
        logits = model.ln_f(x[:, -1]) @ model.wte.weight.t()
        nxt = []
        for r in range(b):
            row = logits[r]
            for tkn in _no_repeat_banned(seqs[r], no_repeat_ngram):
                row[tkn] = -float("inf")
            n = int(row.argmax())
            nxt.append(n)
            if not done[r]:
                new[r].append(n)
                seqs[r].append(n)
                done[r] = n == EOS
        if all(done):
            break
        pos0 = total
        inp = torch.tensor(nxt)[:, None]
    return new


@torch.no_grad()
def greedy(model: TinyGen, feats: torch.Tensor, prompts: list[list[int]], max_new: int, no_repeat_ngram: int = 0,
           batch: int = 64) -> list[list[int]]:
    """Greedy decoding (every prompt already starts with START); prompts of equal length run as one batch.
    Returns the new ids per prompt (EOS kept when reached)."""
    model.eval()
    enc = model.encode(feats)
    out: list = [None] * len(prompts)
    by_len: dict[int, list[int]] = {}
    for i, p in enumerate(prompts):
        by_len.setdefault(len(p), []).append(i)
    for idx in by_len.values():
        for j in range(0, len(idx), batch):
            chunk = idx[j:j + batch]
            res = _greedy_same_length(model, enc[chunk], [prompts[i] for i in chunk], max_new, no_repeat_ngram)
            for i, r in zip(chunk, res):
                out[i] = r
    return out


def decode(tok: Tok, ids: list[int]) -> str:
    """WordPiece detokenisation like transformers.js (skip special tokens, join ##, clean up spaces)."""
    inv = {v: k for k, v in tok.wp.vocab.items()}
    words = []
    for i in ids:
        if i in (PAD, UNK, START, EOS, 4):
            continue
        t = inv[i]
        if t.startswith("##") and words:
            words[-1] += t[2:]
        else:
            words.append(t)
    s = " ".join(words)
    for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                 (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        s = s.replace(a, b)
    return s
