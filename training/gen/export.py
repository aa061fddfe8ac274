"""Export medvlm-tiny-gen to the transformers.js `vision-encoder-decoder` layout.

/usr/bin/python3 training/gen/export.py --ckpt training/out/gen/run1/best.pt [--out models/medvlm-tiny-gen]

- onnx/encoder_model.onnx: medvlm-tiny's vision_model.onnx graph up to its 36 feature tokens (same initializers),
  then + learned positions and LayerNorm -> last_hidden_state [B, 36, 192].
- onnx/decoder_model_merged.onnx: input_ids, encoder_hidden_states, use_cache_branch (unused: one graph serves
  both the first step with empty past and the later steps), past_key_values.{i}.key/value [B, H, past, dh] ->
  logits, present.{i}.key/value (past concatenated with the new keys/values).
- config.json, generation_config.json, preprocessor_config.json (medvlm-tiny's), tokenizer files (medvlm-tiny's).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

import common as C

OPSET = 17


class G:
    """A tiny graph builder over onnx.helper."""

    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base="t"):
        self.n += 1
        return f"{base}_{self.n}"

    def init(self, name, arr, dtype=np.float32):
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def const_i64(self, vals, scalar=False):
        return self.init(self.name("c"), np.array(vals[0] if scalar else vals, dtype=np.int64), np.int64)

    def const_f(self, val):
        return self.init(self.name("c"), np.array(val, dtype=np.float32))

    def op(self, op, inputs, out=None, **attrs):
        out = out or self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def linear(self, x, lin: torch.nn.Linear, p):
        w = self.init(p + ".weight", lin.weight.detach().numpy().T)
        b = self.init(p + ".bias", lin.bias.detach().numpy())
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def ln(self, x, m: torch.nn.LayerNorm, p, out=None):
        return self.op("LayerNormalization", [x, self.init(p + ".weight", m.weight.detach().numpy()), self.init(p + ".bias", m.bias.detach().numpy())],
                       out, axis=-1, epsilon=1e-5)

    def heads(self, x, h, dh):
        return self.op("Transpose", [self.op("Reshape", [x, self.const_i64([0, 0, h, dh])])], perm=[0, 2, 1, 3])

    def attend(self, q, k, v, out_lin, p, width, h, bias=None):
        dh = width // h
        s = self.op("Mul", [self.op("MatMul", [q, self.op("Transpose", [k], perm=[0, 1, 3, 2])]), self.const_f(1 / np.sqrt(dh))])
        if bias:
            s = self.op("Add", [s, bias])
        ctx = self.op("MatMul", [self.op("Softmax", [s], axis=-1), v])
        merged = self.op("Reshape", [self.op("Transpose", [ctx], perm=[0, 2, 1, 3]), self.const_i64([0, 0, width])])
        return self.linear(merged, out_lin, p + ".o")

    def gelu(self, x):
        erf = self.op("Erf", [self.op("Mul", [x, self.const_f(np.float32(1 / np.sqrt(2)))])])
        return self.op("Mul", [self.op("Mul", [x, self.const_f(0.5)]), self.op("Add", [erf, self.const_f(1.0)])])


def export_encoder(model: C.TinyGen, path: str) -> None:
    src = onnx.load(os.path.join(C.TINY, "onnx", "vision_model.onnx"))
    g = src.graph
    # keep only what last_hidden_state needs, renamed to the tower's tokens
    needed, keep = {"last_hidden_state"}, []
    for n in reversed(g.node):
        if any(o in needed for o in n.output):
            keep.append(n)
            needed.update(n.input)
    keep.reverse()
    for n in keep:
        n.output[:] = ["tower_tokens" if o == "last_hidden_state" else o for o in n.output]
    b = G()
    x = b.op("Add", ["tower_tokens", b.init("enc.pos", model.enc_pos.detach().numpy()[None])])
    b.ln(x, model.enc_ln, "enc.ln", out="last_hidden_state")
    inits = [i for i in g.initializer if i.name in needed] + b.inits
    graph = helper.make_graph(keep + b.nodes, "encoder_model", [g.input[0]],
                              [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch_size", 36, 192])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="medvlm-tiny-gen")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


def export_decoder(model: C.TinyGen, path: str) -> None:
    c = model.cfg
    D, H = c.width, c.heads
    dh = D // H
    b = G()
    zero = b.const_i64([0], scalar=True)
    past_len = b.op("Gather", [b.op("Shape", ["past_key_values.0.key"]), b.const_i64([2], scalar=True)], axis=0)
    new_len = b.op("Gather", [b.op("Shape", ["input_ids"]), b.const_i64([1], scalar=True)], axis=0)
    total = b.op("Add", [past_len, new_len])
    one = b.const_i64([1], scalar=True)
    positions = b.op("Range", [past_len, total, one])
    wte = b.init("dec.wte", model.wte.weight.detach().numpy())
    x = b.op("Add", [b.op("Gather", [wte, "input_ids"], axis=0), b.op("Gather", [b.init("dec.wpe", model.wpe.detach().numpy()), positions], axis=0)])
    key_pos = b.op("Range", [zero, total, one])
    later = b.op("Greater", [b.op("Unsqueeze", [key_pos, b.const_i64([0])]), b.op("Unsqueeze", [positions, b.const_i64([1])])])
    causal = b.op("Where", [later, b.const_f(-1e9), b.const_f(0.0)])
    enc = "encoder_hidden_states"
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "decoder_sequence_length"]),
              helper.make_tensor_value_info(enc, TensorProto.FLOAT, ["batch_size", "encoder_sequence_length", c.enc_width]),
              helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "decoder_sequence_length", c.vocab_size])]
    for i, L in enumerate(model.layers):
        p = f"dec.layers.{i}"
        for kv in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kv}", TensorProto.FLOAT, ["batch_size", H, "past_decoder_sequence_length", dh]))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{kv}", TensorProto.FLOAT, ["batch_size", H, "past_decoder_sequence_length + 1", dh]))
        h1 = b.ln(x, L.ln1, p + ".ln1")
        q = b.heads(b.linear(h1, L.sq, p + ".self.q"), H, dh)
        k = b.op("Concat", [f"past_key_values.{i}.key", b.heads(b.linear(h1, L.sk, p + ".self.k"), H, dh)], f"present.{i}.key", axis=2)
        v = b.op("Concat", [f"past_key_values.{i}.value", b.heads(b.linear(h1, L.sv, p + ".self.v"), H, dh)], f"present.{i}.value", axis=2)
        x = b.op("Add", [x, b.attend(q, k, v, L.so, p + ".self", D, H, causal)])
        h2 = b.ln(x, L.lnx, p + ".lnx")
        cq = b.heads(b.linear(h2, L.cq, p + ".cross.q"), H, dh)
        ck = b.heads(b.linear(enc, L.ck, p + ".cross.k"), H, dh)
        cv = b.heads(b.linear(enc, L.cv, p + ".cross.v"), H, dh)
        x = b.op("Add", [x, b.attend(cq, ck, cv, L.co, p + ".cross", D, H)])
        h3 = b.ln(x, L.ln2, p + ".ln2")
        x = b.op("Add", [x, b.linear(b.gelu(b.linear(h3, L.fc1, p + ".mlp.fc1")), L.fc2, p + ".mlp.fc2")])
    hf = b.ln(x, model.ln_f, "dec.ln_f")
    b.op("MatMul", [hf, b.op("Transpose", [wte], perm=[1, 0])], "logits")
    graph = helper.make_graph(b.nodes, "decoder_model_merged", inputs, outputs, b.inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="medvlm-tiny-gen")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def load_model(ckpt: str) -> C.TinyGen:
    ck = torch.load(ckpt, map_location="cpu")
    model = C.TinyGen(C.Config(**ck["cfg"]))
    model.load_state_dict(ck["state"])
    return model.eval()


def export(ckpt: str, out: str) -> None:
    model = load_model(ckpt)
    c = model.cfg
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    export_encoder(model, os.path.join(out, "onnx", "encoder_model.onnx"))
    export_decoder(model, os.path.join(out, "onnx", "decoder_model_merged.onnx"))
    ids = {"decoder_start_token_id": C.START, "bos_token_id": C.START, "eos_token_id": C.EOS, "pad_token_id": C.PAD}
    write_json(os.path.join(out, "config.json"), {
        "model_type": "vision-encoder-decoder", "architectures": ["VisionEncoderDecoderModel"], "is_encoder_decoder": True, **ids,
        "encoder": {"model_type": "vit", "hidden_size": c.enc_width, "num_hidden_layers": 0, "num_attention_heads": 1,
                    "image_size": 96, "num_channels": 3,
                    "medvlm_note": "medvlm-tiny's CNN image tower (6x6 feature map as 36 tokens) + learned positions + LayerNorm"},
        "decoder": {"model_type": "gpt2", "n_embd": c.width, "n_layer": c.layers, "n_head": c.heads, "n_positions": c.max_positions,
                    "vocab_size": c.vocab_size, "add_cross_attention": True, "is_decoder": True, "activation_function": "gelu",
                    "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True, **ids},
        "medvlm": {"research_use": "Research use only; not a medical device; not for diagnosis.",
                   "prompts": {"report": "", "question": "the question itself, e.g. 'is this a ct scan?'"}},
    })
    write_json(os.path.join(out, "generation_config.json"), {**ids, "max_length": c.max_positions})
    for f in ("preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(C.TINY, f), os.path.join(out, f))
    tc = json.load(open(os.path.join(out, "tokenizer_config.json")))
    tc["model_max_length"] = c.max_positions
    write_json(os.path.join(out, "tokenizer_config.json"), tc)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", default=os.path.join(C.ROOT, "models", "medvlm-tiny-gen"))
    a = ap.parse_args()
    export(a.ckpt, a.out)
