"""Train medvlm-tiny from scratch on one CPU thread.

    /usr/bin/python3 training/train.py [--steps N | --minutes M] [--eval-every N] [--seed 0] [--threads 1]
        [--busi-balanced] [--ema 0.995 --ema-start 0.5] [--out training/out]

Writes <out>/{log.jsonl, best.pt, last.pt, curves.png, run.json}. Checkpoint selection uses MedPix dev,
PneumoniaMNIST val and BUSI val only. With --ema the exponential moving average of the weights (and BatchNorm
statistics) is evaluated next to the raw weights at every evaluation and is a selection candidate too.
--minutes M times the first --calib-steps steps and then fixes --steps so that the cosine schedule ends within
M minutes; the chosen value is printed and stored in run.json, and rerunning with that --steps (same seed)
reproduces the run without the timing dependence.
"""
from __future__ import annotations

import argparse
import copy
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

    def __init__(self, d, rng: random.Random, n_medpix=64, n_busi=32, n_pmnist=32, busi_balanced=False):
        self.rng = rng
        self.busi_balanced = busi_balanced
        m = d["medpix"]
        self.med_idx = np.where(m["split"] == "train")[0].tolist()
        self.med = m
        b = d["busi"]
        self.busi_idx = np.where(b["split"] == "train")[0].tolist()
        self.busi = b
        self.busi_by_label = {k: [i for i in self.busi_idx if b["label"][i] == k] for k in data.BUSI_LABELS}
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
            if self.busi_balanced:  # label uniformly, then an image of that label
                i = r.choice(self.busi_by_label[r.choice(data.BUSI_LABELS)])
            else:
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
    ema_rows = [r for r in rows if "ema" in r]
    if ema_rows:
        ax[1].plot([r["step"] for r in ema_rows], [r["ema"]["select_score"] for r in ema_rows], "k--",
                   label="select_score (EMA weights)")
    ax[1].set_xlabel("step")
    ax[1].legend(fontsize=7)
    ax[1].set_ylim(0, 1)
    fig.tight_layout()
    fig.savefig(png, dpi=100)


