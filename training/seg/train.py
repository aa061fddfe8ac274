"""Train medvlm-tiny-seg on the train splits of BUSI (lesion masks) and Kvasir-SEG; select on validation.

    /usr/bin/python3 training/seg/train.py --size 128 --minutes 55 --out /tmp/medvlm-seg/run128 [--data DIR]

One thread (torch.set_num_threads(1)). The run stops at --minutes of wall time or --cpu-minutes of process CPU
time, whichever comes first; the learning-rate schedule (warm-up, cosine) follows that progress. Validation (mean
Dice over the lesion/polyp images of each val split, prompt = the canonical one) every --eval-every steps; the best
checkpoint by the mean of both datasets' val Dice is kept. One JSON line per log event in OUT/log.jsonl.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

import common as C
import prepare as P


def augment(x: torch.Tensor, m: torch.Tensor, ds: list[str], g: torch.Generator):
    """Random flips, scale/rotate/translate (one affine grid for image and mask), brightness/contrast/gamma."""
    b = x.shape[0]
    scale = torch.empty(b).uniform_(0.8, 1.25, generator=g)
    rot = torch.empty(b).uniform_(-1, 1, generator=g) * torch.tensor([0.17 if d == "busi" else 0.35 for d in ds])
    tx, ty = (torch.empty(b).uniform_(-0.12, 0.12, generator=g) for _ in range(2))
    fx = torch.where(torch.rand(b, generator=g) < 0.5, -1.0, 1.0)
    fy = torch.tensor([(-1.0 if random.random() < 0.5 else 1.0) if d == "kvasir" else 1.0 for d in ds])
    cos, sin = torch.cos(rot) / scale, torch.sin(rot) / scale
    # input coords = (rotation / scale) @ diag(fx, fy) @ output coords + translation
    theta = torch.stack([torch.stack([cos * fx, -sin * fy, tx], 1), torch.stack([sin * fx, cos * fy, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    m = F.grid_sample(m, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # photometric, in [0,1] space
    c = torch.empty(b, 1, 1, 1).uniform_(0.75, 1.3, generator=g)
    br = torch.empty(b, 1, 1, 1).uniform_(-0.1, 0.1, generator=g)
    gm = torch.exp(torch.empty(b, 1, 1, 1).uniform_(-0.25, 0.25, generator=g))
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - mean) * c + mean + br).clamp(0, 1) ** gm
    return x, m


def normalise(x01: torch.Tensor) -> torch.Tensor:
    mean, std = C.norm_params()
    return (x01 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def seg_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BCE (soft targets) + soft Dice on images whose target is not empty."""
    bce = F.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits).flatten(1)
    t = target.flatten(1)
    pos = t.sum(1) > 1
    if pos.any():
        inter = (p * t).sum(1)
        dice = 1 - (2 * inter + 1) / (p.sum(1) + t.sum(1) + 1)
        return bce + dice[pos].mean()
    return bce


def dice_iou(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float]:
    """Dice and IoU of two boolean masks; both empty counts as 1."""
    a, b = pred.sum(), gt.sum()
    inter = np.logical_and(pred, gt).sum()
    if a + b == 0:
        return 1.0, 1.0
    return float(2 * inter / (a + b)), float(inter / (a + b - inter))


@torch.no_grad()
def predict(model, px_u8: np.ndarray, texts: list[str], tok, bs: int = 32) -> np.ndarray:
    """Sigmoid probabilities at the model's output resolution, [N, H', W']."""
    model.eval()
    out = []
    for i in range(0, len(px_u8), bs):
        ids, mask = tok.batch(texts[i:i + bs])
        lg = model(C.to_pixel_values(px_u8[i:i + bs]), torch.tensor(ids), torch.tensor(mask))
        out.append(torch.sigmoid(lg)[:, 0])
    return torch.cat(out).numpy()


