#!/usr/bin/env python3
"""Write the recorded splits for the dense tasks (issue 11): Kvasir-SEG and LGG MRI.

Deterministic: sorted names, random.Random(0).shuffle, fixed counts. Reads ../shared/data (never committed);
writes datasets/splits/kvasir-seg.json and datasets/splits/lgg.json. BUSI reuses models/medvlm-tiny/splits/busi.json.

Kvasir-SEG: 1000 images -> test 120 (the literature's usual size), val 80, train 800.
LGG: split by PATIENT (neighbouring slices are near-duplicates): 19 patients -> train 11, val 3, test 5.
"""
import csv
import json
import os
import random
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data")


def write(name, obj):
    path = os.path.join(ROOT, "datasets", "splits", name)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    print("wrote", path)


def kvasir():
    names = sorted(n for n in os.listdir(os.path.join(DATA, "kvasir_seg", "images")) if n.endswith(".jpg"))
    assert len(names) == 1000, len(names)
    random.Random(0).shuffle(names)
    test, val, train = names[:120], names[120:200], names[200:]
    write("kvasir-seg.json", {
        "dataset": "kvasir_seg",
        "seed": 0,
        "method": "random.Random(0).shuffle of sorted image names; first 120 test, next 80 val, rest (800) train",
        "images": "kvasir_seg/images/<name>, mask kvasir_seg/masks/<name> (JPEG, threshold at 128)",
        "train": sorted(train), "val": sorted(val), "test": sorted(test),
    })


def lgg():
    rows = list(csv.DictReader(open(os.path.join(DATA, "lgg_mri", "manifest.csv"))))
    patients = sorted({r["patient"] for r in rows})
    assert len(patients) == 19, len(patients)
    random.Random(0).shuffle(patients)
    split = {"test": sorted(patients[:5]), "val": sorted(patients[5:8]), "train": sorted(patients[8:])}
    out = {
        "dataset": "lgg_mri",
        "seed": 0,
        "method": "by patient: random.Random(0).shuffle of sorted patient ids; first 5 test, next 3 val, rest (11) train",
        "images": "lgg_mri/<image> from manifest.csv; normal = tumour_pixels == 0",
        "patients": split,
    }
    for name, pts in split.items():
        chosen = [r for r in rows if r["patient"] in pts]
        out[name] = [r["image"] for r in chosen]
        out[name + "_counts"] = {"slices": len(chosen), "tumour": sum(int(r["tumour_pixels"]) > 0 for r in chosen)}
    write("lgg.json", out)


kvasir()
lgg()
