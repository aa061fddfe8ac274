/**
 * Paired comparison of two models' zero-shot cells from their per-item outputs: items matched by id,
 * DeLong equal to the independent Python values of test/metrics/fixtures/paired.json (scores pass
 * through a logistic, which keeps every rank), bootstrap differences of accuracy and macro-AUROC.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareCells, compareModels, comparisonMarkdown } from '../../src/eval/report/compare.js';
import type { CellResult } from '../../src/eval/result.js';

const fx = JSON.parse(readFileSync(new URL('../metrics/fixtures/paired.json', import.meta.url), 'utf8')) as {
  delong: Array<{ positive: boolean[]; a: number[]; b: number[]; delong: { aucA: number; aucB: number; variance: number; p: number } }>;
};

const sig = (x: number) => 1 / (1 + Math.exp(-x));
function cell(model: string, scores: number[], truth: boolean[], drop = 0): CellResult {
  const items = scores.map((s, i) => ({ id: `item-${i}`, truth: truth[i] ? 1 : 0, scores: [1 - sig(s), sig(s)] })).slice(drop);
  return {
    model: { id: model },
    task: 'zeroshot',
    dataset: { id: 'toy', classes: ['negative', 'positive'] },
    metrics: { kind: 'single-label' },
    items,
  } as unknown as CellResult;
}

describe('paired comparison of cells', () => {
  const c = fx.delong[0];
  it('DeLong on the stored scores equals the Python reference; accuracy difference equals a hand count', () => {
    const r = compareCells(cell('A', c.a, c.positive), cell('B', c.b, c.positive), { samples: 200 });
    expect(r.n).toBe(c.a.length);
    expect(r.delong).toHaveLength(1);
    expect(r.delong[0].class).toBe('positive');
    expect(r.delong[0].aucA).toBeCloseTo(c.delong.aucA, 12);
    expect(r.delong[0].aucB).toBeCloseTo(c.delong.aucB, 12);
    expect(r.delong[0].variance).toBeCloseTo(c.delong.variance, 12);
    const hits = (xs: number[]) => xs.filter((x, i) => (x > 0) === c.positive[i]).length / xs.length;
    expect(r.accuracy.difference.value).toBeCloseTo(hits(c.a) - hits(c.b), 12);
    expect(r.macroAuroc.difference.value).toBeCloseTo(c.delong.aucA - c.delong.aucB, 12);
    expect(r.macroAuroc.difference.lo).toBeLessThan(r.macroAuroc.difference.value);
    expect(comparisonMarkdown([r])).toContain('AUROC positive (DeLong)');
  });

  it('items only one cell scored are left out and counted', () => {
    const r = compareCells(cell('A', c.a, c.positive, 3), cell('B', c.b, c.positive), { samples: 50 });
    expect(r.n).toBe(c.a.length - 3);
    expect(r.unmatched).toBe(3);
  });

  it('cells without per-item outputs, or a model with no cell, are typed errors', () => {
    const old = { ...cell('A', c.a, c.positive), items: undefined } as CellResult;
    expect(() => compareCells(old, cell('B', c.b, c.positive))).toThrow(/per-item outputs/);
    expect(() => compareModels([{ file: 'x', result: cell('A', c.a, c.positive) }], 'A', 'Z')).toThrow(/no single-label zero-shot cell of model Z/);
  });
});
