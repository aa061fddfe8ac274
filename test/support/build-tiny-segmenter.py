#!/usr/bin/python3
"""Build a tiny RANDOM text-prompted segmenter in the medvlm-tiny-seg contract, for tests (not a real model).

    /usr/bin/python3 test/support/build-tiny-segmenter.py OUT_DIR

Writes OUT_DIR/{config.json, preprocessor_config.json, tokenizer*.json, special_tokens_map.json, onnx/model.onnx,
reference.json}. The graph: conv stem on pixel_values [B,3,32,32] → 8x8 features, mean-pooled token embeddings
(attention-masked) → FiLM scale/shift → 1x1 conv → logits [B,1,8,8]. reference.json holds PyTorch's logits for
a fixed 32x32 RGB image (so the processor's resize is the identity) and two prompts, with the token ids from
the medvlm-tiny tokenizer (training/tokenizer.py, an independent implementation of the HF tokenizer).
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
sys.path.insert(0, os.path.join(ROOT, 'training'))
import tokenizer as T  # noqa: E402

OUT = sys.argv[1]
S = 32
TINY = os.path.join(ROOT, 'models', 'medvlm-tiny')
torch.manual_seed(0)


class TinySeg(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 4, stride=4), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1))
        self.tok = nn.Embedding(vocab, 8)
        self.film = nn.Linear(8, 16)
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, pixel_values, input_ids, attention_mask):
        f = self.stem(pixel_values)
        m = attention_mask.to(f.dtype)
        t = (self.tok(input_ids) * m[:, :, None]).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)
        g, b = self.film(t).chunk(2, dim=-1)
        f = torch.relu(f * (1 + g[:, :, None, None]) + b[:, :, None, None])
        return self.head(f)


os.makedirs(os.path.join(OUT, 'onnx'), exist_ok=True)
for f in ('tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'):
    shutil.copy(os.path.join(TINY, f), os.path.join(OUT, f))
pp = json.load(open(os.path.join(TINY, 'preprocessor_config.json')))
pre = {'image_processor_type': 'CLIPImageProcessor', 'do_convert_rgb': True, 'do_resize': True,
       'size': {'height': S, 'width': S}, 'resample': 3, 'do_center_crop': False, 'do_rescale': True,
       'rescale_factor': 1 / 255, 'do_normalize': True, 'image_mean': pp['image_mean'], 'image_std': pp['image_std']}
json.dump(pre, open(os.path.join(OUT, 'preprocessor_config.json'), 'w'), indent=1)
tok = T.WordPieceTokenizer.load(os.path.join(TINY, 'tokenizer.json'))
vocab = len(tok.vocab)
json.dump({'model_type': 'medvlm-text-segmenter', 'image_size': S, 'max_text_length': 64, 'threshold': 0.5,
           'prompts': {'lesion': 'a lesion', 'polyp': 'a polyp'}, 'note': 'tiny random test graph'},
          open(os.path.join(OUT, 'config.json'), 'w'), indent=1)
m = TinySeg(vocab).eval()
ids = torch.tensor([[2, 10, 11, 3], [2, 12, 3, 0]])
torch.onnx.export(m, (torch.randn(2, 3, S, S), ids, (ids != 0).long()), os.path.join(OUT, 'onnx', 'model.onnx'),
                  input_names=['pixel_values', 'input_ids', 'attention_mask'], output_names=['logits'],
                  dynamic_axes={'pixel_values': {0: 'batch_size'}, 'input_ids': {0: 'batch_size', 1: 'sequence_length'},
                                'attention_mask': {0: 'batch_size', 1: 'sequence_length'}, 'logits': {0: 'batch_size'}},
                  opset_version=14)
rng = np.random.default_rng(3)
img = rng.integers(0, 256, (S, S, 3), dtype=np.uint8)
mean = np.array(pp['image_mean'], np.float32)
std = np.array(pp['image_std'], np.float32)
px = torch.from_numpy(((img.astype(np.float32) / 255 - mean) / std).transpose(2, 0, 1)[None].copy())
prompts = ['a lesion', 'a polyp in the colon']
ref = {'image_rgb': img.ravel().tolist(), 'size': S, 'prompts': {}}
with torch.no_grad():
    for p in prompts:
        ids = tok.encode(p)
        it = torch.tensor([ids])
        logits = m(px, it, torch.ones_like(it))
        ref['prompts'][p] = {'input_ids': ids, 'logits': logits[0, 0].numpy().ravel().tolist()}
json.dump(ref, open(os.path.join(OUT, 'reference.json'), 'w'))
print('wrote', OUT)
