"""Writes checkpoint fixtures with Debian's PyTorch for test/convert/checkpoint.test.ts.

usage: make_checkpoints.py OUT_DIR
Writes zip and legacy torch.save files (fp32, fp16, bf16, a non-contiguous view, wrapped in
{"state_dict": ..., "epoch": ...} with "module." prefixes), a safetensors file (written by hand: the
format is an 8-byte header length, a JSON header and the raw bytes), a pickle whose REDUCE calls
os.system, and expected.json with every tensor's values as float64 lists.
"""
import json, os, struct, sys

import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
g = torch.Generator().manual_seed(7)
base = {
    "w": torch.randn(3, 5, generator=g),
    "b": torch.randn(5, generator=g),
    "scalar": torch.tensor(2.5),
    "ids": torch.arange(7, dtype=torch.int64),
}
base["wt"] = base["w"].t()  # a non-contiguous view sharing the storage of "w"
base["half"] = torch.randn(4, 2, generator=g).half()
base["bf"] = torch.randn(6, generator=g).to(torch.bfloat16)
base["row"] = base["w"][1]  # a view with a storage offset

expected = {k: v.float().reshape(-1).tolist() for k, v in base.items()}
shapes = {k: list(v.shape) for k, v in base.items()}
json.dump({"values": expected, "shapes": shapes}, open(os.path.join(out, "expected.json"), "w"))

torch.save(base, os.path.join(out, "zip.pt"))
torch.save(base, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)
wrapped = {"epoch": 3, "state_dict": {"module." + k: torch.nn.Parameter(v) if v.is_floating_point() else v for k, v in base.items()}, "lr": 0.1}
torch.save(wrapped, os.path.join(out, "wrapped.pt"))
torch.save(wrapped, os.path.join(out, "wrapped-legacy.pt"), _use_new_zipfile_serialization=False)

# safetensors, written from the format description (no safetensors package needed).
names = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
header, blobs, offset = {}, [], 0
for k, v in base.items():
    v = v.contiguous()
    dtype = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}[v.dtype]
    raw = v.view(torch.uint8).numpy().tobytes() if v.dim() else v.reshape(1).view(torch.uint8).numpy().tobytes()
    header[k] = {"dtype": dtype, "shape": list(v.shape), "data_offsets": [offset, offset + len(raw)]}
    blobs.append(raw)
    offset += len(raw)
header["__metadata__"] = {"format": "pt"}
hb = json.dumps(header).encode()
hb += b" " * ((8 - len(hb) % 8) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))

# A malicious pickle: unpickling it would run os.system(touch MARKER).
marker = os.path.join(out, "PWNED")


class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + marker,))


torch.save({"w": base["w"], "evil": Evil()}, os.path.join(out, "evil.pt"))
torch.save({"w": base["w"], "evil": Evil()}, os.path.join(out, "evil-legacy.pt"), _use_new_zipfile_serialization=False)
# A truncated checkpoint: the first 60% of the zip file.
data = open(os.path.join(out, "zip.pt"), "rb").read()
open(os.path.join(out, "truncated.pt"), "wb").write(data[: int(len(data) * 0.6)])
data = open(os.path.join(out, "legacy.pt"), "rb").read()
open(os.path.join(out, "truncated-legacy.pt"), "wb").write(data[:-10])
print("ok")
