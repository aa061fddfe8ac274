#!/usr/bin/python3
"""Build tiny RANDOM SAM-family graphs in transformers.js' SAM layout, plus PyTorch reference outputs (tests only).

    /usr/bin/python3 test/support/build-tiny-sam.py OUT_DIR

An independent small PyTorch implementation of SAM (Kirillov et al. 2023) with the semantics of Hugging Face's
SamModel / SamProcessor, seeded weights, exported with torch.onnx.export under the names transformers.js' SamModel
feeds (src/models/sam/modeling_sam.js):
- vision encoder (tiny ViT with absolute position embeddings + the conv/LayerNorm2d neck):
  onnx/vision_encoder.onnx  pixel_values [B,3,64,64] -> image_embeddings [B,32,8,8], image_positional_embeddings
  [B,32,8,8] (the random-Fourier encoding of the embedding grid's cell centres, repeated per image);
- prompt encoder (random-Fourier positional encoding of points/box corners shifted to pixel centres and divided by
  the input size, label embeddings, the not-a-point embedding, the no-mask dense embedding) + two-way-transformer mask
  decoder (4 mask tokens + IoU token, transposed-conv upscaling x4, hypernetwork MLPs, IoU head; multimask output =
  masks 1..3): onnx/prompt_encoder_mask_decoder.onnx  image_embeddings, image_positional_embeddings,
  input_points [B,P,N,2] (float32, pixels of the resized frame), input_labels [B,P,N] (int64: 1 fg, 0 bg, -1 not a
  point, -10 padding) [, input_boxes [B,P,4]] -> iou_scores [B,P,3], pred_masks [B,P,3,32,32].

Two folders: OUT_DIR/points (no input_boxes: like the optimum/Xenova exports; a not-a-point token is appended to the
points, as Hugging Face does without a box) and OUT_DIR/boxes (with input_boxes; points are not padded, as Hugging Face
does with a box). Both share the weights. OUT_DIR/reference.json holds the prompts and, per case, PyTorch's iou scores,
the chosen mask (arg-max IoU) and the path of its logits post-processed to the original image size (Hugging Face's
post_process_masks: bilinear to the padded input square, crop to the resized frame, bilinear to the original size; all
align_corners=False), as float32 little-endian. The test image (300x200, RGB, image.rgb) needs resizing (longest side
64, Pillow bilinear, sizes rounded as int(x + 0.5)) and padding (bottom/right, zeros after normalising).
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

OUT = sys.argv[1]
S = 64  # input square (longest side and pad size)
P = 8  # patch
G = S // P  # embedding grid
D = 32  # ViT width
C = 32  # prompt/decoder width (= neck output channels)
HEADS = 2
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
torch.manual_seed(11)


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of a [B,C,H,W] map."""

    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(1 + 0.1 * torch.randn(c))
        self.bias = nn.Parameter(0.1 * torch.randn(c))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        return self.weight[:, None, None] * ((x - u) / torch.sqrt(s + self.eps)) + self.bias[:, None, None]


class Fourier(nn.Module):
    """Random-Fourier positional encoding of [0,1]^2 coordinates -> 2*F features (sin, cos)."""

    def __init__(self, feats):
        super().__init__()
        self.register_buffer('g', torch.randn(2, feats))

    def forward(self, xy01):
        c = (2 * xy01 - 1) @ self.g
        c = 2 * math.pi * c
        return torch.cat([torch.sin(c), torch.cos(c)], dim=-1)


