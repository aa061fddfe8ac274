"""Train medvlm-tiny from scratch on one CPU thread.

    /usr/bin/python3 training/train.py [--steps N] [--eval-every N] [--seed 0]

Writes training/out/{log.jsonl, best.pt, last.pt, curves.png}. Checkpoint selection uses MedPix dev,
PneumoniaMNIST val and BUSI val only.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import tokenizer as T  # noqa: E402
import zeroshot as Z  # noqa: E402
from model import Config, DualEncoder, count_params  # noqa: E402


def build_tokenizer():
    path = os.path.join(data.MODEL_DIR, "tokenizer.json")
    vocab = T.build_vocab(data.training_texts())
    T.write_hf_tokenizer(vocab, data.MODEL_DIR)
    return T.WordPieceTokenizer.load(path)


class Sampler:
    """Draws mixed batches: MedPix (masked strip) captions/label sentences, BUSI and PneumoniaMNIST labels."""

    def __init__(self, d, rng: random.Random, n_medpix=64, n_busi=32, n_pmnist=32):
        self.rng = rng
        m = d["medpix"]
        self.med_idx = np.where(m["split"] == "train")[0].tolist()
        self.med = m
        b = d["busi"]
        self.busi_idx = np.where(b["split"] == "train")[0].tolist()
        self.busi = b
        p = d["pmnist"]
        tr = np.where(p["split"] == "train")[0]
        self.pm_by_label = {k: tr[p["label"][tr] == k].tolist() for k in (0, 1)}
        self.pm = p
        self.n = (n_medpix, n_busi, n_pmnist)

    def _pick_text(self, attrs, caption, ident, p_caption, main_keys=()):
        """Return (text, requirement set) for an image; attrs are the image's facts."""
        if caption and self.rng.random() < p_caption:
            return caption, frozenset({("caption", caption)})
        cands = data.label_sentences(attrs)
        mains = [c for c in cands if any(k for k, _ in c[1] if k in main_keys)]
        if mains and self.rng.random() < 0.6:
            return self.rng.choice(mains)
        return self.rng.choice(cands)

    def batch(self):
        r = self.rng
        px, facts, texts, reqs, flip = [], [], [], [], []
        for _ in range(self.n[0]):
            i = r.choice(self.med_idx)
            a = self.med["attrs"][i]
            cap = self.med["caption"][i]
            t, q = self._pick_text(a, cap, i, 0.5)
            px.append(self.med["masked"][i])
            f = {(k, v) for k, v in a.items()}
            if cap:
                f.add(("caption", cap))
            facts.append(f)
            texts.append(t)
            reqs.append(q)
            flip.append(False)
        for _ in range(self.n[1]):
            i = r.choice(self.busi_idx)
            a = {"busi": self.busi["label"][i], "mod": "US"}
            t, q = self._pick_text(a, None, i, 0, main_keys=("busi",))
            px.append(self.busi["px"][i])
            facts.append({("busi", a["busi"]), ("mod", "US"), ("organ", "breast")})
            texts.append(t)
            reqs.append(q)
            flip.append(True)
        for j in range(self.n[2]):
            i = r.choice(self.pm_by_label[j % 2])
            lab = int(self.pm["label"][i])
            a = {"pneu": lab, "mod": "XR", "loc": "Thorax"}
            t, q = self._pick_text(a, None, i, 0, main_keys=("pneu",))
            px.append(self.pm["px"][i])
            facts.append({(k, v) for k, v in a.items()})
            texts.append(t)
            reqs.append(q)
            flip.append(False)
        pos = np.array([[q <= f for q in reqs] for f in facts], dtype=np.float32)  # [img, txt]
        return np.stack(px), texts, pos, np.array(flip)


