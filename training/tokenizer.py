"""BERT-style WordPiece tokenizer for medvlm-tiny, written as a Hugging Face tokenizer.json.

The Python encoder mirrors what transformers.js (4.3.x) does for
BertNormalizer + BertPreTokenizer + WordPiece + TemplateProcessing([CLS] $A [SEP]),
including its truncation (slice after special tokens are added, which can drop [SEP]).
Parity is checked by training/check_tokenizer.mjs.
"""
from __future__ import annotations

import collections
import json
import os
import re
import unicodedata

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PAD_ID, UNK_ID, CLS_ID, SEP_ID = 0, 1, 2, 3
MAX_LEN = 64
_SPECIAL_RE = re.compile("(" + "|".join(re.escape(t) for t in SPECIALS) + ")")

# JavaScript's \s (with the u flag).
_JS_WS = set("\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | {
    chr(c) for c in range(0x2000, 0x200B)
}


def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs")


def _is_chinese_bmp(cp: int) -> bool:
    # transformers.js tests UTF-16 code units, so only BMP ranges can ever match.
    return (0x4E00 <= cp <= 0x9FFF) or (0x3400 <= cp <= 0x4DBF) or (0xF900 <= cp <= 0xFAFF)


def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 0x21 <= cp <= 0x2F or 0x3A <= cp <= 0x40 or 0x5B <= cp <= 0x60 or 0x7B <= cp <= 0x7E:
        return True
    return unicodedata.category(ch).startswith("P")


def normalize(text: str) -> str:
    """BertNormalizer(clean_text, handle_chinese_chars, lowercase, strip_accents) as in transformers.js."""
    out = []
    for ch in text:
        cp = ord(ch)
        # transformers.js reads charCodeAt(0): for astral chars that is a surrogate, never 0/65533.
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        out.append(" " if ch in _JS_WS else ch)
    text = "".join(out)
    out = []
    for ch in text:
        if _is_chinese_bmp(ord(ch)):
            out.extend([" ", ch, " "])
        else:
            out.append(ch)
    text = "".join(out).lower()
    text = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")


def pre_tokenize(text: str) -> list[str]:
    """BertPreTokenizer: runs of non-space non-punctuation, or single punctuation characters."""
    words, cur = [], []
    for ch in text:
        if ch in _JS_WS:
            if cur:
                words.append("".join(cur))
                cur = []
        elif _is_punct(ch):
            if cur:
                words.append("".join(cur))
                cur = []
            words.append(ch)
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


class WordPieceTokenizer:
    """Greedy longest-match WordPiece with [CLS] $A [SEP] and transformers.js-style truncation."""

    def __init__(self, vocab: dict[str, int], max_len: int = MAX_LEN):
        self.vocab = vocab
        self.max_len = max_len

    @classmethod
    def load(cls, path: str) -> "WordPieceTokenizer":
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        return cls(tj["model"]["vocab"])

    def tokenize(self, text: str) -> list[str]:
        out = []
        for word in pre_tokenize(normalize(text)):
            chars = list(word)
            if len(chars) > 100:
                out.append("[UNK]")
                continue
            start, subs = 0, []
            while start < len(chars):
                end, cur = len(chars), None
                while start < end:
                    s = "".join(chars[start:end])
                    if start > 0:
                        s = "##" + s
                    if s in self.vocab:
                        cur = s
                        break
                    end -= 1
                if cur is None:
                    subs = None
                    break
                subs.append(cur)
                start = end
            out.extend(subs if subs is not None else ["[UNK]"])
        return out

    def encode(self, text: str) -> list[int]:
        ids = [CLS_ID]
        # Special tokens written literally in the text are matched first (added_tokens, not normalised).
        for piece in _SPECIAL_RE.split(text):
            if piece in SPECIALS:
                ids.append(self.vocab[piece])
            elif piece:
                ids += [self.vocab[t] for t in self.tokenize(piece)]
        ids.append(SEP_ID)
        return ids[: self.max_len]

    def batch(self, texts: list[str]):
        """Pad to the longest sequence (like padding: true, truncation: true). Returns (ids, mask) lists."""
        enc = [self.encode(t) for t in texts]
        n = max(len(e) for e in enc)
        ids = [e + [PAD_ID] * (n - len(e)) for e in enc]
        mask = [[1] * len(e) + [0] * (n - len(e)) for e in enc]
        return ids, mask


def build_vocab(texts: list[str], max_words: int = 3500, n_suffix: int = 400, n_prefix: int = 300) -> dict[str, int]:
    """Small WordPiece vocab: specials, every character (plain and ##), frequent words, frequent affixes."""
    words = collections.Counter()
    for t in texts:
        words.update(pre_tokenize(normalize(t)))
    chars = sorted({c for w in words for c in w})
    tokens = list(SPECIALS)
    seen = set(tokens)

    def add(tok):
        if tok not in seen:
            seen.add(tok)
            tokens.append(tok)

    for c in chars:
        add(c)
    for c in chars:
        add("##" + c)
    common = [w for w, n in words.most_common() if n >= 2 and len(w) > 1][:max_words]
    for w in common:
        add(w)
    rare = [(w, n) for w, n in words.items() if w not in seen]
    suf, pre = collections.Counter(), collections.Counter()
    for w, n in rare:
        for k in range(2, 6):
            if len(w) > k + 1:
                suf["##" + w[-k:]] += n
                pre[w[:k + 1]] += n
    for s, _ in suf.most_common(n_suffix):
        add(s)
    for p, _ in pre.most_common(n_prefix):
        add(p)
    return {t: i for i, t in enumerate(tokens)}


def write_hf_tokenizer(vocab: dict[str, int], out_dir: str, max_len: int = MAX_LEN) -> None:
    """Write tokenizer.json, tokenizer_config.json and special_tokens_map.json."""
    os.makedirs(out_dir, exist_ok=True)
    added = [
        {"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for t in SPECIALS
    ]
    tj = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": True, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, indent=1)
    special = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
               "mask_token": "[MASK]"}
    cfg = {"tokenizer_class": "BertTokenizer", "model_max_length": max_len, "do_lower_case": True,
           "strip_accents": None, "tokenize_chinese_chars": True, "clean_up_tokenization_spaces": True,
           "padding_side": "right", "truncation_side": "right", **special}
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=1)
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump(special, f, indent=1)
