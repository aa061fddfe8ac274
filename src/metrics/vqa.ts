/** VQA metrics: closed (yes/no) accuracy and open-answer token overlap, after answer normalisation. */
import { checkSameLength } from './validate.js';

const NUMBER_WORDS: Record<string, string> = {
  zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9',
  ten: '10', eleven: '11', twelve: '12', thirteen: '13', fourteen: '14', fifteen: '15', sixteen: '16',
  seventeen: '17', eighteen: '18', nineteen: '19', twenty: '20',
};
const ARTICLES = new Set(['a', 'an', 'the']);

/**
 * Normalise an answer: lowercase; drop apostrophes; drop `,` between digits ("1,000" → "1000"); keep
 * `.` between digits ("2.5"); every other punctuation character (Unicode P) becomes a space; drop
 * the articles a/an/the; number words zero..twenty → digits; collapse whitespace.
 * `"The heart is NOT enlarged."` → `"heart is not enlarged"`, `"Two."` → `"2"`.
 */
export function normalizeAnswer(s: string): string {
  const t = s
    .toLowerCase()
    .replace(/['\u2019]/gu, '')
    .replace(/(?<=[0-9]),(?=[0-9])/gu, '')
    .replace(/\p{P}/gu, (c, offset: number, whole: string) =>
      c === '.' && /[0-9]/.test(whole[offset - 1] ?? '') && /[0-9]/.test(whole[offset + 1] ?? '') ? c : ' ',
    );
  return t
    .split(/\s+/u)
    .filter((w) => w.length > 0 && !ARTICLES.has(w))
    .map((w) => NUMBER_WORDS[w] ?? w)
    .join(' ');
}

/** Exact-match accuracy of normalised answers (closed questions: yes/no). NaN for no items. */
export function closedAccuracy(truth: string[], predicted: string[]): number {
  checkSameLength('truth', truth, 'predicted', predicted);
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (normalizeAnswer(truth[i]) === normalizeAnswer(predicted[i])) hits++;
  return truth.length === 0 ? NaN : hits / truth.length;
}

/** Token scores of one open answer. */
export interface OpenTokenScores {
  recall: number;
  precision: number;
  f1: number;
  exactMatch: number;
}

/**
 * Token overlap of one normalised answer pair: overlap = Σ_w min(count_truth(w), count_pred(w));
 * recall = overlap/|truth|, precision = overlap/|pred|, F1 = 2PR/(P+R) (0 when P+R = 0). Both empty:
 * all 1; one empty: all 0.
 */
export function openTokenItem(truth: string, predicted: string): OpenTokenScores {
  const t = normalizeAnswer(truth);
  const p = normalizeAnswer(predicted);
  const exactMatch = t === p ? 1 : 0;
  const tt = t === '' ? [] : t.split(' ');
  const pt = p === '' ? [] : p.split(' ');
  if (tt.length === 0 || pt.length === 0) {
    const both = tt.length === pt.length ? 1 : 0;
    return { recall: both, precision: both, f1: both, exactMatch };
  }
  const counts = new Map<string, number>();
  for (const w of tt) counts.set(w, (counts.get(w) ?? 0) + 1);
  let overlap = 0;
  for (const w of pt) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      overlap++;
      counts.set(w, c - 1);
    }
  }
  const recall = overlap / tt.length;
  const precision = overlap / pt.length;
  const f1 = recall + precision === 0 ? 0 : (2 * recall * precision) / (recall + precision);
  return { recall, precision, f1, exactMatch };
}

/** Open-question scores as VQA-RAD/SLAKE papers report them: `openTokenItem` averaged over items (NaN for none). */
export function openTokenScores(truth: string[], predicted: string[]): OpenTokenScores {
  checkSameLength('truth', truth, 'predicted', predicted);
  const acc = new VqaAccumulator();
  for (let i = 0; i < truth.length; i++) acc.add(truth[i], predicted[i], 'open');
  return acc.result().open;
}

/** Result of `VqaAccumulator`. */
export interface VqaResult {
  closed: { n: number; accuracy: number };
  open: OpenTokenScores & { n: number };
}

/** Adds VQA answers one by one (closed or open); `result()` = `closedAccuracy` / `openTokenScores` per kind. */
export class VqaAccumulator {
  private closedN = 0;
  private closedHits = 0;
  private openN = 0;
  private readonly open = { recall: 0, precision: 0, f1: 0, exactMatch: 0 };

  /** Add one answer; `kind` says whether the question is closed (yes/no) or open. */
  add(truth: string, predicted: string, kind: 'closed' | 'open'): void {
    if (kind === 'closed') {
      this.closedN++;
      if (normalizeAnswer(truth) === normalizeAnswer(predicted)) this.closedHits++;
      return;
    }
    const s = openTokenItem(truth, predicted);
    this.openN++;
    this.open.recall += s.recall;
    this.open.precision += s.precision;
    this.open.f1 += s.f1;
    this.open.exactMatch += s.exactMatch;
  }

  /** Means over the answers added so far (NaN for a kind with none). */
  result(): VqaResult {
    const m = (x: number): number => (this.openN === 0 ? NaN : x / this.openN);
    return {
      closed: { n: this.closedN, accuracy: this.closedN === 0 ? NaN : this.closedHits / this.closedN },
      open: {
        n: this.openN,
        recall: m(this.open.recall),
        precision: m(this.open.precision),
        f1: m(this.open.f1),
        exactMatch: m(this.open.exactMatch),
      },
    };
  }
}
