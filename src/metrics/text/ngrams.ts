/** N-gram counting shared by BLEU and CIDEr-D. N-grams are keyed by their tokens joined with U+0001. */

/** Counts of the n-grams of exactly order `n` in `tokens`. */
export function ngramCounts(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const g = tokens.slice(i, i + n).join('\u0001');
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  return counts;
}
