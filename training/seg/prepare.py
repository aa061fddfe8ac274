"""Preprocess BUSI and Kvasir-SEG once into a cached uint8 tensor file (not committed).

    /usr/bin/python3 training/seg/prepare.py --size 128 [--data DIR]

Images go through transformers.js' own CLIPImageProcessor (training/seg/preprocess.mjs) with the seg model's
preprocessor settings (resize to exactly S x S, no crop), so training sees what medvlm feeds the model. Masks are
resized with PIL (bilinear on 0/255, kept as uint8 so the loss sees soft edges). Every split is cached; only
evaluate.py reads the test entries.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess

import numpy as np

import common as C


def preprocessor_config(size: int) -> dict:
    mean, std = C.norm_params()
    return {"image_processor_type": "CLIPImageProcessor", "do_convert_rgb": True, "do_resize": True,
            "size": {"height": size, "width": size}, "resample": 3, "do_center_crop": False,
            "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": mean, "image_std": std}


def node_preprocess(paths: list[str], size: int, work: str) -> np.ndarray:
    """uint8 [N,3,S,S] from transformers.js' CLIPImageProcessor with preprocessor_config(size)."""
    pdir = os.path.join(work, f"proc{size}")
    os.makedirs(pdir, exist_ok=True)
    with open(os.path.join(pdir, "preprocessor_config.json"), "w") as f:
        json.dump(preprocessor_config(size), f)
    lst, out = os.path.join(work, f"list{size}.json"), os.path.join(work, f"px{size}.bin")
    with open(lst, "w") as f:
        json.dump(paths, f)
    subprocess.run(["node", os.path.join(C.HERE, "preprocess.mjs"), pdir, lst, out], check=True, cwd=C.ROOT)
    arr = np.fromfile(out, dtype=np.uint8).reshape(len(paths), 3, size, size)
    os.remove(out)
    return arr


def cache_path(size: int) -> str:
    return os.path.join(C.OUT, f"cache-{size}.npz")


def build(data: str, size: int) -> dict:
    from PIL import Image

    sp = C.splits()
    names, dss, spl, paths, masks = [], [], [], [], []
    for ds in ("busi", "kvasir"):
        for s in ("train", "val", "test"):
            for n in sp[ds][s]:
                names.append(n)
                dss.append(ds)
                spl.append(s)
                paths.append(C.image_path(data, ds, n))
                m = Image.fromarray(C.load_mask(C.mask_path(data, ds, n)).astype(np.uint8) * 255)
                masks.append(np.asarray(m.resize((size, size), Image.BILINEAR)))
    px = node_preprocess(paths, size, C.OUT)
    d = {"px": px, "mask": np.stack(masks).astype(np.uint8), "name": np.array(names), "ds": np.array(dss),
         "split": np.array(spl)}
    np.savez(cache_path(size), **d)
    return d


def load(size: int, data: str | None = None) -> dict:
    p = cache_path(size)
    if not os.path.exists(p):
        return build(C.data_root(data), size)
    return dict(np.load(p))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--data", default=None)
    a = ap.parse_args()
    os.makedirs(C.OUT, exist_ok=True)
    d = build(C.data_root(a.data), a.size)
    print({k: v.shape for k, v in d.items()})


if __name__ == "__main__":
    main()
