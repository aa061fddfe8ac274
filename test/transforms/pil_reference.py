"""Independent reference for medvlm's resize and preprocessing: Pillow's Image.resize, and the
Hugging Face image-processor semantics written out with numpy (shortest-edge size int(edge*long/short),
centre crop at floor((dim - crop) / 2) with zero padding, float64 rescale cast to float32,
float32 normalise, channels first).

usage: pil_reference.py JOBS.json OUT_DIR
JOBS.json: [{"kind": "resize"|"preprocess", "in": raw RGB file, "width": W, "height": H, ...}]
  resize: "out_width", "out_height", "filter" (Pillow number)
  preprocess: "config" (preprocessor_config.json fields)
writes OUT_DIR/<index>.bin: uint8 RGB (resize) or float32 [3, H, W] (preprocess).
"""
import json
import math
import os
import sys

import numpy as np
from PIL import Image


def load(job):
    raw = open(job["in"], "rb").read()
    return Image.frombytes("RGB", (job["width"], job["height"]), raw)


def preprocess(img, c):
    w, h = img.size
    if c.get("do_resize", True):
        size = c["size"]
        if "shortest_edge" in size:
            e = size["shortest_edge"]
            nw, nh = (e, int(e * h / w)) if w <= h else (int(e * w / h), e)
        else:
            nw, nh = size["width"], size["height"]
        img = img.resize((nw, nh), c.get("resample", 3))
    a = np.asarray(img)
    if c.get("do_center_crop", False):
        ch, cw = c["crop_size"]["height"], c["crop_size"]["width"]
        h, w = a.shape[:2]
        out = np.zeros((ch, cw, 3), dtype=np.uint8)
        top, left = (h - ch) // 2, (w - cw) // 2
        for y in range(ch):
            sy = y + top
            if 0 <= sy < h:
                for x in range(cw):
                    sx = x + left
                    if 0 <= sx < w:
                        out[y, x] = a[sy, sx]
        a = out
    x = a.astype(np.float64)
    if c.get("do_rescale", True):
        x = (x * c.get("rescale_factor", 1 / 255)).astype(np.float32)
    else:
        x = x.astype(np.float32)
    if c.get("do_normalize", True):
        mean = np.array(c["image_mean"], dtype=np.float32)
        std = np.array(c["image_std"], dtype=np.float32)
        x = (x - mean) / std
    return x.transpose(2, 0, 1).astype("<f4")


jobs = json.load(open(sys.argv[1]))
for i, job in enumerate(jobs):
    img = load(job)
    if job["kind"] == "resize":
        out = np.asarray(img.resize((job["out_width"], job["out_height"]), job["filter"])).tobytes()
    else:
        out = preprocess(img, job["config"]).tobytes()
    open(os.path.join(sys.argv[2], f"{i}.bin"), "wb").write(out)
