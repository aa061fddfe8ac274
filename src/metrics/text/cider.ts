/**
 * CIDEr-D (Vedantam et al. 2015) as pycocoevalcap's `CiderScorer`: n = 1..4, TF-IDF vectors with
 * document frequency counted over the references of the evaluated set, clipped hypothesis weights,
 * Gaussian length penalty (sigma 6), mean over n and references, × 10.
 */
import { checkSameLength, metricsError } from '../validate.js';
import { ngramCounts } from './ngrams.js';
import { tokenize } from './tokenize.js';

const N = 4;
const SIGMA = 6;

interface Vec {
  weights: Map<string, number>[];
  norms: number[];
  /**
   * pycocoevalcap's "length": the number of bigrams (its `if n == 1` counts order-2 n-grams). The
   * difference of two such lengths equals the difference of token counts unless a text is empty, and an
   * empty text scores 0 either way.
   */
  length: number;
}

function allCounts(tokens: string[]): Map<string, number>[] {
  return Array.from({ length: N }, (_, n) => ngramCounts(tokens, n + 1));
}

function toVec(counts: Map<string, number>[], df: Map<string, number>, logItems: number): Vec {
  const weights = counts.map((order) => {
    const w = new Map<string, number>();
    for (const [g, tf] of order) w.set(g, tf * (logItems - Math.log(Math.max(1, df.get(g) ?? 0))));
    return w;
  });
  const norms = weights.map((w) => Math.sqrt([...w.values()].reduce((a, v) => a + v * v, 0)));
  const length = [...counts[1].values()].reduce((a, b) => a + b, 0);
  return { weights, norms, length };
}

function similarity(hyp: Vec, ref: Vec): number[] {
  const delta = hyp.length - ref.length;
  const penalty = Math.exp(-(delta * delta) / (2 * SIGMA * SIGMA));
  return hyp.weights.map((hw, n) => {
    let val = 0;
    for (const [g, w] of hw) {
      const r = ref.weights[n].get(g) ?? 0;
      val += Math.min(w, r) * r;
    }
    if (hyp.norms[n] !== 0 && ref.norms[n] !== 0) val /= hyp.norms[n] * ref.norms[n];
    return val * penalty;
  });
}

/**
 * CIDEr-D per item from token lists (`refs[i]` = references of item i). Document frequency df(g) =
 * number of items whose references contain g; weight = tf × (log(#items) − log(max(1, df))). With a
 * single item every weight is 0, so the score is 0 (as in pycocoevalcap).
 */
export function ciderDItems(refs: string[][][], hyps: string[][]): number[] {
  checkSameLength('refs', refs, 'hyps', hyps);
  const refCounts = refs.map((rs, i) => {
    if (rs.length === 0) throw metricsError(`item ${i} has no reference text`);
    return rs.map(allCounts);
  });
  const df = new Map<string, number>();
  for (const item of refCounts) {
    const seen = new Set<string>();
    for (const ref of item) for (const order of ref) for (const g of order.keys()) seen.add(g);
    for (const g of seen) df.set(g, (df.get(g) ?? 0) + 1);
  }
  const logItems = Math.log(refs.length);
  return hyps.map((hyp, i) => {
    const h = toVec(allCounts(hyp), df, logItems);
    const sums = new Array<number>(N).fill(0);
    for (const rc of refCounts[i]) similarity(h, toVec(rc, df, logItems)).forEach((v, n) => (sums[n] += v));
    return ((sums.reduce((a, b) => a + b, 0) / N) / refCounts[i].length) * 10;
  });
}

/** Corpus CIDEr-D: mean of `ciderDItems` over items (NaN for no items), on `tokenize` tokens. */
export function ciderD(refs: string[][], hyps: string[]): number {
  return ciderDTokens(refs.map((r) => r.map(tokenize)), hyps.map(tokenize));
}

/** `ciderD` on already tokenised text. */
export function ciderDTokens(refs: string[][][], hyps: string[][]): number {
  const scores = ciderDItems(refs, hyps);
  return scores.length === 0 ? NaN : scores.reduce((a, b) => a + b, 0) / scores.length;
}
