/** Levenshtein distance, for "did you mean" suggestions on mistyped names. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** Candidates within a small edit distance of `name` (or containing it), closest first. */
export function closestNames(name: string, candidates: readonly string[], max = 3): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  return candidates
    .map((c) => ({ c, d: editDistance(name.toLowerCase(), c.toLowerCase()) }))
    .filter((x) => x.d <= limit || x.c.toLowerCase().includes(name.toLowerCase()))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map((x) => x.c);
}

/** " (did you mean 'x'?)" or "" — appended to option errors. */
export function didYouMean(input: string, known: readonly string[]): string {
  const [c] = closestNames(input, known, 1);
  return c ? ` (did you mean '${c}'?)` : '';
}
