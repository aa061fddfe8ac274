/** Corpus BLEU (Papineni et al. 2002) exactly as nltk's `corpus_bleu` without smoothing. */
import { checkSameLength, metricsError } from '../validate.js';
import { ngramCounts } from './ngrams.js';
import { tokenize } from './tokenize.js';

/** BLEU-1..4; orders above `maxN` are NaN. */
export interface BleuScores {
  bleu1: number;
  bleu2: number;
  bleu3: number;
  bleu4: number;
}

/** Sufficient statistics of corpus BLEU: clipped matches and totals per order 1..4, lengths. */
export interface BleuStats {
  matches: number[];
  totals: number[];
  hypLength: number;
  refLength: number;
}

/** An empty `BleuStats`. */
export function emptyBleuStats(): BleuStats {
  return { matches: [0, 0, 0, 0], totals: [0, 0, 0, 0], hypLength: 0, refLength: 0 };
}

/**
 * Add one item (token lists) to `stats`, as nltk does: clipped n-gram matches against the per-n-gram
 * maximum over references; the total per order is max(1, number of hypothesis n-grams); the reference
 * length is the one closest to the hypothesis length (the shorter on ties).
 */
export function addBleuItem(stats: BleuStats, refs: string[][], hyp: string[]): void {
  if (refs.length === 0) throw metricsError('an item has no reference text');
  for (let n = 1; n <= 4; n++) {
    const counts = ngramCounts(hyp, n);
    const refCounts = refs.map((r) => ngramCounts(r, n));
    let total = 0;
    for (const [g, c] of counts) {
      let maxRef = 0;
      for (const rc of refCounts) maxRef = Math.max(maxRef, rc.get(g) ?? 0);
      stats.matches[n - 1] += Math.min(c, maxRef);
      total += c;
    }
    stats.totals[n - 1] += Math.max(1, total);
  }
  const h = hyp.length;
  let closest = refs[0].length;
  for (const r of refs) {
    const d = Math.abs(r.length - h);
    const best = Math.abs(closest - h);
    if (d < best || (d === best && r.length < closest)) closest = r.length;
  }
  stats.hypLength += h;
  stats.refLength += closest;
}

/**
 * BLEU-n from the statistics: brevity penalty × geometric mean of the modified precisions 1..n with
 * uniform weights 1/n. An order with no match makes BLEU-n exactly 0 (nltk returns ~1e-77·bp there,
 * using `sys.float_info.min` in place of 0).
 */
export function bleuFromStats(s: BleuStats, maxN: 1 | 2 | 3 | 4 = 4): BleuScores {
  const c = s.hypLength;
  const r = s.refLength;
  const bp = c > r ? 1 : c === 0 ? 0 : Math.exp(1 - r / c);
  const scores = [NaN, NaN, NaN, NaN];
  for (let n = 1; n <= maxN; n++) {
    let logSum = 0;
    let zero = false;
    for (let i = 0; i < n; i++) {
      if (s.matches[i] === 0) zero = true;
      else logSum += Math.log(s.matches[i] / s.totals[i]) / n;
    }
    scores[n - 1] = zero ? 0 : bp * Math.exp(logSum);
  }
  return { bleu1: scores[0], bleu2: scores[1], bleu3: scores[2], bleu4: scores[3] };
}

/**
 * Corpus-level BLEU-1..4 = nltk `corpus_bleu(refs, hyps, weights=(1/n,)*n)` (no smoothing) on
 * `tokenize` tokens. `refs[i]` holds the reference texts of item i, `hyps[i]` its generated text.
 */
export function bleu(refs: string[][], hyps: string[], maxN: 1 | 2 | 3 | 4 = 4): BleuScores {
  return bleuTokens(refs.map((r) => r.map(tokenize)), hyps.map(tokenize), maxN);
}

/** `bleu` on already tokenised text. */
export function bleuTokens(refs: string[][][], hyps: string[][], maxN: 1 | 2 | 3 | 4 = 4): BleuScores {
  checkSameLength('refs', refs, 'hyps', hyps);
  const stats = emptyBleuStats();
  for (let i = 0; i < hyps.length; i++) addBleuItem(stats, refs[i], hyps[i]);
  return bleuFromStats(stats, maxN);
}
