import { afterAll, describe, expect, it } from 'vitest';
import {
  bleu,
  ciderD,
  ciderDItems,
  lcsLength,
  meteor,
  meteorSingle,
  porterStem,
  rougeL,
  rougeLItem,
  textMetrics,
  TextMetricsAccumulator,
  tokenize,
} from '../../src/metrics/index.js';
import { expectAllClose, expectClose, loadFixture, reportDeviations } from './helpers.js';

interface Corpus {
  name: string;
  refs: string[][];
  hyps: string[];
  refTokens: string[][][];
  hypTokens: string[][];
  expected: {
    bleu: number[];
    meteorItems: number[];
    meteor: number;
    rougeLItems: number[];
    rougeL: number;
    rougeLCoco: number;
    ciderDItems: number[];
    ciderD: number;
  };
}
const fx = loadFixture<{ nltk: string; corpora: Corpus[]; stems: Record<string, string> }>('text.json');
afterAll(() => reportDeviations(`text vs nltk ${fx.nltk} / independent Python`));

describe('tokenize', () => {
  it('lowercases, separates punctuation, keeps decimals and thousands together', () => {
    expect(tokenize('No pleural effusion.')).toEqual(['no', 'pleural', 'effusion', '.']);
    expect(tokenize('A 2.5 cm nodule, 1,000 mL; post-op (stable)')).toEqual(
      ['a', '2.5', 'cm', 'nodule', ',', '1,000', 'ml', ';', 'post', '-', 'op', '(', 'stable', ')'],
    );
    expect(tokenize('  \n ')).toEqual([]);
  });
});

describe('porterStem = nltk PorterStemmer (NLTK_EXTENSIONS)', () => {
  it(`stems all ${Object.keys(fx.stems).length} fixture words as nltk does`, () => {
    const wrong = Object.entries(fx.stems).filter(([w, s]) => porterStem(w) !== s);
    expect(wrong.map(([w, s]) => `${w}: ${porterStem(w)} != ${s}`)).toEqual([]);
  });
});

describe('hand-worked examples', () => {
  it('BLEU: every n-gram matches, brevity penalty exp(1 − 5/4)', () => {
    const b = bleu([['The heart size is normal']], ['heart size is normal']);
    for (const v of Object.values(b)) expect(v).toBeCloseTo(Math.exp(-0.25), 14);
    expect(bleu([['no effusion']], ['no effusion'], 2)).toEqual({ bleu1: 1, bleu2: 1, bleu3: NaN, bleu4: NaN });
  });

  it('ROUGE-L: LCS-based F with beta 1.2', () => {
    // "no large pleural effusion" vs "no pleural effusion": LCS 3, P = 3/4, R = 1,
    // F = 2.44·.75·1 / (1 + 1.44·.75) = 1.83 / 2.08.
    // "heart is normal in size" vs "the heart size is normal": LCS 3 ("heart is normal"), P = R = 3/5, F = 0.6.
    expect(lcsLength(['the', 'heart', 'size', 'is', 'normal'], ['heart', 'is', 'normal', 'in', 'size'])).toBe(3);
    const r = rougeL([['no pleural effusion'], ['the heart size is normal']], ['no large pleural effusion', 'heart is normal in size']);
    expect(r).toBeCloseTo((1.83 / 2.08 + 0.6) / 2, 14);
    // beta = 1 gives the plain F1: 2·.75·1/1.75
    expect(rougeL([['no pleural effusion']], ['no large pleural effusion'], { beta: 1 })).toBeCloseTo(1.5 / 1.75, 14);
    expect(rougeLItem([['a']], [])).toBe(0);
  });

  it('ROUGE-L with several references: best F (default) vs best P and best R (pycocoevalcap)', () => {
    // hyp "heart normal today" (3); ref1 "heart normal" → P 2/3, R 1; ref2 "heart normal today in this view x" → P 1, R 3/7
    const refs = [['heart', 'normal'], ['heart', 'normal', 'today', 'in', 'this', 'view', 'x']];
    const hyp = ['heart', 'normal', 'today'];
    const f = (p: number, r: number): number => (2.44 * p * r) / (r + 1.44 * p);
    expect(rougeLItem(refs, hyp)).toBeCloseTo(Math.max(f(2 / 3, 1), f(1, 3 / 7)), 14);
    expect(rougeLItem(refs, hyp, { multiRef: 'pycocoevalcap' })).toBeCloseTo(f(1, 1), 14);
  });

  it('METEOR: exact + stem matches, fragmentation penalty', () => {
    // ref "the heart is enlarged", hyp "heart enlarging": heart = heart (exact), enlarging ~ enlarged (stem "enlarg").
    // m = 2, P = 1, R = 1/2, Fmean = PR/(.9P + .1R) = .5/.95; 2 chunks → penalty .5·(2/2)³ = .5
    expect(meteorSingle(['the', 'heart', 'is', 'enlarged'], ['heart', 'enlarging'])).toBeCloseTo(0.5 / 0.95 / 2, 14);
    // nltk's own docstring example: 0.6944
    const ref = 'It is a guide to action that ensures that the military will forever heed Party commands';
    const hyp = 'It is a guide to action which ensures that the military always obeys the commands of the party';
    expect(meteor([[ref]], [hyp])).toBeCloseTo(0.6944, 4);
    expect(meteorSingle(['a'], [])).toBe(0);
  });

  it('CIDEr-D: two items, tf-idf weights ln 2, n-gram mean, length penalty', () => {
    // Every n-gram occurs in one of the 2 items' references → weight ln2 − ln1 = ln2.
    // Exact 2-word match: cos = 1 for n = 1, 2 and 0 for n = 3, 4 → 10·(1 + 1)/4 = 5.
    expect(ciderDItems([[['no', 'effusion']], [['normal', 'heart']]], [['no', 'effusion'], ['normal', 'heart']])).toEqual([5, 5]);
    // "no effusion seen" vs "no effusion": n=1 cos 2/√6, n=2 cos 1/√2, n=3 0;
    // bigram counts 2 vs 1 → penalty exp(−1/72).
    const s = ciderD([['no effusion'], ['normal heart']], ['no effusion seen', 'normal heart']);
    expect(s).toBeCloseTo(((2 / Math.sqrt(6) + 1 / Math.sqrt(2)) / 4) * Math.exp(-1 / 72) * 10 / 2 + 5 / 2, 12);
    // A single item: every idf is log(1) − log(1) = 0, so the score is 0 (as pycocoevalcap).
    expect(ciderD([['no effusion']], ['no effusion'])).toBe(0);
  });
});

