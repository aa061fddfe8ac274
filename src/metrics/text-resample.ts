/**
 * Text metrics of many subsets (bootstrap resamples) of one evaluated set without redoing per-item
 * work: tokens, BLEU statistics, ROUGE-L and METEOR are computed once per item; a subset sums them
 * (BLEU's corpus statistics are per-item sums, ROUGE-L and METEOR are means) and only CIDEr-D, whose
 * document frequencies depend on the subset's references, is recomputed. Gives exactly `textMetrics`
 * on the listed items (same sums in the same order).
 */
import { addBleuItem, bleuFromStats, emptyBleuStats, type BleuStats } from './text/bleu.js';
import { ciderDTokens } from './text/cider.js';
import { meteorItem } from './text/meteor.js';
import { rougeLItem, type RougeLOptions } from './text/rouge.js';
import { tokenize } from './text/tokenize.js';
import type { TextMetrics } from './text.js';
import { checkSameLength } from './validate.js';

/** Per-item text statistics of one set; `metrics(idx)` = `textMetrics` of the items listed (with repeats). */
export class TextMetricsResampler {
  private readonly refs: string[][][];
  private readonly hyps: string[][];
  private readonly bleu: BleuStats[];
  private readonly rouge: number[];
  private readonly meteor: number[];

  /** `refs[i]` are the reference texts of `hyps[i]`. */
  constructor(refs: string[][], hyps: string[], rouge: RougeLOptions = {}) {
    checkSameLength('refs', refs, 'hyps', hyps);
    this.refs = refs.map((r) => r.map(tokenize));
    this.hyps = hyps.map(tokenize);
    this.bleu = this.hyps.map((h, i) => {
      const s = emptyBleuStats();
      addBleuItem(s, this.refs[i], h);
      return s;
    });
    this.rouge = this.hyps.map((h, i) => rougeLItem(this.refs[i], h, rouge));
    this.meteor = this.hyps.map((h, i) => meteorItem(this.refs[i], h));
  }

  /** The metrics of the items listed (NaN for none, except BLEU which is then 0). */
  metrics(idx: number[]): TextMetrics {
    const stats = emptyBleuStats();
    let rougeSum = 0;
    let meteorSum = 0;
    for (const i of idx) {
      const b = this.bleu[i];
      for (let n = 0; n < 4; n++) {
        stats.matches[n] += b.matches[n];
        stats.totals[n] += b.totals[n];
      }
      stats.hypLength += b.hypLength;
      stats.refLength += b.refLength;
      rougeSum += this.rouge[i];
      meteorSum += this.meteor[i];
    }
    const n = idx.length;
    return {
      ...bleuFromStats(stats, 4),
      rougeL: n === 0 ? NaN : rougeSum / n,
      meteor: n === 0 ? NaN : meteorSum / n,
      ciderD: ciderDTokens(idx.map((i) => this.refs[i]), idx.map((i) => this.hyps[i])),
      n,
    };
  }
}
