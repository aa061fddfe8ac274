import { afterAll, describe, expect, it } from 'vitest';
import { ranksOf, RetrievalAccumulator, retrievalMetrics, type RetrievalResult } from '../../src/metrics/index.js';
import { expectClose, loadFixture, reportDeviations } from './helpers.js';

interface Case {
  name: string;
  ks: number[];
  sim: number[][];
  relevant: number[][];
  expected: RetrievalResult;
}
const fx = loadFixture<{ numpy: string; cases: Case[] }>('retrieval.json');
afterAll(() => reportDeviations(`retrieval vs numpy ${fx.numpy}`));

function expectResult(actual: RetrievalResult, expected: RetrievalResult, ks: number[]): void {
  for (const k of ks) {
    expectClose(actual.recallAtK[k], expected.recallAtK[k], 1e-12, 'recall@k (hit)');
    expectClose(actual.trueRecallAtK[k], expected.trueRecallAtK[k], 1e-12, 'recall@k (true)');
  }
  expectClose(actual.meanRank, expected.meanRank, 1e-12, 'mean rank');
  expectClose(actual.medianRank, expected.medianRank, 0, 'median rank');
  expect(actual.queries).toBe(expected.queries);
}

describe('hand-worked retrieval', () => {
  // q0: sims .1 .9 .3 .9, relevant {3}: g1 and g3 tie at .9, g1 (lower index) first → rank 2
  // q1: sims .5 .2 .8 .1, relevant {0, 3}: order g2 g0 g1 g3 → ranks 2 and 4, best 2
  // q2: sims .7 .6 .5 .4, relevant {0}: rank 1
  const sim = [
    [0.1, 0.9, 0.3, 0.9],
    [0.5, 0.2, 0.8, 0.1],
    [0.7, 0.6, 0.5, 0.4],
  ];
  const relevant = [[3], [0, 3], [0]];

  it('recall@k both ways, mean and median rank', () => {
    const r = retrievalMetrics(sim, relevant, [1, 2, 5]);
    // hit: @1 only q2; @2 all three.   true: @1 (0+0+1)/3; @2 (1 + 1/2 + 1)/3; @5 all found.
    expect(r.recallAtK).toEqual({ 1: 1 / 3, 2: 1, 5: 1 });
    expect(r.trueRecallAtK).toEqual({ 1: 1 / 3, 2: 2.5 / 3, 5: 1 });
    expect(r.meanRank).toBe(5 / 3); // ranks 2, 2, 1
    expect(r.medianRank).toBe(2);
    expect(r.queries).toBe(3);
  });

  it('ties are broken by gallery index, the same in the counting and the sorting path', () => {
    const row = Float32Array.from([0.5, 0.5, 0.5, 0.9, 0.5]);
    expect(ranksOf(row, [0, 1, 2, 4])).toEqual([2, 3, 4, 5]);
    const many = Array.from({ length: 20 }, (_, i) => i % 5);
    expect(ranksOf(row, many)).toEqual(many.map((g) => [2, 3, 4, 1, 5][g]));
  });

  it('skips queries without relevant items, NaN ranks last, even-count median', () => {
    const r = retrievalMetrics([[0.2, NaN, 0.1], [0.3, 0.2, 0.1], [0.9, 0.8, 0.7]], [[1], [], [2]], [1]);
    expect(r.queries).toBe(2);
    expect(r.meanRank).toBe(3);
    expect(r.medianRank).toBe(3);
    expect(retrievalMetrics([[0.1, 0.2]], [[]]).meanRank).toBeNaN();
    expect(() => retrievalMetrics([[0.1, 0.2]], [[2]])).toThrow(/relevant\[0\] holds 2/);
  });
});

describe.each(fx.cases)('retrieval $name vs numpy', (c) => {
  it('matches the numpy reference', () => {
    expectResult(retrievalMetrics(c.sim, c.relevant, c.ks), c.expected, c.ks);
  });

  it('Float32Array rows and the accumulator (batches of 7) give the same numbers', () => {
    const rows = c.sim.map((r) => Float32Array.from(r));
    const acc = new RetrievalAccumulator();
    for (let i = 0; i < rows.length; i += 7) acc.add(rows.slice(i, i + 7), c.relevant.slice(i, i + 7));
    expect(acc.result(c.ks)).toEqual(retrievalMetrics(rows, c.relevant, c.ks));
    const acc64 = new RetrievalAccumulator();
    for (let i = 0; i < c.sim.length; i += 7) acc64.add(c.sim.slice(i, i + 7), c.relevant.slice(i, i + 7));
    expectResult(acc64.result(c.ks), c.expected, c.ks);
  });
});
