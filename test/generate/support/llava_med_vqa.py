"""Reference for src/metrics/vqa-llava-med.ts: LLaVA-Med's VQA scoring rules, written out in Python.

Reads JSON [{"answer_type", "truth", "predicted"}] on stdin; prints per-item scores:
closed -> {"hit": 1 | 0 | null}; open -> {"recall", "precision", "f1", "exact"}.
"""
import json
import re
import sys
from collections import Counter

PUNCT = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"]
NUMBERS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
           "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}


def normalize(text):
    src = text.lower()
    has_digit_comma = re.search(r"\d,\d", src) is not None
    out = src
    for p in PUNCT:
        if (p + " ") in src or (" " + p) in src or has_digit_comma:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    out = re.sub(r"\.(?!\d)", "", out, count=32)
    words = [NUMBERS.get(w, w) for w in out.split()]
    words = [w for w in words if w not in ("a", "an", "the")]
    return " ".join(words).replace(",", "")


def closed_hit(truth, pred):
    t, p = normalize(truth), normalize(pred)
    if "yes" not in p and "no" not in p:
        return 0
    return 1 if t in p else None


def open_scores(truth, pred):
    cand = Counter(normalize(normalize(pred)).split())
    ref = Counter(normalize(normalize(truth)).split())
    total = sum(cand.values())
    exact = 0 if total == 0 else sum(1 for w in ref if w in cand) / total
    if not cand or not ref:
        return {"recall": 0, "precision": 0, "f1": 0, "exact": exact}
    tp = sum(c for w, c in cand.items() if w in ref)
    fp = sum(c for w, c in cand.items() if w not in ref)
    fn = sum(c for w, c in ref.items() if w not in cand)
    if tp == 0:
        return {"recall": 0, "precision": 0, "f1": 0, "exact": exact}
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return {"recall": recall, "precision": precision, "f1": 2 * precision * recall / (precision + recall), "exact": exact}


items = json.load(sys.stdin)
print(json.dumps([
    {"hit": closed_hit(i["truth"], i["predicted"])} if i["answer_type"] == "CLOSED" else open_scores(i["truth"], i["predicted"])
    for i in items
]))
