"""open_clip's eval preprocessing, as torchvision applies it to a PIL image, without torchvision:
Resize(image_size, BICUBIC) on the shortest edge (long edge = int(size * long / short)),
CenterCrop(image_size) (offsets int(round((dim - size) / 2))), ToTensor (/255), Normalize(mean, std).

usage: preprocess_ref.py IMAGES.json SIZE OUT.f32
IMAGES.json: [{"path": raw RGB bytes file, "width": W, "height": H}, ...] (the RGB view medvlm decoded)
writes float32 [N, 3, SIZE, SIZE].
"""
import json
import sys

import numpy as np
from PIL import Image

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)

items = json.load(open(sys.argv[1]))
size = int(sys.argv[2])
out = []
for it in items:
    w, h = it["width"], it["height"]
    img = Image.frombytes("RGB", (w, h), open(it["path"], "rb").read())
    if w <= h:
        nw, nh = size, int(size * h / w)
    else:
        nw, nh = int(size * w / h), size
    img = img.resize((nw, nh), Image.BICUBIC)
    top, left = int(round((nh - size) / 2.0)), int(round((nw - size) / 2.0))
    img = img.crop((left, top, left + size, top + size))
    x = (np.asarray(img, dtype=np.float32) / 255.0 - MEAN) / STD
    out.append(x.transpose(2, 0, 1))
np.stack(out).astype("<f4").tofile(sys.argv[3])
