/**
 * Per-item outputs of few-shot and retrieval cells, and `medvlm report --compare` on them:
 * - hand-built cells: the paired differences (R@k; few-shot accuracy, DeLong AUROC at the largest
 *   shared k) equal hand computations;
 * - real cells of the tiny CLIP and SigLIP test models on a generated data set: the per-item outputs
 *   reproduce the cells' own metrics (few-shot accuracy per seed, R@k), a model compared with itself
 *   differs by exactly 0, and CLIP vs SigLIP gives one comparison per method × seed and per direction.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareAllCells, compareFewShotCells, compareRetrievalCells, itemComparisonMarkdown } from '../../src/eval/report/compare-items.js';
import { loadResults } from '../../src/eval/report/index.js';
import type { CellResult } from '../../src/eval/result.js';
import { runEval } from '../../src/eval/runner.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { testModel } from '../models/fixtures.js';
import { freshDir, makeImageDataset, writeJson } from '../eval/helpers.js';

function cell(model: string, task: 'fewshot' | 'retrieval', extra: Partial<CellResult>): CellResult {
  return { model: { id: model }, task, dataset: { id: 'toy', classes: ['neg', 'pos'] }, metrics: { kind: task === 'fewshot' ? 'few-shot' : 'retrieval' }, ...extra } as unknown as CellResult;
}

describe('paired comparisons from per-item outputs (hand-built cells)', () => {
  it('retrieval: R@k differences over the shared queries', () => {
    const a = cell('A', 'retrieval', { retrievalItems: { imageToText: [{ id: 'i1', rank: 1 }, { id: 'i2', rank: 3 }, { id: 'i3', rank: 1 }, { id: 'i4', rank: 12 }, { id: 'only-a', rank: 1 }], textToImage: [{ id: 't1', rank: 2 }] } });
    const b = cell('B', 'retrieval', { retrievalItems: { imageToText: [{ id: 'i4', rank: 1 }, { id: 'i3', rank: 1 }, { id: 'i2', rank: 1 }, { id: 'i1', rank: 2 }], textToImage: [{ id: 't1', rank: 1 }] } });
    const [i2t, t2i] = compareRetrievalCells(a, b, { samples: 500 });
    expect(i2t).toMatchObject({ direction: 'imageToText', n: 4, unmatched: 1 });
    expect([i2t.recallAt['1'].a, i2t.recallAt['1'].b, i2t.recallAt['1'].difference.value]).toEqual([0.5, 0.75, -0.25]);
    expect([i2t.recallAt['5'].a, i2t.recallAt['5'].b]).toEqual([0.75, 1]);
    expect([i2t.recallAt['10'].a, i2t.recallAt['10'].b]).toEqual([0.75, 1]);
    expect(i2t.recallAt['1'].difference.lo).toBeLessThanOrEqual(-0.25);
    expect(i2t.recallAt['1'].difference.hi).toBeGreaterThanOrEqual(-0.25);
    expect([t2i.n, t2i.recallAt['1'].a, t2i.recallAt['1'].b]).toEqual([1, 0, 1]);
  });

  it('few-shot: accuracy and DeLong AUROC at the largest k both cells ran, per method and seed', () => {
    const truth = [0, 1, 1, 0, 1, 0];
    const p = (xs: number[]) => xs.map((v) => [1 - v, v]);
    const sa = p([0.2, 0.9, 0.4, 0.1, 0.7, 0.6]); // argmax hits: 1,1,0,1,1,0 → 4/6; AUROC: pos {0.9,0.4,0.7} vs neg {0.2,0.1,0.6}: 3 + 2 + 3 of 9 pairs → 8/9
    const sb = p([0.3, 0.8, 0.7, 0.2, 0.9, 0.1]); // all 6 right; AUROC 1
    const a = cell('A', 'fewshot', { fewShotItems: { ids: ['a', 'b', 'c', 'd', 'e', 'f'], truth, runs: [{ method: 'linearProbe', k: 1, seed: 0, scores: p([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]) }, { method: 'linearProbe', k: 4, seed: 0, scores: sa }] } });
    const b = cell('B', 'fewshot', { fewShotItems: { ids: ['a', 'b', 'c', 'd', 'e', 'f'], truth, runs: [{ method: 'linearProbe', k: 2, seed: 0, scores: sb }, { method: 'linearProbe', k: 4, seed: 0, scores: sb }] } });
    const [c] = compareFewShotCells(a, b, { samples: 300 });
    expect(c).toMatchObject({ method: 'linearProbe', k: 4, seed: 0, n: 6, unmatched: 0 });
    expect(c.accuracy.a).toBeCloseTo(4 / 6, 12);
    expect(c.accuracy.b).toBe(1);
    expect(c.delong).toHaveLength(1);
    expect(c.delong[0].class).toBe('pos');
    expect(c.delong[0].aucA).toBeCloseTo(8 / 9, 12);
    expect(c.delong[0].aucB).toBe(1);
    expect(c.macroAuroc.a).toBeCloseTo(8 / 9, 12);
    expect(itemComparisonMarkdown({ fewShot: [c], retrieval: [] })).toContain('| toy | 6 | linear probe, k=4, seed 0 | AUROC pos (DeLong) | 0.8889 | 1.0000 | -0.1111');
  });

  it('a cell without per-item outputs is a typed error that says to rerun', () => {
    expect(() => compareRetrievalCells(cell('A', 'retrieval', {}), cell('B', 'retrieval', {}))).toThrow(/keeps no per-item outputs.*--force/);
  });
});

describe('few-shot and retrieval cells of the tiny test models keep per-item outputs', () => {
  const CLIP = testModel('clip');
  const SIGLIP = testModel('siglip');
  let out: string;
  beforeAll(async () => {
    const root = freshDir('geneval-items');
    const dataRoot = join(root, 'data');
    await makeImageDataset(join(dataRoot, 'toy'), 10);
    const cls = join(root, 'specs', 'toy-cls.json');
    const ret = join(root, 'specs', 'toy-ret.json');
    writeJson(cls, {
      id: 'toy-cls', title: 'toy', source: { format: 'manifest', path: 'toy/manifest.csv', image: 'image', label: 'label' },
      classes: [{ name: 'dark', sentence: 'a dark square' }, { name: 'bright', sentence: 'a bright square' }], templates: ['{}'],
      split: { kind: 'field', field: 'split', test: 'test', train: 'train', val: 'val' }, tasks: ['fewshot'],
    });
    writeJson(ret, { id: 'toy-ret', title: 'toy captions', source: { format: 'manifest', path: 'toy/manifest.csv', image: 'image', caption: 'caption' }, split: { kind: 'field', field: 'split', test: 'test', train: 'train' }, tasks: ['retrieval'] });
    out = join(root, 'out');
    const s = await runEval({ models: [CLIP, SIGLIP], datasets: [cls, ret], tasks: ['fewshot', 'retrieval'], out, load: (id) => loadDualEncoder(id, { threads: 1 }), dataRoot, shots: [1, 2], seeds: 2, bootstrap: 50 });
    expect(s.failed).toEqual([]);
  });

  it('the per-item outputs reproduce the cells’ metrics; self-comparison is 0; CLIP vs SigLIP pairs every method × seed', () => {
    const results = loadResults(out);
    const few = results.find((r) => r.result.model.id.endsWith(CLIP.split('/').pop()!) && r.result.task === 'fewshot')!.result;
    const fi = few.fewShotItems!;
    expect(fi.runs).toHaveLength(2 * 2 * 2); // methods × k × seeds
    const m = few.metrics as Extract<CellResult['metrics'], { kind: 'few-shot' }>;
    for (const run of fi.runs) {
      const acc = run.scores.filter((row, i) => (row[1] > row[0] ? 1 : 0) === fi.truth[i]).length / fi.ids.length;
      const row = m.methods[run.method].find((x) => x.k === run.k)!;
      expect(acc).toBeCloseTo(row.accuracy.values[run.seed], 12);
    }
    const ret = results.find((r) => r.result.model.id === few.model.id && r.result.task === 'retrieval')!.result;
    const rm = ret.metrics as Extract<CellResult['metrics'], { kind: 'retrieval' }>;
    for (const k of [1, 5]) expect(ret.retrievalItems!.imageToText.filter((q) => q.rank <= k).length / ret.retrievalItems!.imageToText.length).toBeCloseTo(rm.imageToText.recallAtK[k], 12);
    const self = compareAllCells(results, few.model.id, few.model.id, { samples: 50 });
    for (const c of self.fewShot) expect(c.accuracy.difference).toEqual({ value: 0, lo: 0, hi: 0 });
    for (const c of self.retrieval) for (const d of Object.values(c.recallAt)) expect(d.difference).toEqual({ value: 0, lo: 0, hi: 0 });
    const other = results.find((r) => r.result.model.id !== few.model.id)!.result.model.id;
    const cs = compareAllCells(results, few.model.id, other, { samples: 50 });
    expect(cs.fewShot.map((c) => `${c.method}/${c.k}/${c.seed}`).sort()).toEqual(['linearProbe/2/0', 'linearProbe/2/1', 'tipAdapter/2/0', 'tipAdapter/2/1']);
    expect(cs.retrieval.map((c) => c.direction)).toEqual(['imageToText', 'textToImage']);
    expect(cs.zeroShot).toEqual([]);
  });
});
