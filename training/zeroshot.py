"""Embedding and zero-shot scoring helpers shared by train.py (dev selection) and evaluate.py (test)."""
from __future__ import annotations

import json
import os

import numpy as np
import torch
from sklearn.metrics import f1_score, roc_auc_score

import data


def norm_params():
    with open(os.path.join(data.MODEL_DIR, "preprocessor_config.json")) as f:
        pc = json.load(f)
    return np.array(pc["image_mean"], dtype=np.float64), np.array(pc["image_std"], dtype=np.float64)


def to_pixel_values(u8: np.ndarray) -> torch.Tensor:
    """uint8 [B,3,H,W] -> float32 normalised exactly as transformers.js (x*(1/255) then (x-mean)/std)."""
    mean, std = norm_params()
    x = (u8.astype(np.float32) * np.float32(1 / 255)).astype(np.float64)
    x = (x - mean[None, :, None, None]) / std[None, :, None, None]
    return torch.from_numpy(x.astype(np.float32))


@torch.no_grad()
def embed_images(model, u8: np.ndarray, bs: int = 256) -> np.ndarray:
    model.eval()
    out = [model.encode_image(to_pixel_values(u8[i:i + bs])) for i in range(0, len(u8), bs)]
    return torch.cat(out).numpy()


@torch.no_grad()
def embed_texts(model, tok, texts: list[str], bs: int = 256) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(texts), bs):
        ids, mask = tok.batch(texts[i:i + bs])
        out.append(model.encode_text(torch.tensor(ids), torch.tensor(mask)))
    return torch.cat(out).numpy()


def recall_at(sim: np.ndarray, positives: list[set], ks=(1, 5, 10)) -> dict:
    """sim [Q, G]; positives[q] = set of gallery indices that count as hits."""
    order = np.argsort(-sim, axis=1)
    res = {}
    for k in ks:
        res[f"R@{k}"] = float(np.mean([len(positives[q] & set(order[q, :k].tolist())) > 0 for q in range(len(sim))]))
    return res


def medpix_scores(img: np.ndarray, tok_embed, attrs: list[dict], captions: list[str | None]) -> dict:
    """CT vs MR, location 5-way and caption retrieval from precomputed image embeddings."""
    mods = ["CT", "MR"]
    t_mod = tok_embed([data.modality_sentence(m) for m in mods])
    y_mod = np.array([mods.index(a["mod"]) for a in attrs])
    p_mod = (img @ t_mod.T).argmax(1)
    locs = data.LOCATION_ORDER
    t_loc = tok_embed([data.location_sentence(loc) for loc in locs])
    y_loc = np.array([locs.index(a["loc"]) for a in attrs])
    p_loc = (img @ t_loc.T).argmax(1)
    res = {
        "ct_vs_mr_acc": float((p_mod == y_mod).mean()),
        "location_acc": float((p_loc == y_loc).mean()),
        "location_macro_f1": float(f1_score(y_loc, p_loc, average="macro")),
        "n_images": len(attrs),
    }
    res.update(retrieval_scores(img, tok_embed, captions))
    res["_pred"] = {"mod": (y_mod, p_mod), "loc": (y_loc, p_loc)}
    return res


def retrieval_scores(img: np.ndarray, tok_embed, captions: list[str | None]) -> dict:
    """Image->caption and caption->image recall; gallery = unique caption strings, hit = any caption of the image."""
    uniq = sorted({c for c in captions if c})
    idx = {c: i for i, c in enumerate(uniq)}
    keep = [i for i, c in enumerate(captions) if c]
    t = tok_embed(uniq)
    sim = img[keep] @ t.T
    i2t = recall_at(sim, [{idx[captions[i]]} for i in keep])
    # caption -> image: each unique caption is a query; hits are all images that carry it
    img_pos = [set() for _ in uniq]
    for r, i in enumerate(keep):
        img_pos[idx[captions[i]]].add(r)
    t2i = recall_at(sim.T, img_pos)
    out = {f"i2t_{k}": v for k, v in i2t.items()}
    out.update({f"t2i_{k}": v for k, v in t2i.items()})
    out["n_captions"] = len(uniq)
    out["n_retrieval_images"] = len(keep)
    return out


def pneumonia_scores(img: np.ndarray, tok_embed, labels: np.ndarray) -> dict:
    t = tok_embed([data.PNEU_SENTENCES[0], data.PNEU_SENTENCES[1]])
    s = img @ t.T
    score = s[:, 1] - s[:, 0]
    pred = (score > 0).astype(int)
    return {"auroc": float(roc_auc_score(labels, score)), "acc": float((pred == labels).mean()),
            "n": int(len(labels)), "_score": score, "_pred": pred}


def busi_scores(img: np.ndarray, tok_embed, labels: list[str], logit_scale: float) -> dict:
    labs = data.BUSI_LABELS
    t = tok_embed([data.BUSI_SENTENCES[x] for x in labs])
    logits = logit_scale * (img @ t.T)
    prob = np.exp(logits - logits.max(1, keepdims=True))
    prob /= prob.sum(1, keepdims=True)
    y = np.array([labs.index(x) for x in labels])
    p = prob.argmax(1)
    return {"acc": float((p == y).mean()), "macro_f1": float(f1_score(y, p, average="macro")),
            "auroc_ovr_macro": float(roc_auc_score(y, prob, multi_class="ovr", average="macro")),
            "n": int(len(y)), "_prob": prob, "_y": y, "_pred": p}
