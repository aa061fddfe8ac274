"""Evaluate medvlm-tiny-seg: threshold chosen on validation, Dice/IoU on the test splits with bootstrap CIs.

    /usr/bin/python3 training/seg/evaluate.py --ckpt /tmp/medvlm-seg/run128/best.pt [--data DIR] [--out metrics.json]

Inference follows the shipped contract: pixels from transformers.js' processor (resize to S x S, no crop), logits at
S/2, sigmoid, bilinear resize to the original mask size, threshold. Dice/IoU per image at the mask's original size;
BUSI Dice over lesion images (benign + malignant; the normal images have empty masks and are reported separately as
the share of images with any predicted pixel and the mean predicted area). Baseline: the mean training mask of each
dataset, thresholded at the level that maximises validation Dice. 95% CIs: 2,000 bootstrap resamples of test images.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

import common as C
import prepare as P
from train import dice_iou, predict

THRESHOLDS = [round(0.1 + 0.05 * i, 2) for i in range(17)]  # 0.1 .. 0.9


def load_model(ckpt: str) -> tuple[C.TextSegmenter, dict]:
    st = torch.load(ckpt, map_location="cpu")
    m = C.TextSegmenter()
    m.load_state_dict(st["model"])
    m.eval()
    return m, st


def upsample(prob: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    t = torch.from_numpy(np.ascontiguousarray(prob, dtype=np.float32))[None, None]
    return F.interpolate(t, size=shape, mode="bilinear", align_corners=False)[0, 0].numpy()


def bootstrap_ci(v: list[float], n: int = 2000, seed: int = 0) -> list[float]:
    r = np.random.default_rng(seed)
    a = np.asarray(v)
    means = a[r.integers(0, len(a), (n, len(a)))].mean(1)
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def summary(v: list[float]) -> dict:
    return {"mean": float(np.mean(v)), "ci95": bootstrap_ci(v), "median": float(np.median(v)), "n": len(v)}


def scores(probs: list[np.ndarray], gts: list[np.ndarray], th: float) -> tuple[list[float], list[float]]:
    d, i = zip(*(dice_iou(p >= th, g) for p, g in zip(probs, gts)))
    return list(d), list(i)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", default=None)
    ap.add_argument("--out", default=os.path.join(C.SEG_DIR, "metrics.json"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    data = C.data_root(a.data)
    model, st = load_model(a.ckpt)
    size = st["size"]
    d = P.load(size, data)
    tok = C.tokenizer()
    res = {"checkpoint_step": st["step"], "image_size": size, "train_val": st["val"]}
    prompt = {"busi": C.PROMPTS["lesion"], "kvasir": C.PROMPTS["polyp"]}
    cache = {}
    for ds in ("busi", "kvasir"):
        for s in ("val", "test"):
            ii = np.where((d["ds"] == ds) & (d["split"] == s))[0]
            gts = [C.load_mask(C.mask_path(data, ds, str(d["name"][j]))) for j in ii]
            low = predict(model, d["px"][ii], [prompt[ds]] * len(ii), tok)
            probs = [upsample(p, g.shape) for p, g in zip(low, gts)]
            cache[(ds, s)] = (ii, gts, probs)
    # threshold on validation: mean over the two datasets of the mean Dice on images with a lesion/polyp
    val_by_th = {}
    for th in THRESHOLDS:
        per = []
        for ds in ("busi", "kvasir"):
            ii, gts, probs = cache[(ds, "val")]
            keep = [k for k, g in enumerate(gts) if g.any()]
            per.append(np.mean(scores([probs[k] for k in keep], [gts[k] for k in keep], th)[0]))
        val_by_th[th] = float(np.mean(per))
    th = max(val_by_th, key=val_by_th.get)
    res["threshold"] = th
    res["val_mean_dice_by_threshold"] = val_by_th
    # baseline: mean training mask per dataset, threshold chosen on val
    tr_mean = {ds: d["mask"][(d["ds"] == ds) & (d["split"] == "train")].astype(np.float32).mean(0) / 255
               for ds in ("busi", "kvasir")}
    for ds in ("busi", "kvasir"):
        out = {}
        ii, gts, probs = cache[(ds, "test")]
        keep = [k for k, g in enumerate(gts) if g.any()]
        dice, iou = scores([probs[k] for k in keep], [gts[k] for k in keep], th)
        out["model"] = {"dice": summary(dice), "iou": summary(iou), "prompt": prompt[ds],
                        "per_image_dice": {str(d["name"][ii[k]]): round(v, 4) for k, v in zip(keep, dice)}}
        # baseline
        vi, vg, _ = cache[(ds, "val")]
        vkeep = [k for k, g in enumerate(vg) if g.any()]
        best_b, best_v = 0.5, -1
        for bt in [0.05 * i for i in range(1, 19)]:
            v = np.mean([dice_iou(upsample(tr_mean[ds], vg[k].shape) >= bt, vg[k])[0] for k in vkeep])
            if v > best_v:
                best_b, best_v = bt, v
        bd, bi = zip(*(dice_iou(upsample(tr_mean[ds], gts[k].shape) >= best_b, gts[k]) for k in keep))
        out["baseline_mean_train_mask"] = {"threshold": round(best_b, 2), "dice": summary(list(bd)),
                                           "iou": summary(list(bi))}
        out["paired_dice_gain_ci95"] = bootstrap_ci([x - y for x, y in zip(dice, bd)])
        empty = [k for k, g in enumerate(gts) if not g.any()]
        if empty:
            out["empty_mask_images"] = {
                "n": len(empty),
                "share_with_any_predicted_pixel": float(np.mean([(probs[k] >= th).any() for k in empty])),
                "mean_predicted_area_fraction": float(np.mean([(probs[k] >= th).mean() for k in empty]))}
        # prompt variants and a prompt naming the other target (should give (nearly) empty masks)
        low_px = d["px"][ii[keep]]
        variants = {}
        for ptxt in C.PROMPT_VARIANTS[ds]:
            lp = predict(model, low_px, [ptxt] * len(keep), tok)
            variants[ptxt] = float(np.mean(scores([upsample(p, gts[k].shape) for p, k in zip(lp, keep)],
                                                  [gts[k] for k in keep], th)[0]))
        out["dice_by_prompt_variant"] = variants
        neg = C.NEGATIVE_PROMPTS[ds][0]
        lp = predict(model, low_px, [neg] * len(keep), tok)
        out["other_target_prompt"] = {"prompt": neg, "mean_predicted_area_fraction": float((lp >= th).mean()),
                                      "mean_true_area_fraction": float(np.mean([gts[k].mean() for k in keep]))}
        res[ds] = out
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    brief = {ds: {"dice": res[ds]["model"]["dice"], "baseline": res[ds]["baseline_mean_train_mask"]["dice"]}
             for ds in ("busi", "kvasir")}
    print(json.dumps({"threshold": th, **brief}, indent=1))


if __name__ == "__main__":
    main()
