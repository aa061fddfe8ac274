"""Held-out evaluation of medvlm-tiny (PyTorch reference) -> models/medvlm-tiny/metrics-python.json.

    /usr/bin/python3 training/evaluate.py [--ckpt training/out/run3/best.pt]

MedPix 2.0 test (strip masked and unmasked), PneumoniaMNIST official test, BUSI seeded test split,
VQA-RAD organ zero-shot (measured only; never used for training or selection). 95% CIs are percentile
bootstraps (1000 resamples, seed 0); MedPix resamples whole cases because images of a case are correlated.
Baselines: chance, majority class, and a logistic regression on 16x16 downsampled grey pixels fitted on
the same training split the model used.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import tokenizer as T  # noqa: E402
import zeroshot as Z  # noqa: E402
from export import load  # noqa: E402

B = 1000


def ci(fn, n_or_groups, seed=0):
    """Percentile bootstrap CI of fn(idx). n_or_groups: int (iid samples) or list of index arrays (clusters)."""
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(B):
        if isinstance(n_or_groups, int):
            idx = rng.integers(0, n_or_groups, n_or_groups)
        else:
            pick = rng.integers(0, len(n_or_groups), len(n_or_groups))
            idx = np.concatenate([n_or_groups[i] for i in pick])
        try:
            vals.append(fn(idx))
        except ValueError:  # e.g. a single class in a resample
            continue
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


def m(v, c):
    return {"value": round(float(v), 4), "ci95": c}


def small_pixels(u8):
    x = torch.from_numpy(u8[:, :1].astype(np.float32) / 255.0)
    return torch.nn.functional.adaptive_avg_pool2d(x, 16).flatten(1).numpy()


def lr_baseline(xtr, ytr, xte):
    clf = LogisticRegression(max_iter=2000, C=1.0)
    clf.fit(xtr, ytr)
    return clf.predict(xte), clf.predict_proba(xte)


def eval_medpix(model, temb, d):
    med = d["medpix"]
    te = np.where(med["split"] == "test")[0]
    tr = np.where(med["split"] == "train")[0]
    attrs = [med["attrs"][i] for i in te]
    caps = [med["caption"][i] for i in te]
    cases = np.array([med["case"][i] for i in te])
    groups = [np.where(cases == c)[0] for c in sorted(set(cases))]
    out = {"n_images": len(te), "n_cases": len(groups)}
    for variant in ("unmasked", "masked"):
        px = med["plain" if variant == "unmasked" else "masked"][te]
        img = Z.embed_images(model, px)
        r = Z.medpix_scores(img, temb, attrs, caps)
        ym, pm = r["_pred"]["mod"]
        yl, pl = r["_pred"]["loc"]
        res = {
            "ct_vs_mr_acc": m(r["ct_vs_mr_acc"], ci(lambda i: (pm[i] == ym[i]).mean(), groups)),
            "location_acc": m(r["location_acc"], ci(lambda i: (pl[i] == yl[i]).mean(), groups)),
            "location_macro_f1": m(r["location_macro_f1"],
                                   ci(lambda i: f1_score(yl[i], pl[i], average="macro", labels=range(5)), groups)),
        }
        # retrieval with case-level bootstrap over query images / captions
        keep = [k for k, c in enumerate(caps) if c]
        uniq = sorted({c for c in caps if c})
        cidx = {c: j for j, c in enumerate(uniq)}
        t = temb(uniq)
        sim = img[keep] @ t.T
        rank_i2t = np.array([(sim[q] > sim[q, cidx[caps[k]]]).sum() for q, k in enumerate(keep)])
        # caption -> image: best rank among the images carrying that caption
        img_of = [[] for _ in uniq]
        for q, k in enumerate(keep):
            img_of[cidx[caps[k]]].append(q)
        rank_t2i = np.array([min((sim[:, j] > sim[q, j]).sum() for q in img_of[j]) for j in range(len(uniq))])
        kcase = cases[keep]
        qgroups = [np.where(kcase == c)[0] for c in sorted(set(kcase))]
        tcase = np.array([kcase[img_of[j][0]] for j in range(len(uniq))])
        tgroups = [np.where(tcase == c)[0] for c in sorted(set(tcase))]
        for k in (1, 5, 10):
            res[f"i2t_R@{k}"] = m((rank_i2t < k).mean(), ci(lambda i, k=k: (rank_i2t[i] < k).mean(), qgroups))
            res[f"t2i_R@{k}"] = m((rank_t2i < k).mean(), ci(lambda i, k=k: (rank_t2i[i] < k).mean(), tgroups))
        res["confusion_location"] = confusion(yl, pl, 5)
        out[variant] = res
    out["retrieval_gallery"] = {"captions": len(uniq), "images": len(keep),
                                "note": "unique non-placeholder captions of the test images; a hit is the caption "
                                        "of the same image (identical caption strings count once)"}
    # baselines
    ym = np.array([0 if a["mod"] == "CT" else 1 for a in attrs])
    yl = np.array([data.LOCATION_ORDER.index(a["loc"]) for a in attrs])
    ytr_m = np.array([0 if med["attrs"][i]["mod"] == "CT" else 1 for i in tr])
    ytr_l = np.array([data.LOCATION_ORDER.index(med["attrs"][i]["loc"]) for i in tr])
    xtr, xte = small_pixels(med["masked"][tr]), small_pixels(med["plain"][te])
    pm_lr, _ = lr_baseline(xtr, ytr_m, xte)
    pl_lr, _ = lr_baseline(xtr, ytr_l, xte)
    maj_m, maj_l = np.bincount(ytr_m).argmax(), np.bincount(ytr_l).argmax()
    n_cap = len(uniq)
    out["baselines"] = {
        "chance": {"ct_vs_mr_acc": 0.5, "location_acc": 0.2, "i2t_R@1": round(1 / n_cap, 4),
                   "i2t_R@5": round(5 / n_cap, 4), "i2t_R@10": round(10 / n_cap, 4)},
        "majority_class": {"ct_vs_mr_acc": round(float((ym == maj_m).mean()), 4),
                           "location_acc": round(float((yl == maj_l).mean()), 4),
                           "location_macro_f1": round(float(f1_score(yl, np.full_like(yl, maj_l), average="macro",
                                                                     labels=range(5))), 4)},
        "logreg_16px": {"ct_vs_mr_acc": m((pm_lr == ym).mean(), ci(lambda i: (pm_lr[i] == ym[i]).mean(), groups)),
                        "location_acc": m((pl_lr == yl).mean(), ci(lambda i: (pl_lr[i] == yl[i]).mean(), groups)),
                        "location_macro_f1": round(float(f1_score(yl, pl_lr, average="macro")), 4)},
    }
    return out


def confusion(y, p, k):
    c = np.zeros((k, k), dtype=int)
    for a, b in zip(y, p):
        c[a, b] += 1
    return c.tolist()


def eval_pmnist(model, temb, d):
    p = d["pmnist"]
    te = np.where(p["split"] == "test")[0]
    tr = np.where(p["split"] == "train")[0]
    y = p["label"][te]
    r = Z.pneumonia_scores(Z.embed_images(model, p["px"][te]), temb, y)
    s, pr = r["_score"], r["_pred"]
    xtr, xte = small_pixels(p["px"][tr]), small_pixels(p["px"][te])
    pl, prob = lr_baseline(xtr, p["label"][tr], xte)
    maj = np.bincount(p["label"][tr]).argmax()
    return {
        "n": len(te), "n_pneumonia": int(y.sum()),
        "auroc": m(r["auroc"], ci(lambda i: roc_auc_score(y[i], s[i]), len(y))),
        "acc": m(r["acc"], ci(lambda i: (pr[i] == y[i]).mean(), len(y))),
        "decision": "argmax over the two label sentences (no threshold tuned)",
        "confusion": confusion(y, pr, 2),
        "baselines": {
            "chance": {"auroc": 0.5},
            "majority_class_of_train": {"acc": round(float((y == maj).mean()), 4)},
            "logreg_16px": {"auroc": m(roc_auc_score(y, prob[:, 1]), ci(lambda i: roc_auc_score(y[i], prob[i, 1]),
                                                                          len(y))),
                            "acc": m((pl == y).mean(), ci(lambda i: (pl[i] == y[i]).mean(), len(y)))},
        },
    }


def eval_busi(model, temb, d):
    b = d["busi"]
    te = np.where(b["split"] == "test")[0]
    tr = np.where(b["split"] == "train")[0]
    r = Z.busi_scores(Z.embed_images(model, b["px"][te]), temb, [b["label"][i] for i in te],
                      float(model.logit_scale.exp()))
    y, pr, prob = r["_y"], r["_pred"], r["_prob"]
    ytr = np.array([data.BUSI_LABELS.index(b["label"][i]) for i in tr])
    pl, lprob = lr_baseline(small_pixels(b["px"][tr]), ytr, small_pixels(b["px"][te]))
    maj = np.bincount(ytr).argmax()

    def auc(i, pp):
        return roc_auc_score(y[i], pp[i], multi_class="ovr", average="macro", labels=[0, 1, 2])

    return {
        "n": len(te), "labels": data.BUSI_LABELS,
        "acc": m(r["acc"], ci(lambda i: (pr[i] == y[i]).mean(), len(y))),
        "macro_f1": m(r["macro_f1"], ci(lambda i: f1_score(y[i], pr[i], average="macro", labels=[0, 1, 2]), len(y))),
        "auroc_ovr_macro": m(r["auroc_ovr_macro"], ci(lambda i: auc(i, prob), len(y))),
        "confusion": confusion(y, pr, 3),
        "baselines": {
            "chance": {"acc": round(1 / 3, 4), "auroc_ovr_macro": 0.5},
            "majority_class": {"acc": round(float((y == maj).mean()), 4),
                               "macro_f1": round(float(f1_score(y, np.full_like(y, maj), average="macro",
                                                                labels=[0, 1, 2])), 4)},
            "logreg_16px": {"acc": m((pl == y).mean(), ci(lambda i: (pl[i] == y[i]).mean(), len(y))),
                            "macro_f1": m(f1_score(y, pl, average="macro"),
                                          ci(lambda i: f1_score(y[i], pl[i], average="macro", labels=[0, 1, 2]),
                                             len(y))),
                            "auroc_ovr_macro": round(float(roc_auc_score(y, lprob, multi_class="ovr")), 4)},
        },
    }


VQA_PROMPTS = {"HEAD": data.location_sentence("Head"), "CHEST": data.location_sentence("Thorax"),
               "ABD": data.location_sentence("Abdomen")}


def eval_vqarad(model, temb, d):
    v = d["vqarad"]
    organs = list(VQA_PROMPTS)
    y = np.array([organs.index(o) for o in v["organ"]])
    t = temb([VQA_PROMPTS[o] for o in organs])
    p = (Z.embed_images(model, v["px"]) @ t.T).argmax(1)
    return {"n_unique_images": len(y), "prompts": VQA_PROMPTS,
            "acc": m((p == y).mean(), ci(lambda i: (p[i] == y[i]).mean(), len(y))),
            "macro_f1": round(float(f1_score(y, p, average="macro")), 4),
            "confusion": confusion(y, p, 3), "chance_acc": round(1 / 3, 4),
            "note": "measured only: VQA-RAD was never used for training, tuning or checkpoint selection"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(data.OUT, "best.pt"))
    ap.add_argument("--out", default=os.path.join(data.MODEL_DIR, "metrics-python.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load(args.ckpt)
    st = torch.load(args.ckpt, map_location="cpu")
    tok = T.WordPieceTokenizer.load(os.path.join(data.MODEL_DIR, "tokenizer.json"))
    d = data.load_all()
    cache = {}

    def temb(texts):
        miss = [t for t in texts if t not in cache]
        if miss:
            for t, e in zip(miss, Z.embed_texts(model, tok, miss)):
                cache[t] = e
        return np.stack([cache[t] for t in texts])

    res = {
        "model": "medvlm-tiny", "checkpoint_step": st["step"], "checkpoint_weights": st.get("weights", "raw"),
        "selected_on": "MedPix dev + PneumoniaMNIST val + "
        "BUSI val (mean of dev metrics, see training log)", "dev_at_selection": st.get("dev"),
        "engine": "PyTorch fp32 (reference)", "pixels": "transformers.js CLIPImageProcessor (training/preprocess.mjs)",
        "bootstrap": f"{B} resamples, percentile 95% CI, seed 0; MedPix resampled by case",
        "medpix_test": eval_medpix(model, temb, d),
        "pneumoniamnist_test": eval_pmnist(model, temb, d),
        "busi_test": eval_busi(model, temb, d),
        "vqarad_organ_zero_shot": eval_vqarad(model, temb, d),
    }
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
