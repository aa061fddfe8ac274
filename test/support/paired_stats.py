#!/usr/bin/python3
"""Independent reference for src/metrics/paired.ts (writes test/metrics/fixtures/paired.json).

- DeLong: the fast mid-rank formulation of Sun & Xu (IEEE Signal Processing Letters 2014) with
  scipy.stats.rankdata(method='average') — a different algorithm from the TS pairwise placements —
  and the two-sided p from scipy.stats.norm.sf.
- Paired bootstrap: mulberry32 re-implemented here so the draws are the same, differences and
  numpy.percentile (linear) quantiles computed with numpy; p = min(1, 2 * min(P(d <= 0), P(d >= 0))).
Run: /usr/bin/python3 test/support/paired_stats.py
"""
import json
import os

import numpy as np
from scipy.stats import norm, rankdata

OUT = os.path.join(os.path.dirname(__file__), '..', 'metrics', 'fixtures', 'paired.json')


def mulberry32(seed):
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = imul(a ^ (a >> 15), 1 | a)
        t = ((t + imul(t ^ (t >> 7), 61 | t)) & 0xFFFFFFFF) ^ t
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296
    return nxt


def delong(y, a, b):
    y = np.asarray(y, bool)
    order = np.concatenate([np.flatnonzero(y), np.flatnonzero(~y)])
    m, n = int(y.sum()), int((~y).sum())
    preds = np.vstack([np.asarray(a, float)[order], np.asarray(b, float)[order]])
    tx = np.vstack([rankdata(p[:m]) for p in preds])
    ty = np.vstack([rankdata(p[m:]) for p in preds])
    tz = np.vstack([rankdata(p) for p in preds])
    aucs = tz[:, :m].sum(axis=1) / m / n - (m + 1.0) / 2.0 / n
    v01 = (tz[:, :m] - tx) / n
    v10 = 1.0 - (tz[:, m:] - ty) / m
    cov = np.cov(v01) / m + np.cov(v10) / n
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    diff = aucs[0] - aucs[1]
    z = diff / np.sqrt(var)
    return {'aucA': aucs[0], 'aucB': aucs[1], 'difference': diff, 'variance': var, 'z': z, 'p': 2 * norm.sf(abs(z))}


def paired(a, b, samples, seed):
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = len(a)
    rng = mulberry32(seed)
    diffs = []
    for _ in range(samples):
        idx = np.array([int(rng() * n) for _ in range(n)])
        diffs.append(a[idx].mean() - b[idx].mean())
    d = np.array(diffs)
    return {'a': a.mean(), 'b': b.mean(), 'difference': a.mean() - b.mean(), 'lo': np.percentile(d, 2.5), 'hi': np.percentile(d, 97.5),
            'p': min(1.0, 2 * min((d <= 0).mean(), (d >= 0).mean()))}


def main():
    r = np.random.default_rng(7)
    cases = []
    for name, n, sep_a, sep_b, ties in [('clear', 120, 1.5, 0.7, False), ('close', 200, 0.8, 0.75, False), ('ties', 80, 1.0, 0.5, True)]:
        y = r.random(n) < 0.4
        y[0], y[1] = True, False
        base = r.normal(size=n)
        a = y * sep_a + base + r.normal(scale=0.5, size=n)
        b = y * sep_b + base + r.normal(scale=0.5, size=n)
        if ties:
            a, b = np.round(a), np.round(b * 2) / 2
        cases.append({'name': name, 'positive': y.tolist(), 'a': a.tolist(), 'b': b.tolist(), 'delong': delong(y, a, b)})
    boot = []
    for name, n, pa, pb, seed in [('accuracy-gap', 150, 0.8, 0.65, 0), ('no-gap', 90, 0.5, 0.5, 3)]:
        a = (r.random(n) < pa).astype(float)
        b = (r.random(n) < pb).astype(float)
        boot.append({'name': name, 'a': a.tolist(), 'b': b.tolist(), 'samples': 500, 'seed': seed, 'result': paired(a, b, 500, seed)})
    with open(OUT, 'w') as f:
        json.dump({'delong': cases, 'bootstrap': boot}, f, indent=1, default=float)


if __name__ == '__main__':
    main()