def attention(q, k, v, heads):
    b, nq, c = q.shape
    nk = k.shape[1]
    q = q.reshape(b, nq, heads, c // heads).transpose(1, 2)
    k = k.reshape(b, nk, heads, c // heads).transpose(1, 2)
    v = v.reshape(b, nk, heads, c // heads).transpose(1, 2)
    a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(c // heads), dim=-1)
    return (a @ v).transpose(1, 2).reshape(b, nq, c)


class ViTBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D, eps=1e-6)
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)
        self.ln2 = nn.LayerNorm(D, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(D, 2 * D), nn.GELU(), nn.Linear(2 * D, D))

    def forward(self, x):  # [B, T, D]
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        x = x + self.proj(attention(q, k, v, HEADS))
        return x + self.mlp(self.ln2(x))


class VisionEncoder(nn.Module):
    def __init__(self, pe):
        super().__init__()
        self.patch = nn.Conv2d(3, D, P, stride=P)
        self.pos = nn.Parameter(0.1 * torch.randn(1, G * G, D))
        self.blocks = nn.ModuleList([ViTBlock() for _ in range(2)])
        self.neck1 = nn.Conv2d(D, C, 1, bias=False)
        self.norm1 = LayerNorm2d(C)
        self.neck2 = nn.Conv2d(C, C, 3, padding=1, bias=False)
        self.norm2 = LayerNorm2d(C)
        self.pe = pe

    def image_pe(self):
        centres = (torch.arange(G, dtype=torch.float32) + 0.5) / G
        y, x = torch.meshgrid(centres, centres, indexing='ij')
        return self.pe(torch.stack([x, y], dim=-1)).permute(2, 0, 1)  # [C, G, G]

    def forward(self, pixel_values):
        b = pixel_values.shape[0]
        x = self.patch(pixel_values).flatten(2).transpose(1, 2) + self.pos
        for blk in self.blocks:
            x = blk(x)
        x = x.transpose(1, 2).reshape(b, D, G, G)
        x = self.norm2(self.neck2(self.norm1(self.neck1(x))))
        return x, self.image_pe()[None].expand(b, -1, -1, -1)


class Attn(nn.Module):
    """SAM's attention with an optional internal downsampling of the width."""

    def __init__(self, down=1):
        super().__init__()
        inner = C // down
        self.q = nn.Linear(C, inner)
        self.k = nn.Linear(C, inner)
        self.v = nn.Linear(C, inner)
        self.o = nn.Linear(inner, C)

    def forward(self, q, k, v):
        return self.o(attention(self.q(q), self.k(k), self.v(v), HEADS))


class TwoWayBlock(nn.Module):
    def __init__(self, skip_first_pe):
        super().__init__()
        self.self_attn = Attn(1)
        self.t2i = Attn(2)
        self.i2t = Attn(2)
        self.mlp = nn.Sequential(nn.Linear(C, 2 * C), nn.ReLU(), nn.Linear(2 * C, C))
        self.n1, self.n2, self.n3, self.n4 = (nn.LayerNorm(C) for _ in range(4))
        self.skip_first_pe = skip_first_pe

    def forward(self, queries, keys, qpe, kpe):
        if self.skip_first_pe:
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + qpe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.n1(queries)
        queries = self.n2(queries + self.t2i(queries + qpe, keys + kpe, keys))
        queries = self.n3(queries + self.mlp(queries))
        keys = self.n4(keys + self.i2t(keys + kpe, queries + qpe, queries))
        return queries, keys


def mlp3(i, h, o):
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o))


