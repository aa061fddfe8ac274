#!/usr/bin/python3
"""Build a tiny RANDOM CLIPSeg in transformers.js' CLIPSegForImageSegmentation layout, plus PyTorch references (tests only).

    /usr/bin/python3 test/support/build-tiny-clipseg.py OUT_DIR

An independent small PyTorch implementation of CLIPSeg (Lüddecke & Ecker, CVPR 2022) over a tiny CLIP, seeded:
- CLIP vision tower: 16-pixel patches of a 64x64 input (a 4x4 grid), class token, position embeddings, pre-LayerNorm,
  3 pre-LN transformer layers (quick-GELU MLPs); the hidden states after layers 1 and 2 are the decoder's activations;
- CLIP text tower: token + position embeddings, 2 causal pre-LN layers (padding masked), final LayerNorm, pooled at
  the last attention-mask position, projected to 16 (the conditional embedding);
- CLIPSeg decoder: per activation (deepest first) a linear reduction to 16, added to the running output; FiLM by the
  conditional embedding after the first; a transformer layer each; class token dropped; 4x4 grid → conv 3x3, ReLU,
  transposed conv x4, ReLU, transposed conv x4 → logits [B,64,64] (the input resolution, as CLIPSeg's patch/4 kernels give).
Exported as onnx/model.onnx: input_ids, attention_mask (int64 [B,L]), pixel_values (float32 [B,3,64,64]) → logits.
config.json model_type "clipseg"; preprocessor_config.json ViTImageProcessor (resize to 64x64, bilinear, no crop, as
CLIPSeg's processor does at 352); the tokenizer is medvlm-tiny's (token ids from training/tokenizer.py).

OUT_DIR/reference.json: for image.png (a 300x200 RGB image) and each prompt, PyTorch's probabilities sigmoid(logits)
at 64x64 and the path of the probability map resized to 300x200 (bilinear, align_corners=False), float32 little-endian.
"""
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'training'))
import tokenizer as T  # noqa: E402

