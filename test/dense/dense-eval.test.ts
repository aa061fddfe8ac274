/**
 * The dense evaluation's data sets and splits on the real data (skips without ../shared/data): recorded
 * splits are disjoint, LGG is split by patient, and a segmentation cell on a few BUSI images gives per-image
 * metrics whose mean is the reported value (tiny random segmenter: the numbers are not a model's quality).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveDataRoot } from '../../src/eval/datasets/registry.js';
import { densePresent, loadDenseDataset } from '../../src/eval/dense/data.js';
import { centrePrior, evalSegmentation } from '../../src/eval/dense/run.js';
import { runDenseEval } from '../../src/eval/dense/grid.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTextSegmenter } from '../../src/models/text-segmenter.js';
import { tinySegmenter } from '../support/tiny-segmenter.js';

const root = resolveDataRoot();
const have = existsSync(root) && densePresent('lgg', root) && densePresent('kvasir-seg', root) && densePresent('busi-seg', root);
if (!have) console.warn(`[dense-eval] skipped: ${root} lacks lgg_mri/, kvasir_seg/ or busi/`);

describe.skipIf(!have)('dense data sets and splits', () => {
  it('LGG: no patient in two splits; counts as recorded (398/94/229 slices)', () => {
    const ds = loadDenseDataset('lgg', root);
    const patients = (s: 'train' | 'val' | 'test') => new Set(ds.splits[s].map((i) => i.group));
    const [tr, va, te] = [patients('train'), patients('val'), patients('test')];
    expect([tr.size, va.size, te.size]).toEqual([11, 3, 5]);
    for (const p of te) expect(tr.has(p) || va.has(p)).toBe(false);
    for (const p of va) expect(tr.has(p)).toBe(false);
    expect([ds.splits.train.length, ds.splits.val.length, ds.splits.test.length]).toEqual([398, 94, 229]);
    expect(ds.splits.test.filter((i) => !i.normal)).toHaveLength(79);
  });

  it('Kvasir-SEG 800/80/120 and BUSI 546/78/156, disjoint', () => {
    for (const [id, sizes] of [['kvasir-seg', [800, 80, 120]], ['busi-seg', [546, 78, 156]]] as const) {
      const ds = loadDenseDataset(id, root);
      expect([ds.splits.train.length, ds.splits.val.length, ds.splits.test.length]).toEqual(sizes);
      const ids = [...ds.splits.train, ...ds.splits.val, ...ds.splits.test].map((i) => i.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('centre prior peaks at the centre', () => {
    const p = centrePrior(8, 8);
    expect(p[3 * 8 + 3]).toBeGreaterThan(p[0]);
    expect(p[0]).toBeCloseTo(Math.exp(-((3.5 / 2) ** 2 + (3.5 / 2) ** 2) / 2), 6);
  });

  const tiny = tinySegmenter();
  it.skipIf(!!tiny.skip)('segmentation cell: mean Dice = mean of the per-image values, CI brackets it', async () => {
    const seg = await loadTextSegmenter(tiny.dir!);
    try {
      const r = (await evalSegmentation(seg, loadDenseDataset('busi-seg', root), { split: 'val', limit: 6, bootstrap: 50 })) as {
        n: number;
        dice: { value: number; lo: number; hi: number };
        perImage: Array<{ dice: number }>;
      };
      expect(r.n).toBeGreaterThan(0);
      const mean = r.perImage.reduce((a, p) => a + p.dice, 0) / r.perImage.length;
      expect(r.dice.value).toBeCloseTo(mean, 12);
      expect(r.dice.lo).toBeLessThanOrEqual(r.dice.value);
      expect(r.dice.hi).toBeGreaterThanOrEqual(r.dice.value);
    } finally {
      await seg.dispose();
    }
  }, 60_000);

  it.skipIf(!!tiny.skip)('the grid writes one cell per (segmenter, data set, task), skips it the second time, and records the split', async () => {
    const out = mkdtempSync(join(tmpdir(), 'medvlm-dense-grid-'));
    const opts = {
      models: [], segmenters: [tiny.dir!], datasets: ['busi-seg' as const, 'lgg' as const], tasks: ['segmentation' as const], out,
      loadEncoder: () => Promise.reject(new Error('not used')), loadSegmenter: (id: string) => loadTextSegmenter(id),
      split: 'val' as const, limit: 3, bootstrap: 20,
    };
    const first = await runDenseEval(opts);
    expect(first.failed).toEqual([]);
    expect(first.written).toHaveLength(1); // lgg offers no segmentation cell
    const cell = JSON.parse(readFileSync(first.written[0], 'utf8')) as { dataset: { split: string; splitFile: string; limit: number }; researchNotice: string };
    expect(cell.dataset).toMatchObject({ split: 'val', limit: 3 });
    expect(cell.dataset.splitFile).toMatch(/models\/medvlm-tiny\/splits\/busi\.json$/);
    const second = await runDenseEval(opts);
    expect(second.written).toHaveLength(0);
    expect(second.skipped).toEqual(first.written);
  }, 60_000);
});
