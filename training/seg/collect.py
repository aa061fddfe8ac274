"""Copy the training record of the runs into models/medvlm-tiny-seg/training/ and draw the curves.

    /usr/bin/python3 training/seg/collect.py --shipped run128 run128=/tmp/medvlm-seg/run128 run160=/tmp/medvlm-seg/run160

Writes training/run.json (settings of every run, which one shipped, train/val image counts, torch version),
training/log.jsonl (shipped run), training/log-<label>.jsonl (the others) and training/curves.png.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

import common as C


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shipped", required=True)
    ap.add_argument("runs", nargs="+", help="LABEL=DIR")
    a = ap.parse_args()
    out = os.path.join(C.SEG_DIR, "training")
    os.makedirs(out, exist_ok=True)
    runs, curves = [], []
    first = None
    for spec in a.runs:
        label, d = spec.split("=", 1)
        with open(os.path.join(d, "run.json")) as f:
            r = json.load(f)
        first = first or r
        log = "log.jsonl" if label == a.shipped else f"log-{label}.jsonl"
        shutil.copyfile(os.path.join(d, "log.jsonl"), os.path.join(out, log))
        args = {k: r[k] for k in ("size", "minutes", "cpu_minutes", "batch", "lr", "enc_lr", "neg_frac", "eval_every",
                                  "seed")}
        runs.append({"label": label, "log": log, "args": args, "params": r["params"],
                     "trainable_params": r["trainable_params"], "threads": r["threads"]})
        curves.append(f"{label}={os.path.join(out, log)}")
    doc = {"shipped": a.shipped, "runs": runs, "train_images": first["train_images"], "val_images": first["val_images"],
           "prompts": first["prompts"], "negative_prompts": first["negative_prompts"], "torch": first["torch"],
           "machine": "2 CPU cores shared with other agents' work; one thread per run (torch.set_num_threads(1))"}
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump(doc, f, indent=1)
    subprocess.run([sys.executable, os.path.join(C.HERE, "curves.py"), os.path.join(out, "curves.png"), *curves],
                   check=True)
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
