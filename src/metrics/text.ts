/**
 * Report-generation / captioning metrics on `tokenize` tokens: BLEU-1..4 (= nltk corpus_bleu), ROUGE-L,
 * METEOR (= nltk meteor_score without WordNet), CIDEr-D (= pycocoevalcap). `refs[i]` holds the
 * reference texts of item i, `hyps[i]` the generated text.
 */
import { checkSameLength } from './validate.js';
import { addBleuItem, bleuFromStats, emptyBleuStats, type BleuScores } from './text/bleu.js';
import { ciderDTokens } from './text/cider.js';
import { meteorItem } from './text/meteor.js';
import { rougeLItem, type RougeLOptions } from './text/rouge.js';
import { tokenize } from './text/tokenize.js';

export { tokenize } from './text/tokenize.js';
export { porterStem } from './text/porter.js';
export { bleu, bleuTokens, type BleuScores } from './text/bleu.js';
export { rougeL, rougeLTokens, rougeLItem, lcsLength, type RougeLOptions } from './text/rouge.js';
export { meteor, meteorTokens, meteorItem, meteorSingle } from './text/meteor.js';
export { ciderD, ciderDTokens, ciderDItems } from './text/cider.js';

/** All text metrics of one evaluated set. */
export interface TextMetrics extends BleuScores {
  rougeL: number;
  meteor: number;
  ciderD: number;
  n: number;
}

/** BLEU-1..4, ROUGE-L, METEOR and CIDEr-D in one pass over the same tokens. */
export function textMetrics(refs: string[][], hyps: string[], rouge: RougeLOptions = {}): TextMetrics {
  const acc = new TextMetricsAccumulator();
  acc.add(refs, hyps);
  return acc.result(rouge);
}

/** Adds (references, hypothesis) items batch by batch; `result()` = `textMetrics` on all items. */
export class TextMetricsAccumulator {
  private readonly refs: string[][][] = [];
  private readonly hyps: string[][] = [];

  /** Add a batch: `refs[i]` are the reference texts of `hyps[i]`. */
  add(refs: string[][], hyps: string[]): void {
    checkSameLength('refs', refs, 'hyps', hyps);
    for (let i = 0; i < hyps.length; i++) {
      this.refs.push(refs[i].map(tokenize));
      this.hyps.push(tokenize(hyps[i]));
    }
  }

  /** Metrics over all items added so far (NaN for no items, except BLEU which is then 0). */
  result(rouge: RougeLOptions = {}): TextMetrics {
    const n = this.hyps.length;
    const stats = emptyBleuStats();
    let rougeSum = 0;
    let meteorSum = 0;
    for (let i = 0; i < n; i++) {
      addBleuItem(stats, this.refs[i], this.hyps[i]);
      rougeSum += rougeLItem(this.refs[i], this.hyps[i], rouge);
      meteorSum += meteorItem(this.refs[i], this.hyps[i]);
    }
    return {
      ...bleuFromStats(stats, 4),
      rougeL: n === 0 ? NaN : rougeSum / n,
      meteor: n === 0 ? NaN : meteorSum / n,
      ciderD: ciderDTokens(this.refs, this.hyps),
      n,
    };
  }
}