describe.each(fx.corpora)('corpus $name vs references', (c) => {
  it('tokenises as the fixture generator did', () => {
    expect(c.hyps.map(tokenize)).toEqual(c.hypTokens);
    expect(c.refs.map((rs) => rs.map(tokenize))).toEqual(c.refTokens);
  });

  it('BLEU-1..4 = nltk corpus_bleu', () => {
    const b = bleu(c.refs, c.hyps);
    expectAllClose([b.bleu1, b.bleu2, b.bleu3, b.bleu4], c.expected.bleu, 1e-12, 'BLEU');
  });

  it('METEOR = nltk meteor_score without WordNet synonyms', () => {
    const items = c.refTokens.map((rs, i) => Math.max(...rs.map((r) => meteorSingle(r, c.hypTokens[i]))));
    expectAllClose(items, c.expected.meteorItems, 1e-12, 'METEOR item');
    expectClose(meteor(c.refs, c.hyps), c.expected.meteor, 1e-6, 'METEOR');
  });

  it('ROUGE-L and CIDEr-D = independent Python implementations', () => {
    expectAllClose(c.refTokens.map((rs, i) => rougeLItem(rs, c.hypTokens[i])), c.expected.rougeLItems, 1e-12, 'ROUGE-L item');
    expectClose(rougeL(c.refs, c.hyps), c.expected.rougeL, 1e-12, 'ROUGE-L');
    expectClose(rougeL(c.refs, c.hyps, { multiRef: 'pycocoevalcap' }), c.expected.rougeLCoco, 1e-12, 'ROUGE-L pycocoevalcap');
    expectAllClose(ciderDItems(c.refTokens, c.hypTokens), c.expected.ciderDItems, 1e-12, 'CIDEr-D item');
    expectClose(ciderD(c.refs, c.hyps), c.expected.ciderD, 1e-12, 'CIDEr-D');
  });

  it('TextMetricsAccumulator (batches of 3) = textMetrics = the single functions', () => {
    const acc = new TextMetricsAccumulator();
    for (let i = 0; i < c.hyps.length; i += 3) acc.add(c.refs.slice(i, i + 3), c.hyps.slice(i, i + 3));
    const all = textMetrics(c.refs, c.hyps);
    expect(acc.result()).toEqual(all);
    expect(all).toEqual({
      ...bleu(c.refs, c.hyps),
      rougeL: rougeL(c.refs, c.hyps),
      meteor: meteor(c.refs, c.hyps),
      ciderD: ciderD(c.refs, c.hyps),
      n: c.hyps.length,
    });
  });
});
