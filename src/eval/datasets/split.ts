/** Split assignment helpers: seeded stratified splits and the split hash results record. */
import { createHash } from 'node:crypto';
import { mulberry32 } from '../../metrics/index.js';
import type { StratifiedSplit } from './spec.js';
import type { EvalItem, SplitRole } from './types.js';

/** Fisher-Yates shuffle of a copy of `items`, driven by `rng`. */
export function shuffled<T>(items: readonly T[], rng: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * Seeded stratified split: within each group (class), ids sorted, shuffled with `mulberry32(seed)`,
 * then the first round(train·n) go to train, the next round(val·n) to val, the rest to test.
 * Groups are visited in sorted key order so the result depends only on ids, groups and seed.
 */
export function stratifiedSplit(ids: string[], groupOf: (id: string) => string, s: StratifiedSplit): Map<string, SplitRole> {
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const g = groupOf(id);
    groups.set(g, [...(groups.get(g) ?? []), id]);
  }
  const rng = mulberry32(s.seed);
  const out = new Map<string, SplitRole>();
  const total = s.train + s.val + s.test;
  for (const key of [...groups.keys()].sort()) {
    const members = shuffled([...groups.get(key)!].sort(), rng);
    const nTrain = Math.round((s.train / total) * members.length);
    const nVal = Math.round((s.val / total) * members.length);
    members.forEach((id, i) => out.set(id, i < nTrain ? 'train' : i < nTrain + nVal ? 'val' : 'test'));
  }
  return out;
}

/**
 * sha256 of a split's sorted item list: one line `id<TAB>target` per item, sorted, joined by `\n`,
 * where target is the class index, the multi-label vector joined by commas, or empty.
 */
export function splitHash(items: EvalItem[]): string {
  const lines = items.map((it) => `${it.id}\t${it.label ?? it.labels?.join(',') ?? ''}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
