/**
 * Cluster (group-level) percentile bootstrap: resample whole groups (e.g. the images of one MedPix
 * teaching case) with replacement, so that items that are not independent are never split between a
 * resample's "draws". Draws as `bootstrapCI` (`floor(rng() * groups)` from `mulberry32(seed)`), each drawn
 * group contributing all its items in their original order. The point value is the statistic on all
 * items in their original order.
 */
import { mulberry32, quantileSorted, type CI } from './bootstrap.js';
import { pairedBootstrap, type PairedDifference } from './paired.js';
import { metricsError } from './validate.js';

/** Items of each group, in order of the groups' first appearance. */
export function groupMembers(groups: ArrayLike<string>): number[][] {
  const at = new Map<string, number[]>();
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    const list = at.get(g);
    if (list) list.push(i);
    else at.set(g, [i]);
  }
  return [...at.values()];
}

function expand(members: number[][], groupIdx: number[]): number[] {
  const out: number[] = [];
  for (const g of groupIdx) for (const i of members[g]) out.push(i);
  return out;
}

/**
 * Percentile bootstrap CIs of several statistics computed together on each resample (one call of
 * `stat` per resample, e.g. all text metrics of a corpus). `samples: 0` gives lo = hi = NaN.
 * @param groups group label of each item (e.g. the case id)
 * @param stat statistics on the items listed (with repeats)
 */
export function groupedBootstrapCIs<K extends string>(
  groups: ArrayLike<string>,
  stat: (idx: number[]) => Record<K, number>,
  opts: { samples?: number; seed?: number; alpha?: number } = {},
): Record<K, CI> {
  const samples = opts.samples ?? 1000;
  const alpha = opts.alpha ?? 0.05;
  if (!Number.isInteger(samples) || samples < 0) throw metricsError(`bootstrap samples must be a non-negative integer, got ${samples}`);
  if (!(alpha > 0 && alpha < 1)) throw metricsError(`bootstrap alpha must be in (0, 1), got ${alpha}`);
  const members = groupMembers(groups);
  const value = stat(Array.from({ length: groups.length }, (_, i) => i));
  const keys = Object.keys(value) as K[];
  const stats = new Map<K, number[]>(keys.map((k) => [k, []]));
  const rng = mulberry32(opts.seed ?? 0);
  for (let b = 0; b < samples && members.length > 0; b++) {
    const draw: number[] = [];
    for (let k = 0; k < members.length; k++) draw.push(Math.floor(rng() * members.length));
    const s = stat(expand(members, draw));
    for (const k of keys) if (!Number.isNaN(s[k])) stats.get(k)!.push(s[k]);
  }
  const out = {} as Record<K, CI>;
  for (const k of keys) {
    const sorted = stats.get(k)!.sort((x, y) => x - y);
    out[k] = { value: value[k], lo: quantileSorted(sorted, alpha / 2), hi: quantileSorted(sorted, 1 - alpha / 2) };
  }
  return out;
}

/** Percentile bootstrap CI of one statistic, resampling groups (see `groupedBootstrapCIs`). */
export function groupedBootstrapCI(groups: ArrayLike<string>, stat: (idx: number[]) => number, opts: { samples?: number; seed?: number; alpha?: number } = {}): CI {
  return groupedBootstrapCIs(groups, (idx) => ({ v: stat(idx) }), opts).v;
}

/**
 * Paired group-level bootstrap of statA − statB on the same items (both statistics receive the same
 * resampled items); `n` in the result counts groups.
 */
export function pairedGroupedBootstrap(
  groups: ArrayLike<string>,
  statA: (idx: number[]) => number,
  statB: (idx: number[]) => number,
  opts: { samples?: number; seed?: number; alpha?: number } = {},
): PairedDifference {
  const members = groupMembers(groups);
  return pairedBootstrap(members.length, (g) => statA(expand(members, g)), (g) => statB(expand(members, g)), opts);
}
