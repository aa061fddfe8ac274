#!/usr/bin/python3
"""Reference values for src/metrics classification metrics, from scikit-learn (and a numpy ECE).

Run: /usr/bin/python3 test/support/metrics-classification.py  (writes test/metrics/fixtures/classification.json)
"""
import json
import os

import numpy as np
import sklearn
from sklearn import metrics as skm

OUT = os.path.join(os.path.dirname(__file__), '..', 'metrics', 'fixtures', 'classification.json')


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def ece_numpy(y, p, n_bins=15):
    """ECE: equal-width bins on max-probability confidence, (lo, hi], weighted |acc - conf|."""
    conf = p.max(axis=1)
    pred = p.argmax(axis=1)
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    bins = []
    for b in range(n_bins):
        lo, hi = edges[b], edges[b + 1]
        inb = (conf > lo) & (conf <= hi) if b > 0 else (conf <= hi)
        c = int(inb.sum())
        if c:
            acc = float((pred[inb] == y[inb]).mean())
            cf = float(conf[inb].mean())
            ece += c / len(y) * abs(acc - cf)
        else:
            acc = cf = 0.0
        bins.append({'lo': float(lo), 'hi': float(hi), 'count': c, 'confidence': cf, 'accuracy': acc})
    return float(ece), bins


def nan_to_none(xs):
    return [None if (isinstance(x, float) and np.isnan(x)) else x for x in xs]


def single_label_case(name, y, p):
    k = p.shape[1]
    pred = p.argmax(axis=1)
    labels = list(range(k))
    per_class_auc = []
    for c in range(k):
        yc = (y == c).astype(int)
        per_class_auc.append(float(skm.roc_auc_score(yc, p[:, c])) if 0 < yc.sum() < len(y) else float('nan'))
    all_present = len(set(y.tolist())) == k
    if all_present and k > 2:
        macro = float(skm.roc_auc_score(y, p, multi_class='ovr', average='macro'))
        per = skm.roc_auc_score(y, p, multi_class='ovr', average=None).tolist()
        assert np.allclose(per, per_class_auc)
    else:
        macro = float(np.nanmean(per_class_auc))
    curves = []
    for c in range(k):
        yc = (y == c).astype(int)
        if 0 < yc.sum() < len(y):
            fpr, tpr, thr = skm.roc_curve(yc, p[:, c], drop_intermediate=False)
            curves.append({'fpr': fpr.tolist(), 'tpr': tpr.tolist(), 'thresholds': thr[1:].tolist()})
        else:
            curves.append(None)
    ece, bins = ece_numpy(y, p)
    f1 = skm.f1_score(y, pred, labels=labels, average=None, zero_division=0)
    return {
        'name': name,
        'k': k,
        'yTrue': y.tolist(),
        'probs': p.tolist(),
        'expected': {
            'yPred': pred.tolist(),
            'confusion': skm.confusion_matrix(y, pred, labels=labels).tolist(),
            'accuracy': float(skm.accuracy_score(y, pred)),
            'balancedAccuracy': float(skm.balanced_accuracy_score(y, pred)),
            'f1PerClass': f1.tolist(),
            'f1Macro': float(skm.f1_score(y, pred, labels=labels, average='macro', zero_division=0)),
            'aurocMacro': macro,
            'aurocPerClass': nan_to_none(per_class_auc),
            'aurocMacroIsSklearnOvr': bool(all_present and k > 2),
            'roc': curves,
            'ece': ece,
            'eceBins': bins,
        },
    }


def quantize_rows(p, steps):
    """Round each row to multiples of 1/steps that still sum to 1 (largest-remainder rounding)."""
    scaled = p * steps
    q = np.floor(scaled)
    for i in range(len(p)):
        short = int(steps - q[i].sum())
        q[i, np.argsort(-(scaled[i] - q[i]), kind='stable')[:short]] += 1
    return q / steps


