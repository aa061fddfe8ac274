#!/usr/bin/python3
"""Reference values for src/metrics text metrics.

- BLEU-1..4: nltk corpus_bleu, weights (1,), (1/2,)*2, (1/3,)*3, (1/4,)*4, no smoothing.
- METEOR: nltk meteor_score with a WordNet stand-in that has no synsets (exact + Porter-stem matching).
- ROUGE-L: written here from Lin (2004): LCS-based F with beta = 1.2.
- CIDEr-D: written here from Vedantam et al. (2015) with pycocoevalcap's CIDEr-D details (clipping,
  Gaussian length penalty sigma 6 on the bigram count, df over the references of the set, x10).
Every metric receives the tokens of the tokeniser below (the same rule as src/metrics/text/tokenize.ts),
and the fixture stores those tokens so the TS test can check its tokeniser agrees.
Run: /usr/bin/python3 test/support/metrics-text.py  (writes test/metrics/fixtures/text.json)
"""
import json
import math
import os
import unicodedata
from collections import Counter

import nltk
from nltk.stem.porter import PorterStemmer
from nltk.translate.bleu_score import corpus_bleu
from nltk.translate.meteor_score import meteor_score

OUT = os.path.join(os.path.dirname(__file__), '..', 'metrics', 'fixtures', 'text.json')
DIGITS = '0123456789'


def tokenize(s):
    """Lowercase; spaces around punctuation/symbols (Unicode P*, S*) except . or , between digits; split."""
    chars = list(s.lower())
    out = []
    for i, c in enumerate(chars):
        numeric = c in '.,' and 0 < i < len(chars) - 1 and chars[i - 1] in DIGITS and chars[i + 1] in DIGITS
        out.append(f' {c} ' if unicodedata.category(c)[0] in 'PS' and not numeric else c)
    return ''.join(out).split()


class NoWordNet:
    """Stands in for nltk.corpus.wordnet: no synsets, so METEOR matches exact words and stems only."""

    def synsets(self, word):
        return []


def lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1]


def rouge_l_item(refs, hyp, beta=1.2, multi='max-f'):
    def f(p, r):
        return 0.0 if p == 0 or r == 0 else (1 + beta ** 2) * p * r / (r + beta ** 2 * p)
    pr = [(lcs(r, hyp) / len(hyp) if hyp else 0.0, lcs(r, hyp) / len(r) if r else 0.0) for r in refs]
    if multi == 'max-f':
        return max(f(p, r) for p, r in pr)
    return f(max(p for p, _ in pr), max(r for _, r in pr))


def ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def cider_d(refs_list, hyps, n_max=4, sigma=6.0):
    """CIDEr-D per item. g^n(s) = tf(s) * log(|I| / max(1, df)), df over the items' reference sets."""
    num_items = len(hyps)
    df = Counter()
    for refs in refs_list:
        df.update({g for r in refs for n in range(1, n_max + 1) for g in ngrams(r, n)})

    def vec(tokens, n):
        return {g: tf * (math.log(num_items) - math.log(max(1.0, df[g]))) for g, tf in ngrams(tokens, n).items()}

    def bigram_count(tokens):  # pycocoevalcap's length for the penalty: the number of bigrams
        return max(0, len(tokens) - 1)

    scores = []
    for refs, hyp in zip(refs_list, hyps):
        total = 0.0
        for ref in refs:
            delta = bigram_count(hyp) - bigram_count(ref)
            pen = math.exp(-delta * delta / (2 * sigma * sigma))
            for n in range(1, n_max + 1):
                gh, gr = vec(hyp, n), vec(ref, n)
                dot = sum(min(w, gr.get(g, 0.0)) * gr.get(g, 0.0) for g, w in gh.items())
                nh = math.sqrt(sum(w * w for w in gh.values()))
                nr = math.sqrt(sum(w * w for w in gr.values()))
                if nh and nr:
                    dot /= nh * nr
                total += dot * pen / n_max
        scores.append(10.0 * total / len(refs))
    return scores