class WeightEMA:
    """Exponential moving average of all parameters and floating-point buffers (BatchNorm statistics)."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model)
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for e, p in zip(self.model.state_dict().values(), model.state_dict().values()):
            if e.dtype.is_floating_point:
                e.mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)
            else:
                e.copy_(p)

    @torch.no_grad()
    def reset(self, model: torch.nn.Module) -> None:
        for e, p in zip(self.model.state_dict().values(), model.state_dict().values()):
            e.copy_(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=700)
    ap.add_argument("--minutes", type=float, default=0,
                    help="if > 0: time the first --calib-steps steps, then set --steps to end within this budget")
    ap.add_argument("--calib-steps", type=int, default=30)
    ap.add_argument("--evals", type=int, default=12, help="with --minutes: number of evaluations (sets --eval-every)")
    ap.add_argument("--eval-every", type=int, default=70)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--busi-balanced", action="store_true", help="draw BUSI training images label-balanced")
    ap.add_argument("--ema", type=float, default=0.0, help="EMA decay of the weights (0: off)")
    ap.add_argument("--ema-start", type=float, default=0.5, help="start the EMA at this fraction of the steps")
    ap.add_argument("--out", default=data.OUT)
    ap.add_argument("--time-only", type=int, default=0, help="time this many steps and exit")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
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

    sampler = Sampler(d, rng, busi_balanced=args.busi_balanced)
    mean, std = Z.norm_params()
    mean_t = torch.tensor(mean, dtype=torch.float32)[None, :, None, None]
    std_t = torch.tensor(std, dtype=torch.float32)[None, :, None, None]
    log_path = os.path.join(args.out, "log.jsonl")
    if not args.time_only:
        open(log_path, "w").close()
    best = -1.0
    ema = WeightEMA(model, args.ema) if args.ema > 0 else None
    ema_start = None
    t0 = time.time()
    losses = []
    calibrating = args.minutes > 0 and not args.time_only
    total = args.time_only or (10**9 if calibrating else args.steps)
    if calibrating:
        assert args.calib_steps < args.warmup, "calibration must finish inside the warm-up"
    step = 0
    eval_total = 0.0
    while step < total:
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
        step += 1
        if calibrating and step == args.calib_steps:
            s_step = (time.time() - t0) / step
            eval_s = 12.0 * (2 if ema else 1)  # measured: 3-9 s per dev evaluation under load, 2x with EMA
            budget = args.minutes * 60 * 0.95 - args.evals * eval_s - 30  # 5% + 30 s safety
            args.steps = int(budget / s_step) // 10 * 10
            args.eval_every = max(10, args.steps // args.evals)
            total = args.steps
            calibrating = False
            print(f"calibration: {s_step:.2f} s/step over {step} steps -> --steps {args.steps} "
                  f"--eval-every {args.eval_every}", flush=True)
        if ema and ema_start is None and step >= int(args.ema_start * total) and not calibrating:
            ema_start = step
            ema.reset(model)
        elif ema and ema_start is not None:
            ema.update(model)
        if args.time_only and step in (10, total):
            print(f"step {step}: {time.time() - t0:.1f}s, loss {np.mean(losses[-10:]):.3f}", flush=True)
        if args.time_only or calibrating:
            continue
        if step % args.eval_every == 0 or step == total:
            te = time.time()
            cands = [("raw", model)] + ([("ema", ema.model)] if ema_start is not None else [])
            evs = {name: dev_eval(m, tok, d) for name, m in cands}
            row = {"step": step, "epoch_examples": step * 128, "train_loss": float(np.mean(losses)),
                   "lr": lr_at(step - 1), "logit_scale": float(model.logit_scale.exp()),
                   "wall_s": round(time.time() - t0, 1), "eval_s": round(time.time() - te, 1), **evs["raw"]}
            eval_total += time.time() - te
            if "ema" in evs:
                row["ema"] = evs["ema"]
            losses = []
            with open(log_path, "a") as f:
                f.write(json.dumps(row) + "\n")
            short = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items() if k != "ema"}
            if "ema" in evs:
                short["ema_select_score"] = round(evs["ema"]["select_score"], 4)
            print(json.dumps(short), flush=True)
            for name, m in cands:
                ev = evs[name]
                state = {"model": m.state_dict(), "config": cfg.to_dict(), "step": step, "dev": ev,
                         "n_params": n_params, "weights": name}
                if name == "raw":
                    torch.save(state, os.path.join(args.out, "last.pt"))
                if ev["select_score"] > best:
                    best = ev["select_score"]
                    torch.save(state, os.path.join(args.out, "best.pt"))
                    print(f"  new best: {name} weights at step {step}, select_score {best:.4f}", flush=True)
    if not args.time_only:
        wall = time.time() - t0
        run = {**vars(args), "wall_s": round(wall, 1), "eval_s_total": round(eval_total, 1),
               "s_per_step": round((wall - eval_total) / max(1, step), 3), "best_select_score": best,
               "ema_start_step": ema_start,
               "reproduce": "/usr/bin/python3 training/train.py " + " ".join(
                   [f"--steps {args.steps}", f"--eval-every {args.eval_every}", f"--lr {args.lr}",
                    f"--warmup {args.warmup}", f"--seed {args.seed}", f"--threads {args.threads}"]
                   + (["--busi-balanced"] if args.busi_balanced else [])
                   + ([f"--ema {args.ema}", f"--ema-start {args.ema_start}"] if args.ema else [])
                   + [f"--out {os.path.relpath(args.out, data.ROOT)}"])}
        with open(os.path.join(args.out, "run.json"), "w") as f:
            json.dump(run, f, indent=1)
        print(f"done in {wall:.0f}s; best select_score {best:.4f}")
        plot(log_path, os.path.join(args.out, "curves.png"))


if __name__ == "__main__":
    main()