def random_case(rng, n, k, signal, priors=None, round_to=None, suppress=None, float32=False):
    priors = np.full(k, 1 / k) if priors is None else np.asarray(priors)
    y = rng.choice(k, size=n, p=priors)
    z = rng.normal(size=(n, k)) + signal * np.eye(k)[y]
    if suppress is not None:
        z[:, suppress] -= 10.0  # this class is never the argmax
    p = np.round(softmax(z), 6)  # 6 decimals keep the fixture small; rows sum to 1 within 1e-5
    if round_to is not None:
        p = quantize_rows(p, 10 ** round_to)  # many tied scores; rows still sum to 1
    if float32:
        p = p.astype(np.float32).astype(np.float64)
    return y, p


def multilabel_case(name, rng, n, k):
    prev = rng.uniform(0.1, 0.6, size=k)
    Y = (rng.uniform(size=(n, k)) < prev).astype(int)
    for c in range(k):  # both values present in every column
        Y[0, c], Y[1, c] = 1, 0
    P = 1 / (1 + np.exp(-(rng.normal(size=(n, k)) + 0.8 * (2 * Y - 1))))
    P = np.round(P, 2)  # ties, including exactly 0.5
    pred = (P >= 0.5).astype(int)
    return {
        'name': name,
        'yTrue': Y.tolist(),
        'probs': P.tolist(),
        'expected': {
            'perClassAuroc': skm.roc_auc_score(Y, P, average=None).tolist(),
            'macroAuroc': float(skm.roc_auc_score(Y, P, average='macro')),
            'macroF1': float(skm.f1_score(Y, pred, average='macro', zero_division=0)),
            'microF1': float(skm.f1_score(Y, pred, average='micro', zero_division=0)),
            'perClassF1': skm.f1_score(Y, pred, average=None, zero_division=0).tolist(),
            'subsetAccuracy': float(skm.accuracy_score(Y, pred)),
            'thresholdTies': int((P == 0.5).sum()),
        },
    }


def main():
    rng = np.random.default_rng(20261101)
    cases = []
    cases.append(single_label_case('k2-balanced', *random_case(rng, 60, 2, 1.5)))
    cases.append(single_label_case('k2-ties', *random_case(rng, 80, 2, 1.0, round_to=1)))
    cases.append(single_label_case('k2-imbalanced', *random_case(rng, 200, 2, 2.0, priors=[0.92, 0.08])))
    cases.append(single_label_case('k3-ties', *random_case(rng, 90, 3, 1.2, round_to=1)))
    cases.append(single_label_case('k3-never-predicted', *random_case(rng, 120, 3, 1.5, suppress=2)))
    cases.append(single_label_case('k5-imbalanced', *random_case(rng, 300, 5, 1.8, priors=[0.45, 0.25, 0.15, 0.1, 0.05])))
    cases.append(single_label_case('k5-float32-ties', *random_case(rng, 150, 5, 1.0, round_to=2, float32=True)))
    # Class 4 absent from the truth: its AUROC is undefined (NaN) and left out of the macro mean.
    y, p = random_case(rng, 100, 5, 1.5, priors=[0.3, 0.3, 0.2, 0.2, 0.0])
    cases.append(single_label_case('k5-class-absent', y, p))
    # Real-looking: a 5-class chest X-ray style task, imbalanced priors, an overconfident model whose
    # logits separate some classes better than others (temperature 0.6 sharpens the softmax).
    priors = [0.55, 0.2, 0.12, 0.08, 0.05]
    sep = np.array([2.5, 1.5, 1.0, 2.0, 0.8])
    y = rng.choice(5, size=500, p=priors)
    z = rng.normal(size=(500, 5)) + np.eye(5)[y] * sep[y][:, None] + np.log(priors)
    cases.append(single_label_case('k5-realistic', y, np.round(softmax(z / 0.6), 6)))
    multilabel = [multilabel_case('ml-k4', rng, 80, 4), multilabel_case('ml-k6', rng, 200, 6)]
    out = {
        'generator': 'test/support/metrics-classification.py',
        'sklearn': sklearn.__version__,
        'numpy': np.__version__,
        'single': cases,
        'multilabel': multilabel,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f, allow_nan=False, separators=(',', ':'), default=float)
    print(f'wrote {OUT}: {len(cases)} single-label cases, {len(multilabel)} multi-label cases')


if __name__ == '__main__':
    main()
