import { tokenize } from '../metrics/text/tokenize.js';

/**
 * Text rules of retrieval-based drafting: sentence splitting, content words, negation ("no effusion")
 * and the simple contradictions it allows to detect, and word overlap for near-duplicates.
 */

const ABBREVIATIONS = /\b(e\.g|i\.e|vs|dr|approx|cf|fig|no|mr|ms|st)\.$/i;

/** Split a report into sentences (on . ! ? and line breaks; common abbreviations kept intact). */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n+/)) {
    let current = '';
    const parts = para.split(/(?<=[.!?])\s+/);
    for (const part of parts) {
      current = current ? `${current} ${part}` : part;
      if (ABBREVIATIONS.test(current.trim()) || /\b\d+\.$/.test(current.trim())) continue;
      out.push(current);
      current = '';
    }
    if (current) out.push(current);
  }
  return out.map((s) => s.replace(/\s+/g, ' ').trim()).filter((s) => words(s).length >= 2);
}

const STOP = new Set(
  ('a an the of in on at to for with and or but is are was were be been being there this that these those it its as by from ' +
    'into onto over under than then which who whose has have had seen noted identified demonstrated shown present visible ' +
    'image images imaging evidence finding findings also may can could would should likely suggest suggests suggesting consistent ' +
    'left right bilateral small large mild mildly moderate moderately severe significant new old acute chronic well both within ' +
    'any some more less most least very again other each one two three').split(' '),
);

/** Negation cues: no, not, without, negative for, absent, free of, none, denies, resolved. */
const NEG_CUE = /\b(no|not|without|negative for|absent|absence of|free of|none|nor|resolved|ruled out|rules out)\b/i;

/** Lower-case words (runs of ASCII letters and digits) of the text metrics' tokens. */
export function words(s: string): string[] {
  return tokenize(s).flatMap((t) => t.match(/[a-z0-9]+/g) ?? []);
}

/** A crude singular: effusions → effusion, masses → mass. */
function stem(w: string): string {
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && /(ss|x|ch|sh)es$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) return w.slice(0, -1);
  return w;
}

/** Content words of a phrase (stop words, modifiers and numbers removed), stemmed. */
export function contentWords(s: string): string[] {
  return words(s).filter((w) => !STOP.has(w) && !/^\d+$/.test(w) && !NEG_CUE.test(w)).map(stem);
}

/** What a sentence says about findings: terms it asserts and terms it negates. */
export interface FindingPolarity {
  /** Head terms under a negation cue ("no pleural effusion or pneumothorax" → effusion, pneumothorax). */
  negated: string[];
  /** Content terms outside any negated phrase. */
  asserted: string[];
}

/**
 * Split a sentence into negated and asserted terms. A cue (no, without, negative for, absent, ...)
 * negates the phrase after it up to the end of the clause; "X is absent" negates X. Within a
 * negated phrase, coordinated items ("A or B", "A, B and C") each contribute their head (last)
 * content word.
 */
export function findingPolarity(sentence: string): FindingPolarity {
  const negated = new Set<string>();
  const asserted = new Set<string>();
  for (const clause of sentence.toLowerCase().split(/[;:]|,\s*(?:but|however|although)\b|\bbut\b|\bhowever\b/)) {
    const post = /^(.*?)\b(?:is|are|was|were)\s+(?:absent|not (?:seen|present|identified|visualized))\b(.*)$/.exec(clause);
    if (post) {
      for (const h of heads(post[1])) negated.add(h);
      for (const w of contentWords(post[2])) asserted.add(w);
      continue;
    }
    const m = /\b(no|not|without|negative for|absence of|free of|none of|ruled out|rules out)\b(.*)$/.exec(clause);
    if (!m) {
      for (const w of contentWords(clause)) asserted.add(w);
      continue;
    }
    const before = clause.slice(0, m.index);
    for (const w of contentWords(before)) asserted.add(w);
    for (const h of heads(m[2].replace(/^\s*(evidence|signs?|sign)\s+of\b/, ''))) negated.add(h);
  }
  for (const n of negated) asserted.delete(n);
  return { negated: [...negated], asserted: [...asserted] };
}

/** Heads (last content word) of the coordinated items of a phrase. */
function heads(phrase: string): string[] {
  const out: string[] = [];
  for (const item of phrase.split(/,|\bor\b|\band\b|\bnor\b/)) {
    const cw = contentWords(item);
    if (cw.length) out.push(cw[cw.length - 1]);
  }
  return out;
}

/**
 * The finding term on which two sentences contradict each other (one negates what the other
 * asserts), or undefined. Only this simple kind is detected: "no effusion" vs "small effusion".
 */
export function contradiction(a: string, b: string): string | undefined {
  const pa = findingPolarity(a);
  const pb = findingPolarity(b);
  const assertedB = new Set(pb.asserted);
  const assertedA = new Set(pa.asserted);
  return pa.negated.find((t) => assertedB.has(t)) ?? pb.negated.find((t) => assertedA.has(t));
}

/** Jaccard overlap of the two sentences' word sets. */
export function wordJaccard(a: string, b: string): number {
  const A = new Set(words(a));
  const B = new Set(words(b));
  let inter = 0;
  for (const w of A) if (B.has(w)) inter++;
  const union = A.size + B.size - inter;
  return union === 0 ? 1 : inter / union;
}