class PromptMaskDecoder(nn.Module):
    def __init__(self, pe, with_boxes):
        super().__init__()
        self.pe = pe
        self.with_boxes = with_boxes
        self.point_embed = nn.Parameter(torch.randn(4, C))  # 0 bg, 1 fg, 2 box top-left, 3 box bottom-right
        self.not_a_point = nn.Parameter(torch.randn(C))
        self.no_mask = nn.Parameter(0.1 * torch.randn(C))
        self.iou_token = nn.Parameter(torch.randn(1, C))
        self.mask_tokens = nn.Parameter(torch.randn(4, C))
        self.blocks = nn.ModuleList([TwoWayBlock(i == 0) for i in range(2)])
        self.final = Attn(2)
        self.final_norm = nn.LayerNorm(C)
        self.up1 = nn.ConvTranspose2d(C, C // 4, 2, stride=2)
        self.up_norm = LayerNorm2d(C // 4)
        self.up2 = nn.ConvTranspose2d(C // 4, C // 8, 2, stride=2)
        self.hyper = nn.ModuleList([mlp3(C, C, C // 8) for _ in range(4)])
        self.iou_head = mlp3(C, 32, 4)

    def embed_points(self, points, labels):
        b, p = points.shape[:2]
        if not self.with_boxes:  # Hugging Face appends a not-a-point token when there is no box
            points = torch.cat([points, torch.zeros(b, p, 1, 2)], dim=2)
            labels = torch.cat([labels, -torch.ones(b, p, 1, dtype=labels.dtype)], dim=2)
        e = self.pe((points + 0.5) / S)
        lab = labels[..., None]
        e = torch.where(lab == -1, self.not_a_point.expand_as(e), e)
        e = torch.where(lab == -10, torch.zeros_like(e), e)
        return e + (lab == 0).to(e.dtype) * self.point_embed[0] + (lab == 1).to(e.dtype) * self.point_embed[1]

    def embed_boxes(self, boxes):
        b, p = boxes.shape[:2]
        corners = self.pe((boxes.reshape(b, p, 2, 2) + 0.5) / S)
        return corners + self.point_embed[2:4]

    def forward(self, image_embeddings, image_positional_embeddings, input_points, input_labels, input_boxes=None):
        b, p = input_points.shape[:2]
        sparse = self.embed_points(input_points, input_labels)
        if input_boxes is not None:
            sparse = torch.cat([sparse, self.embed_boxes(input_boxes)], dim=2)
        out_tokens = torch.cat([self.iou_token, self.mask_tokens], dim=0)[None, None].expand(b, p, -1, -1)
        tokens = torch.cat([out_tokens, sparse], dim=2).flatten(0, 1)  # [B*P, T, C]
        c, h, w = image_embeddings.shape[1:]
        src = image_embeddings[:, None].expand(-1, p, -1, -1, -1).flatten(0, 1) + self.no_mask[None, :, None, None]
        pos = image_positional_embeddings[:, None].expand(-1, p, -1, -1, -1).flatten(0, 1)
        keys = src.flatten(2).transpose(1, 2)
        kpe = pos.flatten(2).transpose(1, 2)
        queries = tokens
        for blk in self.blocks:
            queries, keys = blk(queries, keys, tokens, kpe)
        queries = self.final_norm(queries + self.final(queries + tokens, keys + kpe, keys))
        iou_out = queries[:, 0]
        mask_out = queries[:, 1:5]
        img = keys.transpose(1, 2).reshape(-1, c, h, w)
        up = F.gelu(self.up2(F.gelu(self.up_norm(self.up1(img)))))
        hyper = torch.stack([self.hyper[i](mask_out[:, i]) for i in range(4)], dim=1)  # [B*P, 4, C/8]
        masks = (hyper @ up.flatten(2)).reshape(b, p, 4, up.shape[2], up.shape[3])
        iou = self.iou_head(iou_out).reshape(b, p, 4)
        return iou[:, :, 1:], masks[:, :, 1:]


pe = Fourier(C // 2)
vision = VisionEncoder(pe).eval()
dec_points = PromptMaskDecoder(pe, with_boxes=False).eval()
dec_boxes = PromptMaskDecoder(pe, with_boxes=True).eval()
dec_boxes.load_state_dict(dec_points.state_dict())

CONFIG = {
    'model_type': 'sam', 'architectures': ['SamModel'], 'note': 'tiny random test graph (not a real model)',
    'vision_config': {'image_size': S, 'patch_size': P, 'hidden_size': D, 'num_hidden_layers': 2,
                      'num_attention_heads': HEADS, 'output_channels': C, 'use_rel_pos': False},
    'prompt_encoder_config': {'image_size': S, 'image_embedding_size': G, 'hidden_size': C, 'patch_size': P},
    'mask_decoder_config': {'hidden_size': C, 'num_hidden_layers': 2, 'num_attention_heads': HEADS,
                            'num_multimask_outputs': 3, 'iou_head_depth': 3, 'iou_head_hidden_dim': 32},
}
PRE = {'image_processor_type': 'SamImageProcessor', 'processor_class': 'SamProcessor', 'do_convert_rgb': True,
       'do_resize': True, 'size': {'longest_edge': S}, 'resample': 2, 'do_rescale': True, 'rescale_factor': 1 / 255,
       'do_normalize': True, 'image_mean': MEAN, 'image_std': STD, 'do_pad': True, 'pad_size': {'height': S, 'width': S}}

emb = torch.randn(1, C, G, G)
epe = torch.randn(1, C, G, G)
pts = torch.rand(1, 1, 2, 2) * S
labs = torch.tensor([[[1, 0]]])
box = torch.tensor([[[5.0, 6.0, 40.0, 30.0]]])
AX = {'image_embeddings': {0: 'batch_size'}, 'image_positional_embeddings': {0: 'batch_size'},
      'input_points': {0: 'batch_size', 1: 'point_batch_size', 2: 'nb_points_per_image'},
      'input_labels': {0: 'batch_size', 1: 'point_batch_size', 2: 'nb_points_per_image'},
      'iou_scores': {0: 'batch_size', 1: 'point_batch_size'}, 'pred_masks': {0: 'batch_size', 1: 'point_batch_size'}}
for name, dec in (('points', dec_points), ('boxes', dec_boxes)):
    d = os.path.join(OUT, name)
    os.makedirs(os.path.join(d, 'onnx'), exist_ok=True)
    json.dump(CONFIG, open(os.path.join(d, 'config.json'), 'w'), indent=1)
    json.dump(PRE, open(os.path.join(d, 'preprocessor_config.json'), 'w'), indent=1)
    torch.onnx.export(vision, (torch.randn(1, 3, S, S),), os.path.join(d, 'onnx', 'vision_encoder.onnx'),
                      input_names=['pixel_values'], output_names=['image_embeddings', 'image_positional_embeddings'],
                      dynamic_axes={'pixel_values': {0: 'batch_size'}, 'image_embeddings': {0: 'batch_size'},
                                    'image_positional_embeddings': {0: 'batch_size'}}, opset_version=14)
    names = ['image_embeddings', 'image_positional_embeddings', 'input_points', 'input_labels']
    args = (emb, epe, pts, labs)
    axes = dict(AX)
    if name == 'boxes':
        names.append('input_boxes')
        args = args + (box,)
        axes['input_boxes'] = {0: 'batch_size', 1: 'point_batch_size'}
    torch.onnx.export(dec, args, os.path.join(d, 'onnx', 'prompt_encoder_mask_decoder.onnx'), input_names=names,
                      output_names=['iou_scores', 'pred_masks'], dynamic_axes=axes, opset_version=14)

# ---- reference: Hugging Face SamProcessor semantics on a 300x200 image ----
W0, H0 = 300, 200
yy, xx = np.mgrid[0:H0, 0:W0]
rng = np.random.default_rng(5)
img = np.stack([(xx * 255 / W0), (yy * 255 / H0), 128 + 100 * np.sin(xx / 17.0) * np.cos(yy / 11.0)], axis=-1)
img = np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
img.tofile(os.path.join(OUT, 'image.rgb'))
scale = S * 1.0 / max(H0, W0)
NH, NW = int(H0 * scale + 0.5), int(W0 * scale + 0.5)
resized = np.asarray(Image.fromarray(img).resize((NW, NH), Image.BILINEAR))
x = (resized.astype(np.float64) * (1 / 255)).astype(np.float32)
x = ((x - np.array(MEAN, np.float32)) / np.array(STD, np.float32)).astype(np.float32)
padded = np.zeros((S, S, 3), np.float32)
padded[:NH, :NW] = x
pixel_values = torch.from_numpy(padded.transpose(2, 0, 1)[None].copy())
rx, ry = NW / W0, NH / H0


def scaled(coords):
    return [c * (rx if i % 2 == 0 else ry) for i, c in enumerate(coords)]


def post_process(low_res):
    m = F.interpolate(low_res[None, None], (S, S), mode='bilinear', align_corners=False)[:, :, :NH, :NW]
    return F.interpolate(m, (H0, W0), mode='bilinear', align_corners=False)[0, 0]


CASES = {
    'points': {'folder': 'points', 'points': [[210, 60, 1], [40, 150, 0]]},
    'box+points': {'folder': 'boxes', 'box': [50, 40, 240, 170], 'points': [[150, 100, 1], [10, 190, 0]]},
    'box': {'folder': 'boxes', 'box': [120, 20, 290, 120]},
}
ref = {'width': W0, 'height': H0, 'resized': [NW, NH], 'cases': {}}
with torch.no_grad():
    emb, epe = vision(pixel_values)
    for key, case in CASES.items():
        dec = dec_points if case['folder'] == 'points' else dec_boxes
        pts = case.get('points') or [[0, 0, -10]]  # a box alone: one padding point (label -10), as HF pads
        xy = [scaled(p[:2]) if p[2] != -10 else [0.0, 0.0] for p in pts]
        ip = torch.tensor(np.array(xy, np.float64).astype(np.float32)[None, None])
        il = torch.tensor([[[p[2] for p in pts]]], dtype=torch.int64)
        extra = (torch.tensor(np.array(scaled(case['box']), np.float64).astype(np.float32)[None, None]),) if 'box' in case else ()
        iou, masks = dec(emb, epe, ip, il, *extra)
        best = int(torch.argmax(iou[0, 0]))
        logits = post_process(masks[0, 0, best]).numpy().astype('<f4')
        path = f'logits-{key.replace("+", "-")}.f32'
        logits.tofile(os.path.join(OUT, path))
        ref['cases'][key] = {**case, 'iou_scores': iou[0, 0].tolist(), 'best': best, 'logits': path,
                             'mask_pixels': int((logits > 0).sum())}
json.dump(ref, open(os.path.join(OUT, 'reference.json'), 'w'), indent=1)
print('wrote', OUT)
