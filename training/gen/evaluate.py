"""Greedy generations of a medvlm-tiny-gen checkpoint on held-out data (PyTorch; metrics are computed by
training/gen/metrics.mjs with medvlm's own src/metrics).

/usr/bin/python3 training/gen/evaluate.py --ckpt training/out/gen/run1/best.pt --split test [--no-repeat 3]
Writes <ckpt dir>/eval-<split>.json:
  reports: MedPix 2.0 <split> (dev or test) images, empty prompt, up to 160 new tokens; reference = caption + findings
           (the same reference as docs/search.md's draft-report evaluation), truths for modality and body region;
  vqa:     (only for --split test) VQA-RAD test questions (evaluation only), prompt = the question, up to 8 new tokens.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

import common as C
from export import load_model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    ap.add_argument("--no-repeat", type=int, default=0)
    ap.add_argument("--max-new", type=int, default=160)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = load_model(a.ckpt)
    tok = C.Tok()
    feats = np.load(os.path.join(C.OUT, "features.npz"))
    rows = C.data.medpix_rows()
    idx = [i for i, r in enumerate(rows) if r["split"] == a.split]
    if a.limit:
        idx = idx[:a.limit]
    t0 = time.time()
    f = torch.from_numpy(feats["medpix_plain"][idx])
    gens = C.greedy(model, f, [[C.START]] * len(idx), a.max_new, a.no_repeat)
    reports = []
    for i, g in zip(idx, gens):
        r = rows[i]
        ref = " ".join(x for x in ((C.data.clean_caption(r["caption"]) or ""), " ".join((r.get("findings") or "").split())) if x)
        reports.append({"image": r["image"], "case": r["case_id"], "reference": ref, "text": C.decode(tok, g), "ids": g,
                        "modality": C.MOD[r["type"]], "region": r["location_category"]})
    print(f"reports: {len(reports)} in {time.time() - t0:.0f}s", flush=True)
    out = {"ckpt": a.ckpt, "split": a.split, "no_repeat_ngram_size": a.no_repeat, "max_new_tokens": a.max_new, "reports": reports}
    if a.split == "test":
        qa = [json.loads(line) for line in open(os.path.join(C.data.DATA, "vqa_rad", "qa.jsonl"), encoding="utf-8")]
        qa = [q for q in qa if q["split"] == "test"]
        if "vqarad" not in feats.files:
            px = C.data.build_cache()["vqarad"]
            vf = C.image_features(px)
        else:
            vf = feats["vqarad"]
        images = [p for p, _ in C.data.vqarad_images()]
        pos = {p: k for k, p in enumerate(images)}
        t0 = time.time()
        prompts = [[C.START] + tok.ids(q["question"]) for q in qa]
        vg = C.greedy(model, torch.from_numpy(vf[[pos[q["image"]] for q in qa]]), prompts, 8, 0)
        out["vqa"] = [{"qid": q["qid"], "image": q["image"], "question": q["question"], "answer": q["answer"],
                       "answer_type": q["answer_type"], "question_type": q["question_type"], "prediction": C.decode(tok, g)}
                      for q, g in zip(qa, vg)]
        print(f"vqa: {len(qa)} in {time.time() - t0:.0f}s", flush=True)
    path = os.path.join(os.path.dirname(a.ckpt), f"eval-{a.split}{'-nr' + str(a.no_repeat) if a.no_repeat else ''}.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)
    print(path)


if __name__ == "__main__":
    main()