CORPORA = {
    'radiology-8': [
        (['No pleural effusion.', 'There is no pleural effusion or pneumothorax.'], 'No pleural effusion is seen.'),
        (['The heart size is normal.', 'Heart size is within normal limits.'], 'The heart is normal in size.'),
        (['Mild cardiomegaly. No focal consolidation.'], 'The heart is mildly enlarged without consolidation.'),
        (['Lungs are clear bilaterally.', 'The lungs are clear.'], 'The lungs are clear.'),
        (['Small left pleural effusion with adjacent atelectasis.'], 'Small left effusion and basilar atelectasis.'),
        (['No acute cardiopulmonary process.', 'No acute cardiopulmonary abnormality.'],
         'No acute cardiopulmonary abnormality is identified.'),
        (['A 2.5 cm nodule in the right upper lobe.'], 'There is a 2.5 cm nodule in the right upper lobe.'),
        (['Degenerative changes of the thoracic spine.'], 'Degenerative changes are noted in the spine.'),
    ],
    'edge-cases': [
        (['Pneumothorax is resolved.'], 'Pneumothorax.'),
        (['Heart size normal.', 'The cardiac silhouette and the heart size are normal in appearance today.'],
         'The heart size is normal today.'),
        (['Enlarged cardiac silhouette, likely cardiomegaly.', 'The cardiac silhouette is enlarged.'],
         'Cardiomegaly with enlarging silhouette; effusions are absent.'),
        (['Interval improvement of the bibasilar opacities.'], 'Opacities improved at both bases.'),
        (['No evidence of pulmonary edema.'], 'No pulmonary edema. No pulmonary edema.'),
        (['Stable post-operative appearance of the mediastinum.'], ''),
        (['Unchanged position of the endotracheal tube, 4 cm above the carina.'],
         'Endotracheal tube terminates 4 cm above the carina, unchanged.'),
    ],
    'no-4gram-match': [
        (['No effusion.'], 'Effusion absent.'),
        (['Heart normal.'], 'Normal heart.'),
        (['Clear lungs.'], 'Lungs clear.'),
    ],
}

PORTER_EXAMPLES = (
    'caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized hopping '
    'tanned falling hissing fizzed failing filing happy sky relational conditional rational valenci hesitanci '
    'digitizer conformabli radicalli differentli vileli analogousli vietnamization predication operator feudalism '
    'decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate formative formalize '
    'electriciti electrical hopeful goodness revival allowance inference airliner gyroscopic adjustable defensible '
    'irritant replacement adjustment dependent adoption homologou communism activate angulariti homologous '
    'effective bowdlerize probate rate cease controll roll dying lying tying dies flies spied died skies news '
    'innings outing cannings howe proceed exceeded succeeding generously archaeology geology theology '
    'fully hopefully spy fly try enjoy enjoyment by ivy trees troubles private oaten orrery sky ski skied '
    'opacities opacity opacification consolidation consolidations consolidative atelectasis atelectatic '
    'effusions effused enlarged enlargement enlarging cardiomegaly mediastinal mediastinum pulmonary edematous '
    'pneumothoraces pneumothorax hyperinflated hyperinflation calcified calcification calcifications bibasilar '
    'interstitial reticular nodular nodules nodularity degenerative degeneration unremarkable visualized '
    'visualization abnormality abnormalities lungs clearly identified identification terminates terminating '
    'unchanged improving improvement improved resolved resolution increasing increased decreased minimally '
    'mildly moderately severely radiographs radiographic radiography tubes catheters positioned positioning '
    'a is as at be us an ox '
)


def main():
    stemmer = PorterStemmer()
    corpora = []
    vocab = set(PORTER_EXAMPLES.split())
    for name, items in CORPORA.items():
        refs = [[tokenize(r) for r in rs] for rs, _ in items]
        hyps = [tokenize(h) for _, h in items]
        for rs in refs:
            for r in rs:
                vocab.update(r)
        for h in hyps:
            vocab.update(h)
        weights = [(1.0,), (1 / 2,) * 2, (1 / 3,) * 3, (1 / 4,) * 4]
        bleus = [float(corpus_bleu(refs, hyps, weights=w)) for w in weights]
        meteor_items = [float(meteor_score(rs, h, wordnet=NoWordNet())) for rs, h in zip(refs, hyps)]
        rouge_items = [rouge_l_item(rs, h) for rs, h in zip(refs, hyps)]
        rouge_coco = [rouge_l_item(rs, h, multi='pycocoevalcap') for rs, h in zip(refs, hyps)]
        cider_items = cider_d(refs, hyps)
        corpora.append({
            'name': name,
            'refs': [rs for rs, _ in items],
            'hyps': [h for _, h in items],
            'refTokens': refs,
            'hypTokens': hyps,
            'expected': {
                'bleu': bleus,
                'meteorItems': meteor_items,
                'meteor': sum(meteor_items) / len(meteor_items),
                'rougeLItems': rouge_items,
                'rougeL': sum(rouge_items) / len(rouge_items),
                'rougeLCoco': sum(rouge_coco) / len(rouge_coco),
                'ciderDItems': cider_items,
                'ciderD': sum(cider_items) / len(cider_items),
            },
        })
    words = sorted(w for w in vocab if w.isalpha())
    out = {
        'generator': 'test/support/metrics-text.py',
        'nltk': nltk.__version__,
        'corpora': corpora,
        'stems': {w: stemmer.stem(w) for w in words},
    }
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
    print(f'wrote {OUT}: {len(corpora)} corpora, {len(words)} stems')


if __name__ == '__main__':
    main()