def validate(model, d: dict, idx: dict, tok, size: int) -> dict:
    res = {}
    for ds, prompt in (("busi", C.PROMPTS["lesion"]), ("kvasir", C.PROMPTS["polyp"])):
        ii = idx[(ds, "val")]
        prob = predict(model, d["px"][ii], [prompt] * len(ii), tok)
        prob = F.interpolate(torch.from_numpy(prob)[:, None], size=(size, size), mode="bilinear",
                             align_corners=False)[:, 0].numpy()
        gt = d["mask"][ii] >= 128
        has = gt.reshape(len(ii), -1).any(1)
        for th in (0.5,):
            ds_d = [dice_iou(prob[j] >= th, gt[j])[0] for j in range(len(ii)) if has[j]]
            res[f"{ds}_dice"] = float(np.mean(ds_d))
        if (~has).any():
            res[f"{ds}_empty_fp_frac"] = float(np.mean([(prob[j] >= 0.5).mean() for j in range(len(ii)) if not has[j]]))
        neg = C.NEGATIVE_PROMPTS[ds][0]
        pn = predict(model, d["px"][ii[:24]], [neg] * min(24, len(ii)), tok)
        res[f"{ds}_negprompt_fp_frac"] = float((pn >= 0.5).mean())
    res["mean_dice"] = (res["busi_dice"] + res["kvasir_dice"]) / 2
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--minutes", type=float, default=55)
    ap.add_argument("--cpu-minutes", type=float, default=55)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--enc-lr", type=float, default=3e-4)
    ap.add_argument("--neg-frac", type=float, default=0.12)
    ap.add_argument("--eval-every", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=None)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    np.random.seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    d = P.load(a.size, a.data)
    idx = {}
    for j, (ds, s) in enumerate(zip(d["ds"], d["split"])):
        idx.setdefault((str(ds), str(s)), []).append(j)
    idx = {k: np.array(v) for k, v in idx.items()}
    tok = C.tokenizer()
    model = C.TextSegmenter()
    C.load_tiny_weights(model)
    for p in model.text.parameters():
        p.requires_grad_(False)
    enc = list(model.vision.parameters())
    dec = list(model.decoder.parameters())
    opt = torch.optim.AdamW([{"params": enc, "lr": a.enc_lr, "base": a.enc_lr},
                             {"params": dec, "lr": a.lr, "base": a.lr}], weight_decay=1e-4)
    g = torch.Generator().manual_seed(a.seed)
    run = {**vars(a), "train_images": {ds: int(len(idx[(ds, "train")])) for ds in ("busi", "kvasir")},
           "val_images": {ds: int(len(idx[(ds, "val")])) for ds in ("busi", "kvasir")},
           "params": sum(p.numel() for p in model.parameters()),
           "trainable_params": sum(p.numel() for p in enc + dec), "prompts": C.PROMPT_VARIANTS,
           "negative_prompts": C.NEGATIVE_PROMPTS, "torch": torch.__version__, "threads": torch.get_num_threads()}
    with open(os.path.join(a.out, "run.json"), "w") as f:
        json.dump(run, f, indent=1)
    logf = open(os.path.join(a.out, "log.jsonl"), "a")

    def log(rec):
        logf.write(json.dumps(rec) + "\n")
        logf.flush()
        print(json.dumps(rec), flush=True)

    t0, c0 = time.time(), time.process_time()
    best, step, seen, run_loss = -1.0, 0, 0, []
    half = a.batch // 2
    while True:
        prog = max((time.time() - t0) / (60 * a.minutes), (time.process_time() - c0) / (60 * a.cpu_minutes))
        if prog >= 1:
            break
        warm = min(1.0, step / 60)
        for grp in opt.param_groups:
            grp["lr"] = grp["base"] * warm * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(prog, 1))))
        # balanced batch: half BUSI, half Kvasir
        bi = np.concatenate([np.random.choice(idx[("busi", "train")], half),
                             np.random.choice(idx[("kvasir", "train")], a.batch - half)])
        ds = [str(d["ds"][j]) for j in bi]
        x = torch.from_numpy(d["px"][bi]).float() / 255
        m = torch.from_numpy(d["mask"][bi]).float()[:, None] / 255
        x, m = augment(x, m, ds, g)
        texts = []
        for j, dn in enumerate(ds):
            if random.random() < a.neg_frac:
                texts.append(random.choice(C.NEGATIVE_PROMPTS[dn]))
                m[j] = 0
            else:
                texts.append(random.choice(C.PROMPT_VARIANTS[dn]))
        ids, am = tok.batch(texts)
        model.train()
        logits = model(normalise(x), torch.tensor(ids), torch.tensor(am))
        target = F.adaptive_avg_pool2d(m, logits.shape[-2:])
        loss = seg_loss(logits, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        seen += len(bi)
        run_loss.append(float(loss))
        if step % 20 == 0:
            log({"step": step, "images": seen, "loss": float(np.mean(run_loss)), "lr": opt.param_groups[1]["lr"],
                 "wall_s": round(time.time() - t0, 1), "cpu_s": round(time.process_time() - c0, 1)})
            run_loss = []
        if step % a.eval_every == 0:
            v = validate(model, d, idx, tok, a.size)
            improved = v["mean_dice"] > best
            if improved:
                best = v["mean_dice"]
                torch.save({"model": model.state_dict(), "step": step, "size": a.size, "val": v},
                           os.path.join(a.out, "best.pt"))
            log({"step": step, "images": seen, "val": v, "best": improved, "wall_s": round(time.time() - t0, 1)})
    v = validate(model, d, idx, tok, a.size)
    if v["mean_dice"] > best:
        torch.save({"model": model.state_dict(), "step": step, "size": a.size, "val": v},
                   os.path.join(a.out, "best.pt"))
    torch.save({"model": model.state_dict(), "step": step, "size": a.size, "val": v}, os.path.join(a.out, "last.pt"))
    log({"step": step, "images": seen, "val": v, "final": True, "wall_s": round(time.time() - t0, 1),
         "cpu_s": round(time.process_time() - c0, 1)})


if __name__ == "__main__":
    main()
