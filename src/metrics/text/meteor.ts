/**
 * METEOR as nltk 3.8's `meteor_score` (Lavie & Agarwal 2007; alpha 0.9, beta 3, gamma 0.5) with exact
 * and Porter-stem matching only: WordNet synonyms are not available offline.
 */
import { checkSameLength, metricsError } from '../validate.js';
import { porterStem } from './porter.js';
import { tokenize } from './tokenize.js';

const ALPHA = 0.9;
const BETA = 3;
const GAMMA = 0.5;

type Enum = [index: number, word: string];

/** nltk `_match_enums`: hypothesis words from the last, each paired with the last equal reference word. */
function matchEnums(hyp: Enum[], ref: Enum[]): [number, number][] {
  const matches: [number, number][] = [];
  for (let i = hyp.length - 1; i >= 0; i--) {
    for (let j = ref.length - 1; j >= 0; j--) {
      if (hyp[i][1] === ref[j][1]) {
        matches.push([hyp[i][0], ref[j][0]]);
        hyp.splice(i, 1);
        ref.splice(j, 1);
        break;
      }
    }
  }
  return matches;
}

function countChunks(matches: [number, number][]): number {
  let chunks = 1;
  for (let i = 0; i < matches.length - 1; i++) {
    const adjacent = matches[i + 1][0] === matches[i][0] + 1 && matches[i + 1][1] === matches[i][1] + 1;
    if (!adjacent) chunks++;
  }
  return chunks;
}

/** nltk `single_meteor_score` for one tokenised reference and hypothesis (lowercased first). */
export function meteorSingle(ref: string[], hyp: string[]): number {
  const h: Enum[] = hyp.map((w, i) => [i, w.toLowerCase()]);
  const r: Enum[] = ref.map((w, i) => [i, w.toLowerCase()]);
  const hypLen = h.length;
  const refLen = r.length;
  const exact = matchEnums(h, r);
  const stemmed = matchEnums(
    h.map(([i, w]): Enum => [i, porterStem(w)]),
    r.map(([i, w]): Enum => [i, porterStem(w)]),
  );
  const matches = [...exact, ...stemmed].sort((a, b) => a[0] - b[0]);
  const m = matches.length;
  if (m === 0 || hypLen === 0 || refLen === 0) return 0;
  const precision = m / hypLen;
  const recall = m / refLen;
  const fmean = (precision * recall) / (ALPHA * precision + (1 - ALPHA) * recall);
  const penalty = GAMMA * (countChunks(matches) / m) ** BETA;
  return (1 - penalty) * fmean;
}

/** Mean over items of nltk `meteor_score(refs_tokens, hyp_tokens)` (best reference), on `tokenize` tokens. */
export function meteor(refs: string[][], hyps: string[]): number {
  return meteorTokens(refs.map((r) => r.map(tokenize)), hyps.map(tokenize));
}

/** `meteor` on already tokenised text. NaN for no items. */
export function meteorTokens(refs: string[][][], hyps: string[][]): number {
  checkSameLength('refs', refs, 'hyps', hyps);
  let sum = 0;
  for (let i = 0; i < hyps.length; i++) sum += meteorItem(refs[i], hyps[i]);
  return hyps.length === 0 ? NaN : sum / hyps.length;
}

/** METEOR of one item: the best `meteorSingle` over its references. */
export function meteorItem(refs: string[][], hyp: string[]): number {
  if (refs.length === 0) throw metricsError('an item has no reference text');
  return Math.max(...refs.map((r) => meteorSingle(r, hyp)));
}
