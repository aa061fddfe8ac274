"""Copies a checkpoint folder with one change to its state dict, for the converter's bad-input tests.

usage: mutate.py SRC_DIR OUT_DIR (drop KEY | reshape KEY | rename OLD NEW | half)
"""
import os
import shutil
import sys

import torch

src, out, action = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.copytree(src, out)
path = os.path.join(out, "open_clip_pytorch_model.bin")
sd = torch.load(path, map_location="cpu")
if action == "drop":
    del sd[sys.argv[4]]
elif action == "reshape":
    t = sd[sys.argv[4]]
    sd[sys.argv[4]] = torch.zeros(t.shape[0] + 1, *t.shape[1:])
elif action == "rename":
    sd[sys.argv[5]] = sd.pop(sys.argv[4])
elif action == "half":
    sd = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
torch.save(sd, path)
