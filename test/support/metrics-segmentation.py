#!/usr/bin/python3
"""Independent reference for src/metrics/segmentation.ts and pixel-anomaly.ts, with scipy.ndimage and numpy.

Run: /usr/bin/python3 test/support/metrics-segmentation.py  (writes test/metrics/fixtures/segmentation.json)

Definitions reimplemented from their sources, not from the TS code:
- edges as MONAI get_mask_edges: mask XOR scipy binary_erosion(mask) (default cross structure, border 0);
- HD95 as MONAI compute_hausdorff_distance(percentile=95): distances by distance_transform_edt of the
  other mask's non-edge pixels, np.percentile of each direction, max of the two;
- boundary F as DAVIS f_measure but with a Euclidean disk of radius `tol` (distance_transform_edt <= tol);
- pixel AUROC by scipy.stats.rankdata (Mann-Whitney); AUPRO as the MVTec AD evaluation: scipy.ndimage.label
  with a 3x3 structure, per-region overlap and FPR at each distinct threshold, trapezoid up to 0.3, / 0.3.
"""
import json
import os

import numpy as np
from scipy import ndimage
from scipy.stats import rankdata

OUT = os.path.join(os.path.dirname(__file__), '..', 'metrics', 'fixtures', 'segmentation.json')
rng = np.random.default_rng(11)


def blob(h, w, n):
    m = np.zeros((h, w), bool)
    for _ in range(n):
        cy, cx, ry, rx = rng.integers(0, h), rng.integers(0, w), rng.integers(2, h // 3), rng.integers(2, w // 3)
        yy, xx = np.mgrid[:h, :w]
        m |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    return m


def edges(m):
    return m ^ ndimage.binary_erosion(m)


def dice(a, b):
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else 2 * (a & b).sum() / s


def iou(a, b):
    u = (a | b).sum()
    return 1.0 if u == 0 else (a & b).sum() / u


def directed(a_edges, b_edges):
    dist = ndimage.distance_transform_edt(~b_edges)
    return dist[a_edges]


def hd95(a, b):
    ea, eb = edges(a), edges(b)
    if not ea.any() and not eb.any():
        return 0.0
    if not ea.any() or not eb.any():
        return None
    return float(max(np.percentile(directed(ea, eb), 95), np.percentile(directed(eb, ea), 95)))


def bf(a, b, tol):
    ea, eb = edges(a), edges(b)
    if not ea.any() and not eb.any():
        return 1.0
    if not ea.any() or not eb.any():
        return 0.0
    p = (directed(ea, eb) <= tol).mean()
    r = (directed(eb, ea) <= tol).mean()
    return 0.0 if p + r == 0 else float(2 * p * r / (p + r))


def auroc(y, s):
    r = rankdata(s)
    npos = y.sum()
    nneg = len(y) - npos
    return float((r[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def aupro(masks, scores, max_fpr=0.3):
    comps = []
    offset = 0
    for m in masks:
        lab, n = ndimage.label(m, structure=np.ones((3, 3)))
        comps.append(np.where(lab > 0, lab + offset, 0))
        offset += n
    lab = np.concatenate([c.ravel() for c in comps])
    s = np.concatenate([x.ravel() for x in scores])
    sizes = np.bincount(lab)
    normal = lab == 0
    fprs, pros = [0.0], [0.0]
    for t in np.unique(s)[::-1]:
        hit = s >= t
        fprs.append(hit[normal].mean())
        per = np.bincount(lab[hit], minlength=len(sizes))[1:] / sizes[1:]
        pros.append(per.mean())
    fprs, pros = np.array(fprs), np.array(pros)
    keep = fprs <= max_fpr
    x, y = list(fprs[keep]), list(pros[keep])
    i = keep.sum()
    if i < len(fprs):
        x0, x1, y0, y1 = fprs[i - 1], fprs[i], pros[i - 1], pros[i]
        x.append(max_fpr)
        y.append(y0 + (y1 - y0) * (max_fpr - x0) / (x1 - x0))
    return float(np.trapz(y, x) / max_fpr)


cases = []
shapes = [(32, 40), (24, 24), (30, 36), (20, 28), (28, 28), (26, 34)]
for k, (h, w) in enumerate(shapes):
    gt = blob(h, w, 1 + k % 3)
    pred = blob(h, w, 1 + (k + 1) % 2) | (gt & (rng.random((h, w)) < 0.6))
    if k == 3:
        gt = np.zeros((h, w), bool)  # empty ground truth, non-empty prediction
    if k == 4:
        gt = np.zeros((h, w), bool)
        pred = np.zeros((h, w), bool)  # both empty
    tol = max(1, round(0.0075 * np.hypot(w, h)))
    cases.append({
        'width': w, 'height': h, 'pred': pred.astype(int).ravel().tolist(), 'gt': gt.astype(int).ravel().tolist(),
        'dice': float(dice(pred, gt)), 'iou': float(iou(pred, gt)), 'hd95': hd95(pred, gt),
        'boundary_tolerance': tol, 'boundaryF': bf(pred, gt, tol), 'boundaryF_tol3': bf(pred, gt, 3),
    })

# pixel-level anomaly: smooth score maps correlated with the masks, with ties (rounded scores)
pmasks, pscores = [], []
for k, (h, w) in enumerate(shapes):
    m = np.array(cases[k]['gt'], bool).reshape(h, w)
    sc = ndimage.gaussian_filter(m.astype(float), 2) + 0.3 * rng.random((h, w))
    pmasks.append(m)
    pscores.append(np.round(sc, 2))
y = np.concatenate([m.ravel() for m in pmasks])
s = np.concatenate([x.ravel() for x in pscores])
ref = {
    'cases': cases,
    'pixel': {
        'scores': [x.ravel().tolist() for x in pscores],
        'auroc': auroc(y, s),
        'aupro': aupro(pmasks, pscores),
        'aupro_01': aupro(pmasks, pscores, 0.1),
        'components': [int(ndimage.label(m, structure=np.ones((3, 3)))[1]) for m in pmasks],
    },
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump(ref, f)
print('wrote', OUT, {k: v for k, v in ref['pixel'].items() if k != 'scores'})
for c in cases:
    print({k: c[k] for k in ('dice', 'iou', 'hd95', 'boundaryF')})