OUT = sys.argv[1]
S, PATCH = 64, 16
G = S // PATCH
D, PROJ, R, HEADS = 32, 16, 16, 2
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
TINY = os.path.join(ROOT, 'models', 'medvlm-tiny')
torch.manual_seed(7)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class Layer(nn.Module):
    """A pre-LN transformer layer; `bias` is an additive attention bias [B,1,T,T] or None."""

    def __init__(self, width):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 2 * width)
        self.fc2 = nn.Linear(2 * width, width)

    def forward(self, x, bias=None):
        b, t, c = x.shape
        q, k, v = (z.reshape(b, t, HEADS, c // HEADS).transpose(1, 2) for z in self.qkv(self.ln1(x)).chunk(3, dim=-1))
        a = q @ k.transpose(-1, -2) / math.sqrt(c // HEADS)
        if bias is not None:
            a = a + bias
        x = x + self.out((torch.softmax(a, dim=-1) @ v).transpose(1, 2).reshape(b, t, c))
        return x + self.fc2(quick_gelu(self.fc1(self.ln2(x))))


class TinyCLIPSeg(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.patch = nn.Conv2d(3, D, PATCH, stride=PATCH, bias=False)
        self.cls = nn.Parameter(torch.randn(D))
        self.vpos = nn.Parameter(0.2 * torch.randn(1 + G * G, D))
        self.pre_ln = nn.LayerNorm(D)
        self.vlayers = nn.ModuleList([Layer(D) for _ in range(3)])
        self.tok = nn.Embedding(vocab, D)
        self.tpos = nn.Parameter(0.2 * torch.randn(64, D))
        self.tlayers = nn.ModuleList([Layer(D) for _ in range(2)])
        self.final_ln = nn.LayerNorm(D)
        self.text_proj = nn.Linear(D, PROJ, bias=False)
        self.reduces = nn.ModuleList([nn.Linear(D, R) for _ in range(2)])
        self.film_mul = nn.Linear(PROJ, R)
        self.film_add = nn.Linear(PROJ, R)
        self.dlayers = nn.ModuleList([Layer(R) for _ in range(2)])
        self.conv = nn.Conv2d(R, R, 3, padding=1)
        self.up1 = nn.ConvTranspose2d(R, R // 2, PATCH // 4, stride=PATCH // 4)
        self.up2 = nn.ConvTranspose2d(R // 2, 1, PATCH // 4, stride=PATCH // 4)

    def text_embedding(self, input_ids, attention_mask):
        b, t = input_ids.shape
        x = self.tok(input_ids) + self.tpos[:t]
        causal = torch.triu(torch.full((t, t), -1e4), diagonal=1)
        pad = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * -1e4
        for layer in self.tlayers:
            x = layer(x, causal[None, None] + pad)
        x = self.final_ln(x)
        last = attention_mask.sum(1) - 1
        pooled = x[torch.arange(b), last]
        return self.text_proj(pooled)

    def forward(self, input_ids, attention_mask, pixel_values):
        b = pixel_values.shape[0]
        x = self.patch(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(b, 1, D), x], dim=1) + self.vpos
        x = self.pre_ln(x)
        acts = []
        for i, layer in enumerate(self.vlayers):
            x = layer(x)
            if i in (0, 1):
                acts.append(x)
        cond = self.text_embedding(input_ids, attention_mask)
        out = None
        for i, (act, reduce, layer) in enumerate(zip(acts[::-1], self.reduces, self.dlayers)):
            out = reduce(act) if out is None else reduce(act) + out
            if i == 0:
                out = self.film_mul(cond)[:, None] * out + self.film_add(cond)[:, None]
            out = layer(out)
        out = out[:, 1:].transpose(1, 2).reshape(b, R, G, G)
        out = self.up2(torch.relu(self.up1(torch.relu(self.conv(out)))))
        return out[:, 0]


os.makedirs(os.path.join(OUT, 'onnx'), exist_ok=True)
for f in ('tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'):
    shutil.copy(os.path.join(TINY, f), os.path.join(OUT, f))
tok = T.WordPieceTokenizer.load(os.path.join(TINY, 'tokenizer.json'))
json.dump({'model_type': 'clipseg', 'architectures': ['CLIPSegForImageSegmentation'], 'note': 'tiny random test graph (not a real model)',
           'projection_dim': PROJ, 'reduce_dim': R, 'extract_layers': [1, 2], 'conditional_layer': 0,
           'text_config': {'hidden_size': D, 'num_hidden_layers': 2, 'num_attention_heads': HEADS, 'vocab_size': len(tok.vocab)},
           'vision_config': {'hidden_size': D, 'num_hidden_layers': 3, 'num_attention_heads': HEADS, 'image_size': S, 'patch_size': PATCH}},
          open(os.path.join(OUT, 'config.json'), 'w'), indent=1)
json.dump({'image_processor_type': 'ViTImageProcessor', 'processor_class': 'CLIPSegProcessor', 'do_resize': True,
           'size': {'height': S, 'width': S}, 'resample': 2, 'do_rescale': True, 'rescale_factor': 1 / 255,
           'do_normalize': True, 'image_mean': MEAN, 'image_std': STD},
          open(os.path.join(OUT, 'preprocessor_config.json'), 'w'), indent=1)
m = TinyCLIPSeg(len(tok.vocab)).eval()
with torch.no_grad():  # logits of a few units, so that the maps are not all ~0.5
    m.up2.weight.mul_(40.0)
ids = torch.tensor([[2, 10, 11, 3], [2, 12, 3, 0]])
torch.onnx.export(m, (ids, (ids != 0).long(), torch.randn(2, 3, S, S)), os.path.join(OUT, 'onnx', 'model.onnx'),
                  input_names=['input_ids', 'attention_mask', 'pixel_values'], output_names=['logits'],
                  dynamic_axes={'input_ids': {0: 'batch_size', 1: 'sequence_length'}, 'attention_mask': {0: 'batch_size', 1: 'sequence_length'},
                                'pixel_values': {0: 'batch_size'}, 'logits': {0: 'batch_size'}}, opset_version=14)

W0, H0 = 300, 200
yy, xx = np.mgrid[0:H0, 0:W0]
rng = np.random.default_rng(9)
img = np.stack([255 * (xx / W0), 128 + 90 * np.cos(xx / 23.0 + yy / 31.0), 255 * (yy / H0)], axis=-1)
img = np.clip(img + rng.normal(0, 10, img.shape), 0, 255).astype(np.uint8)
Image.fromarray(img).save(os.path.join(OUT, 'image.png'))
x = np.asarray(Image.fromarray(img).resize((S, S), Image.BILINEAR))
x = (x.astype(np.float64) * (1 / 255)).astype(np.float32)
x = ((x - np.array(MEAN, np.float32)) / np.array(STD, np.float32)).astype(np.float32)
px = torch.from_numpy(x.transpose(2, 0, 1)[None].copy())
ref = {'width': W0, 'height': H0, 'size': S, 'prompts': {}}
with torch.no_grad():
    for i, p in enumerate(['lesion', 'a polyp in the colon']):
        it = torch.tensor([tok.encode(p)])
        prob = torch.sigmoid(m(it, torch.ones_like(it), px))
        full = F.interpolate(prob[None], (H0, W0), mode='bilinear', align_corners=False)[0, 0]
        path = f'prob-{i}.f32'
        full.numpy().astype('<f4').tofile(os.path.join(OUT, path))
        ref['prompts'][p] = {'input_ids': it[0].tolist(), 'prob': prob[0].numpy().ravel().tolist(), 'full': path}
json.dump(ref, open(os.path.join(OUT, 'reference.json'), 'w'))
print('wrote', OUT)
