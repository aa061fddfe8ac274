/**
 * VQA scores of generated answers as LLaVA-Med's evaluation defines them (microsoft/LLaVA-Med,
 * llava/eval/run_eval.py and eval_metrics/: normalize_word, calculate_f1score, calculate_exactmatch),
 * so numbers are comparable with the papers that report "closed accuracy" and "open recall" on
 * VQA-RAD, SLAKE and PathVQA. Re-implemented from the definitions, quirks included and named:
 *
 * - Normalisation: lowercase; each of ; / [ ] " { } ( ) = + \ _ - > < @ ` , ? ! is deleted when the
 *   text has it next to a space (or has a digit,digit comma anywhere), else replaced by a space;
 *   up to 32 periods not followed by a digit are deleted; words none/zero…ten become digits;
 *   articles a/an/the are dropped; commas removed. (The original also maps apostrophe-less
 *   contractions such as "dont" → "don't"; that table is not reproduced, which changes nothing for
 *   answers without such words.)
 * - Closed (yes/no) questions: a hit when the normalised prediction contains "yes" or "no" as a
 *   substring and contains the normalised truth as a substring; 0 when it contains neither "yes" nor
 *   "no"; **dropped from the denominator** when it contains one of them but not the truth (the
 *   original appends nothing in that case). `closedStrict` counts those as misses.
 * - Open questions: token counts after normalisation (whitespace split); tp = Σ candidate counts of
 *   words also in the truth, fp = Σ candidate counts of other words, fn = Σ truth counts of words not
 *   in the candidate; recall = tp/(tp+fn), precision = tp/(tp+fp), F1 = 2PR/(P+R); all 0 when either
 *   side is empty or tp = 0. Exact match = (distinct truth words present in the candidate) /
 *   (candidate token count), 0 for an empty candidate.
 */
import { bootstrapCI, type CI } from './bootstrap.js';

const PUNCT = [';', '/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'];
const NUMBERS: Record<string, string> = {
  none: '0', zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
};
const ARTICLES = new Set(['a', 'an', 'the']);

/** LLaVA-Med's answer normalisation (of the lowercased text). */
export function llavaMedNormalize(text: string): string {
  const original = text.toLowerCase();
  const digitComma = /\d,\d/.test(original);
  let t = original;
  for (const p of PUNCT) {
    const deleteIt = original.includes(`${p} `) || original.includes(` ${p}`) || digitComma;
    t = t.split(p).join(deleteIt ? '' : ' ');
  }
  let removed = 0;
  t = t.replace(/\.(?!\d)/g, (m) => (removed++ < 32 ? '' : m));
  const words = t
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .map((w) => NUMBERS[w] ?? w)
    .filter((w) => !ARTICLES.has(w));
  return words.join(' ').split(',').join('');
}

function counts(normalised: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const w of normalised.split(/\s+/).filter((x) => x.length > 0)) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
}

/** Closed question: 1 hit, 0 miss, null when LLaVA-Med's protocol leaves the item out. */
export function llavaMedClosedHit(truth: string, predicted: string): 1 | 0 | null {
  const t = llavaMedNormalize(truth);
  const p = llavaMedNormalize(predicted);
  if (!(p.includes('yes') || p.includes('no'))) return 0;
  return p.includes(t) ? 1 : null;
}

/** Open question token scores. */
export interface LlavaMedOpenScores {
  recall: number;
  precision: number;
  f1: number;
  exactMatch: number;
}

/** Open question: recall / precision / F1 and exact match as LLaVA-Med computes them. */
export function llavaMedOpenScores(truth: string, predicted: string): LlavaMedOpenScores {
  // run_eval.py normalises both answers, and calculate_f1score / calculate_exactmatch normalise again
  const cand = counts(llavaMedNormalize(llavaMedNormalize(predicted)));
  const ref = counts(llavaMedNormalize(llavaMedNormalize(truth)));
  let candTotal = 0;
  for (const c of cand.values()) candTotal += c;
  let present = 0;
  for (const w of ref.keys()) if (cand.has(w)) present++;
  const exactMatch = candTotal === 0 ? 0 : present / candTotal;
  if (cand.size === 0 || ref.size === 0) return { recall: 0, precision: 0, f1: 0, exactMatch };
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const [w, c] of cand) {
    if (ref.has(w)) tp += c;
    else fp += c;
  }
  for (const [w, c] of ref) if (!cand.has(w)) fn += c;
  if (tp === 0) return { recall: 0, precision: 0, f1: 0, exactMatch };
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fn);
  return { recall, precision, f1: (2 * precision * recall) / (precision + recall), exactMatch };
}

/** One scored question. */
export interface LlavaMedItem {
  answerType: 'CLOSED' | 'OPEN';
  truth: string;
  predicted: string;
  /** Closed: the hit (null = left out by the protocol). */
  closedHit?: 1 | 0 | null;
  /** Open: token scores. */
  open?: LlavaMedOpenScores;
}

/** Summary over a set of questions, with 95 % percentile-bootstrap CIs over questions. */
export interface LlavaMedVqaSummary {
  closed: { n: number; counted: number; dropped: number; accuracy: CI; strictAccuracy: CI };
  open: { n: number; recall: CI; exactMatch: CI; f1: CI };
}

function mean(xs: number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Score every question (answer types other than CLOSED count as OPEN, as in the original). */
export function scoreLlavaMedVqa(
  items: Array<{ answerType: string; truth: string; predicted: string }>,
  opts: { bootstrap?: number; seed?: number } = {},
): { items: LlavaMedItem[]; summary: LlavaMedVqaSummary } {
  const scored: LlavaMedItem[] = items.map((it) =>
    it.answerType.toUpperCase() === 'CLOSED'
      ? { answerType: 'CLOSED', truth: it.truth, predicted: it.predicted, closedHit: llavaMedClosedHit(it.truth, it.predicted) }
      : { answerType: 'OPEN', truth: it.truth, predicted: it.predicted, open: llavaMedOpenScores(it.truth, it.predicted) },
  );
  const closed = scored.filter((s) => s.answerType === 'CLOSED');
  const open = scored.filter((s) => s.answerType === 'OPEN');
  const b = { samples: opts.bootstrap ?? 1000, seed: opts.seed ?? 0 };
  const closedAcc = (idx: number[]): number => mean(idx.map((i) => closed[i].closedHit).filter((h): h is 0 | 1 => h !== null));
  const closedStrict = (idx: number[]): number => mean(idx.map((i) => closed[i].closedHit ?? 0));
  const openMean = (key: keyof LlavaMedOpenScores) => (idx: number[]): number => mean(idx.map((i) => open[i].open![key]));
  const dropped = closed.filter((c) => c.closedHit === null).length;
  return {
    items: scored,
    summary: {
      closed: {
        n: closed.length,
        counted: closed.length - dropped,
        dropped,
        accuracy: bootstrapCI(closed.length, closedAcc, b),
        strictAccuracy: bootstrapCI(closed.length, closedStrict, b),
      },
      open: {
        n: open.length,
        recall: bootstrapCI(open.length, openMean('recall'), b),
        exactMatch: bootstrapCI(open.length, openMean('exactMatch'), b),
        f1: bootstrapCI(open.length, openMean('f1'), b),
      },
    },
  };
}
