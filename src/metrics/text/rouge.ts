/** ROUGE-L (Lin 2004): F-measure from the longest common subsequence of tokens. */
import { checkSameLength, metricsError } from '../validate.js';
import { tokenize } from './tokenize.js';

/** Options of `rougeL`. */
export interface RougeLOptions {
  /** Weight of recall relative to precision (default 1.2, as pycocoevalcap). */
  beta?: number;
  /**
   * How several references combine: `'max-f'` (default, Lin 2004): the best F over references;
   * `'pycocoevalcap'`: F from the best precision and the best recall taken separately.
   */
  multiRef?: 'max-f' | 'pycocoevalcap';
}

/** Length of the longest common subsequence of two token lists. */
export function lcsLength(a: string[], b: string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    prev = cur;
  }
  return prev[b.length];
}

function fBeta(p: number, r: number, beta: number): number {
  return p === 0 || r === 0 ? 0 : ((1 + beta * beta) * p * r) / (r + beta * beta * p);
}

/**
 * ROUGE-L of one hypothesis against its references (token lists): P = LCS/|hyp|, R = LCS/|ref|,
 * F = (1+β²)PR / (R + β²P); 0 when P or R is 0 (including an empty hypothesis).
 */
export function rougeLItem(refs: string[][], hyp: string[], opts: RougeLOptions = {}): number {
  const beta = opts.beta ?? 1.2;
  if (refs.length === 0) throw metricsError('an item has no reference text');
  const pr = refs.map((ref) => {
    const l = lcsLength(ref, hyp);
    return { p: hyp.length === 0 ? 0 : l / hyp.length, r: ref.length === 0 ? 0 : l / ref.length };
  });
  if (opts.multiRef === 'pycocoevalcap') {
    return fBeta(Math.max(...pr.map((x) => x.p)), Math.max(...pr.map((x) => x.r)), beta);
  }
  return Math.max(...pr.map((x) => fBeta(x.p, x.r, beta)));
}

/** Mean over items of the max-over-references ROUGE-L F (β = 1.2 unless `opts.beta`), on `tokenize` tokens. */
export function rougeL(refs: string[][], hyps: string[], opts: RougeLOptions = {}): number {
  return rougeLTokens(refs.map((r) => r.map(tokenize)), hyps.map(tokenize), opts);
}

/** `rougeL` on already tokenised text. NaN for no items. */
export function rougeLTokens(refs: string[][][], hyps: string[][], opts: RougeLOptions = {}): number {
  checkSameLength('refs', refs, 'hyps', hyps);
  let sum = 0;
  for (let i = 0; i < hyps.length; i++) sum += rougeLItem(refs[i], hyps[i], opts);
  return hyps.length === 0 ? NaN : sum / hyps.length;
}