def augment(x: torch.Tensor, flip: np.ndarray, g: torch.Generator) -> torch.Tensor:
    """Random zoom/shift/rotation (black fill), brightness/contrast jitter; x in [0,1] [B,3,H,W]."""
    b = x.shape[0]
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(b, generator=g)  # noqa: E731
    s = u(0.8, 1.05)
    ang = u(-0.17, 0.17)
    tx, ty = u(-0.08, 0.08), u(-0.08, 0.08)
    fl = torch.where(torch.from_numpy(flip) & (torch.rand(b, generator=g) < 0.5), -1.0, 1.0)
    cos, sin = torch.cos(ang) * s, torch.sin(ang) * s
    theta = torch.stack([torch.stack([cos * fl, -sin, tx], 1), torch.stack([sin * fl, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    c = u(0.8, 1.2)[:, None, None, None]
    br = u(-0.08, 0.08)[:, None, None, None]
    return (x * c + br).clamp(0, 1)


def multi_positive_loss(img, txt, logit_scale, pos):
    """Symmetric InfoNCE with soft targets: every text that is true for an image is a positive."""
    logits = logit_scale.exp() * img @ txt.t()
    pos = torch.from_numpy(pos)
    t_i = pos / pos.sum(1, keepdim=True)
    t_t = pos.t() / pos.t().sum(1, keepdim=True)
    li = -(t_i * F.log_softmax(logits, 1)).sum(1).mean()
    lt = -(t_t * F.log_softmax(logits.t(), 1)).sum(1).mean()
    return (li + lt) / 2


def dev_eval(model, tok, d) -> dict:
    cache = {}

    def temb(texts):
        miss = [t for t in texts if t not in cache]
        if miss:
            for t, e in zip(miss, Z.embed_texts(model, tok, miss)):
                cache[t] = e
        return np.stack([cache[t] for t in texts])

    m = d["medpix"]
    dev = np.where(m["split"] == "dev")[0]
    img = Z.embed_images(model, m["plain"][dev])
    med = Z.medpix_scores(img, temb, [m["attrs"][i] for i in dev], [m["caption"][i] for i in dev])
    p = d["pmnist"]
    va = np.where(p["split"] == "val")[0]
    pn = Z.pneumonia_scores(Z.embed_images(model, p["px"][va]), temb, p["label"][va])
    b = d["busi"]
    bv = np.where(b["split"] == "val")[0]
    bu = Z.busi_scores(Z.embed_images(model, b["px"][bv]), temb, [b["label"][i] for i in bv],
                       float(model.logit_scale.exp()))
    res = {
        "dev_ct_vs_mr": med["ct_vs_mr_acc"], "dev_location_acc": med["location_acc"],
        "dev_location_f1": med["location_macro_f1"], "dev_i2t_R@10": med["i2t_R@10"],
        "dev_t2i_R@10": med["t2i_R@10"],
        "val_pneu_auroc": pn["auroc"], "val_pneu_acc": pn["acc"],
        "val_busi_acc": bu["acc"], "val_busi_f1": bu["macro_f1"],
    }
    keys = ["dev_ct_vs_mr", "dev_location_acc", "dev_location_f1", "dev_i2t_R@10", "val_pneu_auroc",
            "val_pneu_acc", "val_busi_f1"]
    res["select_score"] = float(np.mean([res[k] for k in keys]))
    return res


def plot(log_path, png):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not available: no curves plotted")
        return
    rows = [json.loads(line) for line in open(log_path)]
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    st = [r["step"] for r in rows]
    ax[0].plot(st, [r["train_loss"] for r in rows], label="train loss")
    ax[0].set_xlabel("step")
    ax[0].legend()
    for k in ("dev_ct_vs_mr", "dev_location_acc", "dev_location_f1", "dev_i2t_R@10", "val_pneu_auroc",
              "val_pneu_acc", "val_busi_f1", "select_score"):
        ax[1].plot(st, [r[k] for r in rows], label=k)
    ax[1].set_xlabel("step")
    ax[1].legend(fontsize=7)
    ax[1].set_ylim(0, 1)
    fig.tight_layout()
    fig.savefig(png, dpi=100)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=700)
    ap.add_argument("--eval-every", type=int, default=70)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=data.OUT)
    ap.add_argument("--time-only", type=int, default=0, help="time this many steps and exit")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    rng = random.Random(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    tok = build_tokenizer()
    d = data.load_all()
    cfg = Config(vocab_size=len(tok.vocab))
    model = DualEncoder(cfg)
    model.vision.to(memory_format=torch.channels_last)  # ~25% faster convolutions on CPU
    n_params = count_params(model)
    print(f"params: total {n_params}, vision {count_params(model.vision)}, text {count_params(model.text)}")
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "pos" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "pos" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0}],
                            lr=args.lr, betas=(0.9, 0.98))

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        t = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))

    sampler = Sampler(d, rng)
    mean, std = Z.norm_params()
    mean_t = torch.tensor(mean, dtype=torch.float32)[None, :, None, None]
    std_t = torch.tensor(std, dtype=torch.float32)[None, :, None, None]
    log_path = os.path.join(args.out, "log.jsonl")
    if not args.time_only:
        open(log_path, "w").close()
    best = -1.0
    t0 = time.time()
    losses = []
    total = args.time_only or args.steps
    for step in range(total):
        model.train()
        for grp in opt.param_groups:
            grp["lr"] = lr_at(step)
        px, texts, pos, flip = sampler.batch()
        x = torch.from_numpy(px).float() / 255.0
        x = ((augment(x, flip, g) - mean_t) / std_t).contiguous(memory_format=torch.channels_last)
        ids, mask = tok.batch(texts)
        img = F.normalize(model.vision(x)[0], dim=-1)
        txt = F.normalize(model.text(torch.tensor(ids), torch.tensor(mask))[0], dim=-1)
        loss = multi_positive_loss(img, txt, model.logit_scale, pos)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        losses.append(float(loss))
        if args.time_only and step in (9, total - 1):
            print(f"step {step + 1}: {time.time() - t0:.1f}s, loss {np.mean(losses[-10:]):.3f}")
        if args.time_only:
            continue
        if (step + 1) % args.eval_every == 0 or step + 1 == total:
            te = time.time()
            ev = dev_eval(model, tok, d)
            row = {"step": step + 1, "epoch_examples": (step + 1) * 128, "train_loss": float(np.mean(losses)),
                   "lr": lr_at(step), "logit_scale": float(model.logit_scale.exp()),
                   "wall_s": round(time.time() - t0, 1), "eval_s": round(time.time() - te, 1), **ev}
            losses = []
            with open(log_path, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
            state = {"model": model.state_dict(), "config": cfg.to_dict(), "step": step + 1, "dev": ev,
                     "n_params": n_params}
            torch.save(state, os.path.join(args.out, "last.pt"))
            if ev["select_score"] > best:
                best = ev["select_score"]
                torch.save(state, os.path.join(args.out, "best.pt"))
    if not args.time_only:
        print(f"done in {time.time() - t0:.0f}s; best select_score {best:.4f}")
        plot(log_path, os.path.join(args.out, "curves.png"))


if __name__ == "__main__":
    main()
