#!/usr/bin/python3
"""Reference values for src/metrics/retrieval.ts, from an independent numpy implementation.

Ranking: gallery sorted by similarity, highest first; ties broken by gallery index (np.lexsort).
Run: /usr/bin/python3 test/support/metrics-retrieval.py  (writes test/metrics/fixtures/retrieval.json)
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'metrics', 'fixtures', 'retrieval.json')
KS = [1, 2, 5, 10]


def reference(sim, relevant):
    hit = {k: [] for k in KS}
    true = {k: [] for k in KS}
    best = []
    for q, row in enumerate(sim):
        rel = sorted(set(relevant[q]))
        if not rel:
            continue
        order = np.lexsort((np.arange(len(row)), -row))  # last key is primary: -sim, then index
        rank = np.empty(len(row), dtype=int)
        rank[order] = np.arange(1, len(row) + 1)
        ranks = rank[rel]
        best.append(int(ranks.min()))
        for k in KS:
            hit[k].append(float(ranks.min() <= k))
            true[k].append(float((ranks <= k).sum()) / len(rel))
    return {
        'recallAtK': {str(k): float(np.mean(hit[k])) for k in KS},
        'trueRecallAtK': {str(k): float(np.mean(true[k])) for k in KS},
        'meanRank': float(np.mean(best)),
        'medianRank': float(np.median(best)),
        'queries': len(best),
    }


def case(name, sim, relevant):
    return {'name': name, 'ks': KS, 'sim': sim.tolist(), 'relevant': relevant, 'expected': reference(sim, relevant)}


def main():
    rng = np.random.default_rng(7)
    cases = []
    # Paired image-text retrieval: query i's match is gallery i, with a signal on the diagonal.
    n = 40
    sim = rng.normal(size=(n, n)) + 1.5 * np.eye(n)
    cases.append(case('paired-40', np.round(sim, 6), [[i] for i in range(n)]))
    # float32 similarities rounded to 0.1: many ties, broken by gallery index.
    sim = (np.round(rng.normal(size=(30, 50)), 1)).astype(np.float32).astype(np.float64)
    relevant = [sorted(rng.choice(50, size=int(rng.integers(1, 5)), replace=False).tolist()) for _ in range(30)]
    cases.append(case('ties-float32', sim, relevant))
    # Class-based retrieval: many relevant items per query (> 16, the sorting path), one query with none.
    labels = rng.integers(0, 3, size=120)
    qlabels = rng.integers(0, 3, size=25)
    sim = rng.normal(size=(25, 120)) + 0.8 * (qlabels[:, None] == labels[None, :])
    relevant = [np.flatnonzero(labels == c).tolist() for c in qlabels]
    relevant[3] = []
    cases.append(case('class-based', np.round(sim, 6), relevant))
    with open(OUT, 'w') as f:
        json.dump({'generator': 'test/support/metrics-retrieval.py', 'numpy': np.__version__, 'cases': cases}, f,
                  separators=(',', ':'))
    print(f'wrote {OUT}: {len(cases)} cases')


if __name__ == '__main__':
    main()
