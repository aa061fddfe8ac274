/**
 * Retrieval metrics from a query x gallery similarity matrix. The gallery is ranked by similarity,
 * highest first; ties are broken by gallery index (lower index ranks first), so results are
 * deterministic. NaN similarities rank last.
 */
import { checkSameLength, metricsError } from './validate.js';

/** Result of `retrievalMetrics`. */
export interface RetrievalResult {
  /** "Hit" recall (what CLIP papers call R@k): fraction of queries with >= 1 relevant item in the top k. */
  recallAtK: Record<string, number>;
  /** |relevant ∩ top k| / |relevant|, averaged over queries. */
  trueRecallAtK: Record<string, number>;
  /** Mean over queries of the 1-based rank of the best-ranked relevant item. */
  meanRank: number;
  /** Median of those ranks (mean of the two middle ones for an even count, as numpy). */
  medianRank: number;
  /** Queries counted (those with at least one relevant item; the others are skipped). Addition. */
  queries: number;
}

const key = (s: number): number => (Number.isNaN(s) ? -Infinity : s);

/** 1-based ranks of the given gallery items for one query row (each rank = 1 + items ranked before it). */
export function ranksOf(row: ArrayLike<number>, items: number[]): number[] {
  if (items.length <= 16) {
    return items.map((r) => {
      const s = key(row[r]);
      let before = 0;
      for (let g = 0; g < row.length; g++) {
        const t = key(row[g]);
        if (t > s || (t === s && g < r)) before++;
      }
      return before + 1;
    });
  }
  const order = Array.from({ length: row.length }, (_, g) => g).sort((a, b) => key(row[b]) - key(row[a]) || a - b);
  const pos = new Int32Array(row.length);
  order.forEach((g, p) => (pos[g] = p + 1));
  return items.map((r) => pos[r]);
}

/** Per-query numbers: the ranks of its (distinct) relevant items, sorted ascending. */
export function relevantRanks(sim: ArrayLike<number>[], relevant: number[][]): number[][] {
  checkSameLength('sim', sim, 'relevant', relevant);
  return sim.map((row, q) => {
    const rel = [...new Set(relevant[q])];
    for (const g of rel) {
      if (!Number.isInteger(g) || g < 0 || g >= row.length) {
        throw metricsError(`relevant[${q}] holds ${g}, not a gallery index in 0..${row.length - 1}`);
      }
    }
    return ranksOf(row, rel).sort((a, b) => a - b);
  });
}

/** Turn per-query sorted ranks into the metrics (queries with no relevant item are skipped). */
export function retrievalFromRanks(ranks: number[][], ks: number[] = [1, 5, 10]): RetrievalResult {
  const used = ranks.filter((r) => r.length > 0);
  const recallAtK: Record<string, number> = {};
  const trueRecallAtK: Record<string, number> = {};
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw metricsError(`k must be a positive integer, got ${k}`);
    let hits = 0;
    let recall = 0;
    for (const r of used) {
      if (r[0] <= k) hits++;
      recall += r.filter((x) => x <= k).length / r.length;
    }
    recallAtK[String(k)] = used.length === 0 ? NaN : hits / used.length;
    trueRecallAtK[String(k)] = used.length === 0 ? NaN : recall / used.length;
  }
  const best = used.map((r) => r[0]).sort((a, b) => a - b);
  const m = best.length;
  const meanRank = m === 0 ? NaN : best.reduce((a, b) => a + b, 0) / m;
  const medianRank = m === 0 ? NaN : m % 2 === 1 ? best[(m - 1) / 2] : (best[m / 2 - 1] + best[m / 2]) / 2;
  return { recallAtK, trueRecallAtK, meanRank, medianRank, queries: m };
}

/**
 * Recall@k (both definitions), mean and median rank. `sim[q][g]` is the similarity of query q and
 * gallery item g (number[] or Float32Array rows); `relevant[q]` lists the gallery indices relevant to
 * query q (duplicates ignored). Keys of the records are the k values as strings ("1", "5", "10").
 */
export function retrievalMetrics(sim: ArrayLike<number>[], relevant: number[][], ks: number[] = [1, 5, 10]): RetrievalResult {
  return retrievalFromRanks(relevantRanks(sim, relevant), ks);
}

/** Adds query rows batch by batch (same gallery); `result()` = `retrievalMetrics` on all rows added. */
export class RetrievalAccumulator {
  private readonly ranks: number[][] = [];

  /** Add a batch of query rows and their relevant gallery indices. */
  add(sim: ArrayLike<number>[], relevant: number[][]): void {
    this.ranks.push(...relevantRanks(sim, relevant));
  }

  /** Metrics over all queries added so far. */
  result(ks: number[] = [1, 5, 10]): RetrievalResult {
    return retrievalFromRanks(this.ranks, ks);
  }
}
