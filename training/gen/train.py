"""Train medvlm-tiny-gen (see common.py for the model and texts).

/usr/bin/python3 training/gen/train.py --minutes 65 --threads 1 --out training/out/gen/run1
Writes features.npz (frozen-tower image features, computed once), log.jsonl, best.pt, run.json.
Selection on dev/val only (MedPix dev reports + derived QA, BUSI val, PneumoniaMNIST val): the lowest mean
of dev report loss and dev QA loss.
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


def features() -> dict:
    path = os.path.join(C.OUT, "features.npz")
    if os.path.exists(path):
        return dict(np.load(path))
    d = C.data.build_cache()
    rows = C.data.medpix_rows()
    train_idx = np.array([i for i, r in enumerate(rows) if r["split"] == "train"])
    pm = C.data.pmnist()
    n_tr = len(pm["train_labels"])
    lab = pm["train_labels"].ravel()
    rng = np.random.default_rng(0)
    # PneumoniaMNIST: 800 train images per class (seeded) and the whole val split; its test split is not needed here
    pm_idx = np.concatenate([np.sort(rng.choice(np.flatnonzero(lab == c), min(800, int((lab == c).sum())), replace=False)) for c in (0, 1)] +
                            [n_tr + np.arange(len(pm["val_labels"]))])
    out = {"medpix_plain": C.image_features(d["medpix_plain"]), "medpix_masked_train": C.image_features(d["medpix_masked"][train_idx]),
           "medpix_masked_idx": train_idx, "busi": C.image_features(d["busi"]), "pmnist": C.image_features(d["pmnist"][pm_idx]),
           "pmnist_idx": pm_idx}
    os.makedirs(C.OUT, exist_ok=True)
    np.savez(path, **out)
    return out


def load(tok: C.Tok, feats: dict):
    rows = C.data.medpix_rows()
    bs = C.data.busi_split(0)
    busi_names = bs["train"] + bs["val"] + bs["test"]
    busi_split = ["train"] * len(bs["train"]) + ["val"] * len(bs["val"]) + ["test"] * len(bs["test"])
    busi_lab = C.data.busi_labels()
    pm = C.data.pmnist()
    pm_lab, pm_split = [], []
    for k in ("train", "val", "test"):
        pm_lab += pm[f"{k}_labels"].ravel().tolist()
        pm_split += [k] * len(pm[f"{k}_labels"])
    med = []
    masked_row = {int(i): k for k, i in enumerate(feats["medpix_masked_idx"].tolist())}
    for i, r in enumerate(rows):
        text = f"{C.data.clean_caption(r['caption']) or ''} {r.get('findings') or ''}"
        med.append({"i": i, "m": masked_row.get(i), "row": r, "split": r["split"], "report": C.sequence(tok, "", C.medpix_report(r)),
                    "terms": C.finding_terms(text)})
    busi = [{"i": i, "label": busi_lab[n], "split": s} for i, (n, s) in enumerate(zip(busi_names, busi_split))]
    pmn = [{"i": row, "label": int(pm_lab[i]), "split": pm_split[i]} for row, i in enumerate(feats["pmnist_idx"].tolist())]
    return med, busi, pmn


def make_batch(rng, tok, feats, med, busi, pmn, n_med_rep, n_other_rep, n_med_qa, n_other_qa, train=True):
    rep_s, rep_f, qa_s, qa_f = [], [], [], []

    def mf(e):
        if train and e.get("m") is not None and rng.random() < 0.5:
            return feats["medpix_masked_train"][e["m"]]
        return feats["medpix_plain"][e["i"]]

    for e in rng.sample(med, n_med_rep):
        rep_s.append(e["report"])
        rep_f.append(mf(e))
    for _ in range(n_other_rep):
        if rng.random() < 0.5:
            lab = rng.choice(["benign", "malignant", "normal"])
            e = rng.choice([b for b in busi if b["label"] == lab])
            rep_s.append(C.sequence(tok, "", C.BUSI_REPORT[e["label"]]))
            rep_f.append(feats["busi"][e["i"]])
        else:
            lab = rng.randrange(2)
            e = rng.choice([p for p in pmn if p["label"] == lab])
            rep_s.append(C.sequence(tok, "", C.PMN_REPORT[e["label"]]))
            rep_f.append(feats["pmnist"][e["i"]])
    for e in rng.sample(med, n_med_qa):
        q, a = C.medpix_qa(rng, e["row"], e["terms"])
        qa_s.append(C.sequence(tok, q, a))
        qa_f.append(mf(e))
    for _ in range(n_other_qa):
        if rng.random() < 0.5:
            e = rng.choice(busi)
            q, a = C.busi_qa(rng, e["label"])
            qa_f.append(feats["busi"][e["i"]])
        else:
            e = rng.choice(pmn)
            q, a = C.pmnist_qa(rng, e["label"])
            qa_f.append(feats["pmnist"][e["i"]])
        qa_s.append(C.sequence(tok, q, a))
    return (C.collate(rep_s), torch.from_numpy(np.stack(rep_f))), (C.collate(qa_s), torch.from_numpy(np.stack(qa_f)))


def loss_of(model, batch):
    (ids, labels), f = batch
    logits = model(ids, f)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)


def dev_sets(tok, feats, med, busi, pmn):
    """Fixed dev batches (seed 1): every MedPix dev report, 3 QA per dev image, BUSI/PneumoniaMNIST val."""
    rng = random.Random(1)
    dm = [e for e in med if e["split"] == "dev"]
    db = [e for e in busi if e["split"] == "val"]
    dp = [e for e in pmn if e["split"] == "val"]
    batches = []
    for i in range(0, len(dm), 64):
        chunk = dm[i:i + 64]
        batches.append(("report", (C.collate([e["report"] for e in chunk]), torch.from_numpy(np.stack([feats["medpix_plain"][e["i"]] for e in chunk])))))
    qa = []
    for e in dm:
        for _ in range(3):
            q, a = C.medpix_qa(rng, e["row"], e["terms"])
            qa.append((C.sequence(tok, q, a), feats["medpix_plain"][e["i"]]))
    for e in db:
        q, a = C.busi_qa(rng, e["label"])
        qa.append((C.sequence(tok, q, a), feats["busi"][e["i"]]))
    for e in dp[:200]:
        q, a = C.pmnist_qa(rng, e["label"])
        qa.append((C.sequence(tok, q, a), feats["pmnist"][e["i"]]))
    for i in range(0, len(qa), 128):
        chunk = qa[i:i + 128]
        batches.append(("qa", (C.collate([s for s, _ in chunk]), torch.from_numpy(np.stack([f for _, f in chunk])))))
    return batches


@torch.no_grad()
def evaluate(model, batches):
    model.eval()
    tot = {"report": [0.0, 0], "qa": [0.0, 0]}
    for kind, b in batches:
        (ids, labels), f = b
        logits = model(ids, f)
        n = int((labels != -100).sum())
        tot[kind][0] += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)) * n
        tot[kind][1] += n
    model.train()
    r = {k: v[0] / v[1] for k, v in tot.items()}
    r["select"] = (r["report"] + r["qa"]) / 2
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=65)
    ap.add_argument("--steps", type=int, default=0, help="fix the step count (otherwise from --minutes)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(C.OUT, "run1"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    tok = C.Tok()
    feats = features()
    print(f"features ready in {time.time() - t0:.0f}s", flush=True)
    med, busi, pmn = load(tok, feats)
    tm = [e for e in med if e["split"] == "train"]
    tb = [e for e in busi if e["split"] == "train"]
    tp = [e for e in pmn if e["split"] == "train"]
    dev = dev_sets(tok, feats, med, busi, pmn)
    cfg = C.Config(tok.vocab_size, width=args.width, layers=args.layers)
    model = C.TinyGen(cfg)
    print(f"params {C.count_params(model):,}", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "enc_pos" not in n and "wpe" not in n]
    other = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "enc_pos" not in n and "wpe" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": other, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    total = args.steps or 10 ** 9
    log = open(os.path.join(args.out, "log.jsonl"), "w")
    best = float("inf")
    start = time.time()
    step = 0
    while step < total:
        step += 1
        lr = args.lr * min(1.0, step / args.warmup) * (0.5 * (1 + math.cos(math.pi * min(1.0, step / total))) if total < 10 ** 9 else 1.0)
        for g in opt.param_groups:
            g["lr"] = lr
        rep, qa = make_batch(rng, tok, feats, tm, tb, tp, 16, 4, 32, 16)
        l_rep, l_qa = loss_of(model, rep), loss_of(model, qa)
        loss = l_rep + l_qa
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step == 30 and not args.steps:
            per = (time.time() - start) / 30
            total = int(args.minutes * 60 / (per * 1.06))  # 6% for evaluations
            print(f"{per:.2f} s/step -> {total} steps", flush=True)
        if step % 10 == 0:
            print(f"step {step} rep {float(l_rep):.3f} qa {float(l_qa):.3f} lr {lr:.2e} {time.time() - start:.0f}s", flush=True)
        if step % args.eval_every == 0 or step == total:
            ev = evaluate(model, dev)
            rec = {"step": step, "time_s": round(time.time() - start, 1), "train_report": float(l_rep), "train_qa": float(l_qa),
                   "lr": lr, "dev": ev}
            if ev["select"] < best:
                best = ev["select"]
                rec["best"] = True
                torch.save({"cfg": cfg.to_dict(), "state": model.state_dict(), "step": step, "dev": ev}, os.path.join(args.out, "best.pt"))
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
    torch.save({"cfg": cfg.to_dict(), "state": model.state_dict(), "step": step}, os.path.join(args.out, "last.pt"))
    json.dump({"args": vars(args), "steps": step, "minutes": (time.time() - start) / 60, "best_select": best,
               "params": C.count_params(model)}, open(os.path.join(args.out, "run.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
