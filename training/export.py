"""Export a trained checkpoint to models/medvlm-tiny/ in the Hugging Face CLIP layout transformers.js loads.

    /usr/bin/python3 training/export.py [--ckpt training/out/best.pt]

Writes config.json, onnx/{model,text_model,vision_model}.onnx and their _quantized (q8) versions,
then checks every file with onnx.checker and against PyTorch through onnxruntime-node
(training/run_onnx.mjs); parity numbers go to models/medvlm-tiny/reference/onnx-parity.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import tokenizer as T  # noqa: E402
import zeroshot as Z  # noqa: E402
from model import Config, DualEncoder, count_params  # noqa: E402
from quantize import quantize_model  # noqa: E402

OPSET = 14


class TextWrap(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        e, h = self.m.text(input_ids, attention_mask)
        return F.normalize(e, dim=-1), h


class VisionWrap(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, pixel_values):
        e, h = self.m.vision(pixel_values)
        return F.normalize(e, dim=-1), h


class JointWrap(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, pixel_values):
        t = F.normalize(self.m.text(input_ids, attention_mask)[0], dim=-1)
        i = F.normalize(self.m.vision(pixel_values)[0], dim=-1)
        lpi = self.m.logit_scale.exp() * i @ t.t()
        return lpi, lpi.t(), t, i


def load(ckpt: str) -> DualEncoder:
    st = torch.load(ckpt, map_location="cpu")
    cfg = Config(**st["config"])
    m = DualEncoder(cfg)
    m.load_state_dict(st["model"])
    m.eval()
    return m


def write_config(m: DualEncoder, out: str, step: int):
    c = m.cfg
    conf = {
        "model_type": "clip",
        "architectures": ["CLIPModel"],
        "projection_dim": c.proj_dim,
        "logit_scale_init_value": float(m.logit_scale.detach()),
        "text_config": {
            "model_type": "clip_text_model", "vocab_size": c.vocab_size, "hidden_size": c.text_width,
            "intermediate_size": c.text_ff, "num_hidden_layers": c.text_layers,
            "num_attention_heads": c.text_heads, "max_position_embeddings": c.max_len,
            "hidden_act": "gelu", "projection_dim": c.proj_dim,
            "pad_token_id": T.PAD_ID, "bos_token_id": T.CLS_ID, "eos_token_id": T.SEP_ID,
        },
        "vision_config": {
            "model_type": "clip_vision_model", "image_size": c.image_size, "num_channels": 3,
            "hidden_size": c.widths[-1], "projection_dim": c.proj_dim,
            "patch_size": c.image_size // 6,
        },
        "medvlm": {
            "logit_scale": float(m.logit_scale.detach().exp()),
            "logit_bias": 0,
            "pooling": "text: mean of last_hidden_state over attention_mask positions; "
                       "image: global average pool of the last CNN stage (6x6)",
            "embeddings_normalized": True,
            "architecture": f"CNN image tower (stem conv4x4/4, widths {c.widths}, depths {c.depths}) + "
                            f"{c.text_layers}-layer pre-LN text transformer (width {c.text_width})",
            "parameters": count_params(m),
            "checkpoint_step": step,
            "zero_shot_prompts": {
                "modality": {k: data.modality_sentence(k) for k in data.MODALITY_WORDS},
                "location_category": {k: data.location_sentence(k) for k in data.LOCATIONS},
                "pneumonia": {"normal": data.PNEU_SENTENCES[0], "pneumonia": data.PNEU_SENTENCES[1]},
                "busi": data.BUSI_SENTENCES,
            },
        },
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(conf, f, indent=1)


def export_onnx(m: DualEncoder, out: str):
    od = os.path.join(out, "onnx")
    os.makedirs(od, exist_ok=True)
    ids = torch.tensor([[2, 10, 11, 12, 3], [2, 13, 3, 0, 0]])
    mask = (ids != 0).long()
    px = torch.randn(3, 3, 96, 96)
    tb, ib = "text_batch_size", "image_batch_size"
    common = dict(opset_version=OPSET, do_constant_folding=True)
    torch.onnx.export(TextWrap(m).eval(), (ids, mask), os.path.join(od, "text_model.onnx"),
                      input_names=["input_ids", "attention_mask"], output_names=["text_embeds", "last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                    "attention_mask": {0: "batch_size", 1: "sequence_length"},
                                    "text_embeds": {0: "batch_size"},
                                    "last_hidden_state": {0: "batch_size", 1: "sequence_length"}}, **common)
    torch.onnx.export(VisionWrap(m).eval(), (px,), os.path.join(od, "vision_model.onnx"),
                      input_names=["pixel_values"], output_names=["image_embeds", "last_hidden_state"],
                      dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"},
                                    "last_hidden_state": {0: "batch_size"}}, **common)
    torch.onnx.export(JointWrap(m).eval(), (ids, mask, px), os.path.join(od, "model.onnx"),
                      input_names=["input_ids", "attention_mask", "pixel_values"],
                      output_names=["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"],
                      dynamic_axes={"input_ids": {0: tb, 1: "sequence_length"},
                                    "attention_mask": {0: tb, 1: "sequence_length"},
                                    "pixel_values": {0: ib},
                                    "logits_per_image": {0: ib, 1: tb}, "logits_per_text": {0: tb, 1: ib},
                                    "text_embeds": {0: tb}, "image_embeds": {0: ib}}, **common)
    stats = {}
    for name in ("text_model", "vision_model", "model"):
        p = os.path.join(od, f"{name}.onnx")
        onnx.checker.check_model(onnx.load(p))
        stats[name] = quantize_model(p, os.path.join(od, f"{name}_quantized.onnx"))
    return stats


def parity(m: DualEncoder, out: str) -> dict:
    """Run every ONNX file in onnxruntime-node on fixed inputs and compare with PyTorch."""
    tok = T.WordPieceTokenizer.load(os.path.join(out, "tokenizer.json"))
    texts = ["a CT image of the head", "an axial MR image of the abdomen", "a chest x-ray with pneumonia",
             "Large hypodense lesion in the right hepatic lobe with peripheral enhancement and a central scar."]
    ids, mask = tok.batch(texts)
    d = data.build_cache()
    u8 = np.concatenate([d["medpix_plain"][:3], d["busi"][:2], d["pmnist"][:2]])
    px = Z.to_pixel_values(u8)
    ids_t, mask_t = torch.tensor(ids), torch.tensor(mask)
    m.eval()
    with torch.no_grad():
        ref = [o.numpy() for o in JointWrap(m)(ids_t, mask_t, px)]
        ref_t = [o.numpy() for o in TextWrap(m)(ids_t, mask_t)]
        ref_v = [o.numpy() for o in VisionWrap(m)(px)]
    tmp = os.path.join(data.OUT, "parity")
    os.makedirs(tmp, exist_ok=True)
    feeds = {"input_ids": {"type": "int64", "dims": list(ids_t.shape), "data": ids_t.flatten().tolist()},
             "attention_mask": {"type": "int64", "dims": list(mask_t.shape), "data": mask_t.flatten().tolist()},
             "pixel_values": {"type": "float32", "dims": list(px.shape), "data": px.flatten().tolist()}}
    with open(os.path.join(tmp, "feeds.json"), "w") as f:
        json.dump(feeds, f)
    res = {}
    want = {"model": (["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"], ref),
            "text_model": (["text_embeds", "last_hidden_state"], ref_t),
            "vision_model": (["image_embeds", "last_hidden_state"], ref_v)}
    for name, (outs, refs) in want.items():
        for suffix in ("", "_quantized"):
            fn = f"{name}{suffix}.onnx"
            dump = os.path.join(tmp, f"{name}{suffix}.json")
            subprocess.run(["node", os.path.join(data.ROOT, "training", "run_onnx.mjs"),
                            os.path.join(out, "onnx", fn), os.path.join(tmp, "feeds.json"), dump],
                           check=True, cwd=data.ROOT)
            got = json.load(open(dump))
            r = {}
            for o, rv in zip(outs, refs):
                gv = np.array(got[o]["data"], dtype=np.float32).reshape(got[o]["dims"])
                if o.endswith("embeds"):
                    cos = (gv * rv).sum(-1) / (np.linalg.norm(gv, axis=-1) * np.linalg.norm(rv, axis=-1))
                    r[o] = {"min_cosine": float(cos.min()), "max_abs_diff": float(np.abs(gv - rv).max())}
                elif o == "last_hidden_state":
                    g2, r2 = gv.reshape(-1, gv.shape[-1]), rv.reshape(-1, rv.shape[-1])
                    if name == "text_model":  # compare real tokens only
                        keep = mask_t.flatten().numpy().astype(bool)
                        g2, r2 = g2[keep], r2[keep]
                    cos = (g2 * r2).sum(-1) / (np.linalg.norm(g2, axis=-1) * np.linalg.norm(r2, axis=-1) + 1e-12)
                    r[o] = {"min_cosine": float(cos.min()), "max_abs_diff": float(np.abs(g2 - r2).max())}
                else:
                    r[o] = {"max_abs_diff": float(np.abs(gv - rv).max()),
                            "argmax_agree": float((gv.argmax(-1) == rv.argmax(-1)).mean())}
            res[fn] = r
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(data.OUT, "best.pt"))
    ap.add_argument("--out", default=data.MODEL_DIR)
    args = ap.parse_args()
    torch.set_num_threads(1)
    st = torch.load(args.ckpt, map_location="cpu")
    m = load(args.ckpt)
    write_config(m, args.out, st["step"])
    qstats = export_onnx(m, args.out)
    par = parity(m, args.out)
    sizes = {f: os.path.getsize(os.path.join(args.out, "onnx", f)) for f in sorted(os.listdir(os.path.join(args.out, "onnx")))}
    rep = {"opset": OPSET, "checkpoint_step": st["step"], "parameters": count_params(m), "file_bytes": sizes,
           "total_onnx_bytes": sum(sizes.values()), "quantized_ops": qstats, "parity_vs_pytorch": par,
           "runtime": "onnxruntime-node (node_modules, 1.30) via training/run_onnx.mjs"}
    os.makedirs(os.path.join(args.out, "reference"), exist_ok=True)
    with open(os.path.join(args.out, "reference", "onnx-parity.json"), "w") as f:
        json.dump(rep, f, indent=1)
    print(json.dumps(rep, indent=1))


if __name__ == "__main__":
    main()
