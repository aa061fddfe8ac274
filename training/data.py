"""Datasets for medvlm-tiny: MedPix 2.0, BUSI, PneumoniaMNIST (VQA-RAD only for evaluation).

Pixels are preprocessed once by transformers.js' own CLIPImageProcessor (training/preprocess.mjs,
normalisation off) so that training sees exactly what medvlm feeds the model at inference
(sharp's affine bicubic resize of the shortest edge to 96, centre crop 96x96, grey replicated to RGB).
The cache (uint8, 0..255) lives in training/out/cache/.
"""
from __future__ import annotations

import csv
import json
import os
import random
import subprocess

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("MEDVLM_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
MODEL_DIR = os.path.join(ROOT, "models", "medvlm-tiny")
OUT = os.path.join(ROOT, "training", "out")
CACHE = os.path.join(OUT, "cache")
SIZE = 96

# Watermark guard for MedPix: the uploader/source text sits in the bottom 4-10% of the image height
# (measured on ~24 images; font size varies), the "MedPix(R)" logo in the top-right corner.
MASK_BOTTOM = 0.12
MASK_LOGO_TOP = 0.10
MASK_LOGO_RIGHT = 0.50

# ---------------------------------------------------------------- label sentences
LOCATIONS = {
    "Head": "head",
    "Spine and Muscles": "spine and muscles",
    "Thorax": "chest",
    "Abdomen": "abdomen",
    "Reproductive and Urinary System": "reproductive and urinary system",
}
LOCATION_ORDER = list(LOCATIONS)
MODALITY_WORDS = {"CT": "a CT", "MR": "an MR", "XR": "an x-ray", "US": "an ultrasound"}
PLANES = {"Axial": "an axial", "Coronal": "a coronal", "Sagittal": "a sagittal"}
PNEU_SENTENCES = {0: "a normal chest x-ray", 1: "a chest x-ray with pneumonia"}
BUSI_LABELS = ["benign", "malignant", "normal"]
BUSI_SENTENCES = {
    "benign": "a breast ultrasound image of a benign lesion",
    "malignant": "a breast ultrasound image of a malignant lesion",
    "normal": "a breast ultrasound image of normal breast tissue",
}


def modality_sentence(mod: str) -> str:
    """Zero-shot prompt for an imaging modality (CT, MR, XR, US)."""
    return f"{MODALITY_WORDS[mod]} image"


def location_sentence(loc: str) -> str:
    """Zero-shot prompt for a MedPix location_category."""
    return f"an image of the {LOCATIONS[loc]}"


def label_sentences(attrs: dict) -> list[tuple[str, frozenset]]:
    """All generic sentences that are true for an image, each with the attributes it asserts."""
    out = []
    mod, loc, plane = attrs.get("mod"), attrs.get("loc"), attrs.get("plane")
    if mod:
        out.append((modality_sentence(mod), frozenset({("mod", mod)})))
    if loc:
        out.append((location_sentence(loc), frozenset({("loc", loc)})))
    if mod and loc:
        out.append((f"{MODALITY_WORDS[mod]} image of the {LOCATIONS[loc]}", frozenset({("mod", mod), ("loc", loc)})))
        if plane in PLANES:
            out.append((f"{PLANES[plane]} {mod} image of the {LOCATIONS[loc]}",
                        frozenset({("mod", mod), ("loc", loc), ("plane", plane)})))
    if "pneu" in attrs:
        out.append((PNEU_SENTENCES[attrs["pneu"]], frozenset({("pneu", attrs["pneu"])})))
    if "busi" in attrs:
        out.append((BUSI_SENTENCES[attrs["busi"]], frozenset({("busi", attrs["busi"])})))
        out.append(("a breast ultrasound image", frozenset({("mod", "US"), ("organ", "breast")})))
    return out


def clean_caption(c: str) -> str | None:
    """Caption text or None for empty / placeholder captions."""
    c = " ".join((c or "").split())
    if not c or c.startswith("Replace this"):
        return None
    return c


# ---------------------------------------------------------------- raw records
def medpix_rows() -> list[dict]:
    with open(os.path.join(DATA, "medpix2", "manifest.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def medpix_attrs(r: dict) -> dict:
    return {"mod": r["type"], "loc": r["location_category"], "plane": r["plane"]}


def busi_split(seed: int = 0) -> dict[str, list[str]]:
    """Seeded stratified 70/10/20 split of BUSI by label; written to models/medvlm-tiny/splits/busi.json."""
    path = os.path.join(MODEL_DIR, "splits", "busi.json")
    with open(os.path.join(DATA, "busi", "manifest.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rng = random.Random(seed)
    split = {"train": [], "val": [], "test": []}
    for lab in BUSI_LABELS:
        names = sorted(os.path.basename(r["image"]) for r in rows if r["label"] == lab)
        rng.shuffle(names)
        n = len(names)
        n_tr, n_va = round(0.7 * n), round(0.1 * n)
        split["train"] += names[:n_tr]
        split["val"] += names[n_tr:n_tr + n_va]
        split["test"] += names[n_tr + n_va:]
    for k in split:
        split[k].sort()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    doc = {"seed": seed, "method": "per-label random.Random(0).shuffle of sorted names, 70/10/20",
           "labels": {os.path.basename(r["image"]): r["label"] for r in rows}, **split}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    return split


def busi_labels() -> dict[str, str]:
    with open(os.path.join(DATA, "busi", "manifest.csv"), encoding="utf-8") as f:
        return {os.path.basename(r["image"]): r["label"] for r in csv.DictReader(f)}


def pmnist() -> dict:
    d = np.load(os.path.join(DATA, "pneumoniamnist", "pneumoniamnist_varun19424_officialValTest.npz"))
    return {k: d[k] for k in d.files}


def vqarad_images() -> list[tuple[str, str]]:
    with open(os.path.join(DATA, "vqa_rad", "images.csv"), encoding="utf-8") as f:
        return [(r["image"], r["organ"]) for r in csv.DictReader(f)]


# ---------------------------------------------------------------- preprocessing cache
def _mask_medpix(src: str, dst: str) -> None:
    from PIL import Image

    im = Image.open(src)
    im.load()
    w, h = im.size
    from PIL import ImageDraw

    d = ImageDraw.Draw(im)
    fill = 0 if im.mode == "L" else (0, 0, 0)
    d.rectangle([0, h - int(round(MASK_BOTTOM * h)), w, h], fill=fill)
    d.rectangle([w - int(round(MASK_LOGO_RIGHT * w)), 0, w, int(round(MASK_LOGO_TOP * h))], fill=fill)
    im.save(dst)  # PNG: lossless


def _node_preprocess(paths: list[str], out_bin: str) -> np.ndarray:
    lst = out_bin + ".list.json"
    with open(lst, "w") as f:
        json.dump(paths, f)
    subprocess.run(["node", os.path.join(ROOT, "training", "preprocess.mjs"), MODEL_DIR, lst, out_bin],
                   check=True, cwd=ROOT)
    arr = np.fromfile(out_bin, dtype=np.uint8)
    return arr.reshape(len(paths), 3, SIZE, SIZE)


def build_cache(force: bool = False) -> dict:
    """Build (or load) the uint8 pixel cache for every image used in training and evaluation."""
    npz = os.path.join(CACHE, "pixels.npz")
    if os.path.exists(npz) and not force:
        return dict(np.load(npz, allow_pickle=False))
    from PIL import Image

    os.makedirs(os.path.join(CACHE, "masked"), exist_ok=True)
    os.makedirs(os.path.join(CACHE, "pmnist"), exist_ok=True)
    rows = medpix_rows()
    plain = [os.path.join(DATA, "medpix2", r["image"]) for r in rows]
    masked = []
    for r, p in zip(rows, plain):
        q = os.path.join(CACHE, "masked", os.path.basename(p)[:-4] + ".png")
        if not os.path.exists(q):
            _mask_medpix(p, q)
        masked.append(q)
    bs = busi_split(0)
    busi_paths = [os.path.join(DATA, "busi", "images", n) for k in ("train", "val", "test") for n in bs[k]]
    pm = pmnist()
    pm_paths = []
    for k in ("train", "val", "test"):
        for i, a in enumerate(pm[f"{k}_images"]):
            q = os.path.join(CACHE, "pmnist", f"{k}_{i:04d}.png")
            if not os.path.exists(q):
                Image.fromarray(a, mode="L").save(q)
            pm_paths.append(q)
    vq = [os.path.join(DATA, "vqa_rad", p) for p, _ in vqarad_images()]
    allp = plain + masked + busi_paths + pm_paths + vq
    arr = _node_preprocess(allp, os.path.join(CACHE, "pixels.bin"))
    n1, n2, n3, n4 = len(plain), len(masked), len(busi_paths), len(pm_paths)
    out = {
        "medpix_plain": arr[:n1],
        "medpix_masked": arr[n1:n1 + n2],
        "busi": arr[n1 + n2:n1 + n2 + n3],
        "pmnist": arr[n1 + n2 + n3:n1 + n2 + n3 + n4],
        "vqarad": arr[n1 + n2 + n3 + n4:],
    }
    np.savez(npz, **out)
    os.remove(os.path.join(CACHE, "pixels.bin"))
    return out


# ---------------------------------------------------------------- structured splits
def load_all() -> dict:
    """Everything as index-aligned arrays/lists: pixels (uint8), attrs, captions, split names."""
    px = build_cache()
    rows = medpix_rows()
    med = {
        "plain": px["medpix_plain"], "masked": px["medpix_masked"],
        "attrs": [medpix_attrs(r) for r in rows], "caption": [clean_caption(r["caption"]) for r in rows],
        "split": np.array([r["split"] for r in rows]), "image": [r["image"] for r in rows],
        "case": [r["case_id"] for r in rows],
    }
    bs = busi_split(0)
    names = bs["train"] + bs["val"] + bs["test"]
    busi = {"px": px["busi"], "name": names, "label": [busi_labels()[n] for n in names],
            "split": np.array(["train"] * len(bs["train"]) + ["val"] * len(bs["val"]) + ["test"] * len(bs["test"]))}
    pm = pmnist()
    labels, splits = [], []
    for k in ("train", "val", "test"):
        labels += pm[f"{k}_labels"].ravel().tolist()
        splits += [k] * len(pm[f"{k}_labels"])
    pmn = {"px": px["pmnist"], "label": np.array(labels), "split": np.array(splits)}
    vq = vqarad_images()
    vqa = {"px": px["vqarad"], "image": [p for p, _ in vq], "organ": [o for _, o in vq]}
    return {"medpix": med, "busi": busi, "pmnist": pmn, "vqarad": vqa}


def training_texts() -> list[str]:
    """MedPix train captions plus every label sentence (for building the tokenizer vocabulary)."""
    texts = []
    for r in medpix_rows():
        if r["split"] == "train":
            c = clean_caption(r["caption"])
            if c:
                texts.append(c)
            texts += [s for s, _ in label_sentences(medpix_attrs(r))]
    for p in (0, 1):
        texts.append(PNEU_SENTENCES[p])
    for lab in BUSI_LABELS:
        texts += [s for s, _ in label_sentences({"busi": lab})]
    texts += [modality_sentence(m) for m in MODALITY_WORDS]
    texts += [location_sentence(loc) for loc in LOCATIONS]
    texts.append("an x-ray image of the chest")
    return texts
