"""An independent BERT tokenizer (BasicTokenizer + WordpieceTokenizer semantics of the BERT
reference code / Hugging Face BertTokenizer), written from their documented behaviour:
clean text (drop NUL, U+FFFD and control characters, whitespace -> space), spaces around CJK
ideographs, lowercase + NFD accent stripping (when lowercasing, unless told otherwise), split on
whitespace and punctuation, then greedy longest-match-first WordPiece with '##' continuations and
[UNK] for words over 100 characters or without a match.

usage: wordpiece_ref.py VOCAB_TXT TEXTS_JSON [--lower 0|1] [--strip-accents auto|0|1]
prints a JSON list of id lists ([CLS] ... [SEP]) without truncation.
"""
import json
import sys
import unicodedata


def is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokens(text, lower, strip):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or is_control(ch):
            continue
        out.append(" " if is_whitespace(ch) else ch)
    text = "".join(" %s " % ch if is_cjk(ord(ch)) else ch for ch in "".join(out))
    words = []
    for tok in text.split():
        if lower:
            tok = tok.lower()
        if strip:
            tok = "".join(c for c in unicodedata.normalize("NFD", tok) if unicodedata.category(c) != "Mn")
        cur = ""
        for ch in tok:
            if is_punctuation(ch):
                if cur:
                    words.append(cur)
                    cur = ""
                words.append(ch)
            else:
                cur += ch
        if cur:
            words.append(cur)
    return words


def wordpiece(word, vocab, unk="[UNK]", max_chars=100):
    if len(word) > max_chars:
        return [unk]
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                found = sub
                break
            end -= 1
        if found is None:
            return [unk]
        pieces.append(found)
        start = end
    return pieces


def encode(text, vocab, lower=True, strip=None):
    strip = lower if strip is None else strip
    ids = [vocab["[CLS]"]]
    for w in basic_tokens(text, lower, strip):
        ids += [vocab[p] for p in wordpiece(w, vocab)]
    return ids + [vocab["[SEP]"]]


def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        return {line.rstrip("\n"): i for i, line in enumerate(f)}


if __name__ == "__main__":
    vocab = load_vocab(sys.argv[1])
    texts = json.load(open(sys.argv[2], encoding="utf-8"))
    args = sys.argv[3:]
    lower = True if "--lower" not in args else args[args.index("--lower") + 1] == "1"
    sa = "auto" if "--strip-accents" not in args else args[args.index("--strip-accents") + 1]
    strip = None if sa == "auto" else sa == "1"
    print(json.dumps([encode(t, vocab, lower, strip) for t in texts]))
