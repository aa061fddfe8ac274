/**
 * `medvlm report` on dense cells: the segmentation, anomaly and maps tables carry each cell's numbers, the CSV
 * holds every value, and the best/median/worst overlays the grid drew are linked from the Markdown and inlined in
 * the HTML. Cells written by hand in the grid's layout (`<out>/<model>/<dataset>/<task>.json`, `overlays/`).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRgbPng } from '../../src/io/dense-write.js';
import { DENSE_CELL_SCHEMA } from '../../src/eval/dense/tables.js';
import { writeReport } from '../../src/eval/report/index.js';

const dir = mkdtempSync(join(tmpdir(), 'medvlm-dense-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ci = (value: number, lo: number, hi: number, undefinedCount = 0) => ({ value, lo, hi, undefinedCount });
const cell = (model: string, dataset: string, metrics: Record<string, unknown>) => ({
  schema: DENSE_CELL_SCHEMA, createdAt: '2026-11-30T17:00:00.000Z', model: { id: model, info: { dtype: 'fp32' } },
  dataset: { id: dataset, title: dataset, split: 'test' }, seed: 0, metrics,
});
function put(model: string, dataset: string, task: string, metrics: Record<string, unknown>): void {
  mkdirSync(join(dir, model, dataset), { recursive: true });
  writeFileSync(join(dir, model, dataset, `${task}.json`), JSON.stringify(cell(model, dataset, { task, ...metrics })));
}

describe('medvlm report with dense cells', () => {
  it('tables, CSV and overlays', async () => {
    put('medvlm-tiny-seg', 'kvasir-seg', 'segmentation', { text: 'polyp', threshold: 0.45, n: 120, dice: ci(0.7801, 0.7407, 0.8160), iou: ci(0.6827, 0.6425, 0.7224), hd95: ci(98.0, 80.8, 116.6, 3), boundaryF: ci(0.4421, 0.4046, 0.4778) });
    put('medvlm-tiny', 'lgg', 'anomaly', { byShots: { k0: { n: 200, anomalous: 80, imageAuroc: ci(0.369, 0.29, 0.45), pixelAuroc: ci(0.61, 0.55, 0.66), aupro: 0.21 }, k4: { n: 200, anomalous: 80, imageAuroc: ci(0.282, 0.21, 0.36), pixelAuroc: ci(0.58, 0.52, 0.64), aupro: 0.18 } } });
    put('medvlm-tiny', 'lgg', 'maps', { text: 'tumour', n: 80, results: { 'centre-prior': { pixelAuroc: ci(0.783, 0.75, 0.81), aupro: 0.4 }, patch: { pixelAuroc: ci(0.704, 0.67, 0.74), aupro: 0.3 } } });
    const png = await encodeRgbPng({ width: 2, height: 1, data: new Uint8Array([255, 0, 0, 0, 255, 0]) });
    mkdirSync(join(dir, 'medvlm-tiny', 'lgg', 'overlays'), { recursive: true });
    for (const which of ['worst', 'best', 'median']) {
      writeFileSync(join(dir, 'medvlm-tiny', 'lgg', 'overlays', `lgg-map-patch-${which}.png`), png);
      writeFileSync(join(dir, 'medvlm-tiny', 'lgg', 'overlays', `lgg-map-patch-${which}.json`), JSON.stringify({ item: 'x', score: 0.5 }));
    }

    const { dense, files } = await writeReport(dir);
    expect(dense).toHaveLength(3);
    const md = readFileSync(files[0], 'utf8');
    expect(md).toContain('| medvlm-tiny-seg | kvasir-seg | test | 120 | polyp | 0.45 | 0.780 [0.741, 0.816] | 0.683 [0.642, 0.722] | 98.000 [80.800, 116.600] (3 undefined) | 0.442 [0.405, 0.478] |');
    expect(md).toContain('| medvlm-tiny | lgg | test | 4 | 200 (80 abnormal) | 0.282 [0.210, 0.360] | 0.580 [0.520, 0.640] | 0.180 |');
    expect(md).toContain('| medvlm-tiny | lgg | test | tumour | centre prior (baseline) | 80 | 0.783 [0.750, 0.810] | 0.400 |');
    expect(md).toContain('3 result cells; results from 2026-11-30 to 2026-11-30.');
    expect(md).not.toContain('## Provenance'); // no classification cells: no empty tables
    const links = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    expect(links).toEqual(['best', 'median', 'worst'].map((w) => `medvlm-tiny/lgg/overlays/lgg-map-patch-${w}.png`));
    const html = readFileSync(files[2], 'utf8');
    expect(html.split(`data:image/png;base64,${Buffer.from(png).toString('base64')}`)).toHaveLength(4);
    const csv = readFileSync(files[1], 'utf8');
    expect(csv).toMatch(/medvlm-tiny-seg,fp32,kvasir-seg,test,120,segmentation,polyp,,dice,,0\.7801,0\.7407,0\.816,/);
    expect(csv).toMatch(/medvlm-tiny,fp32,lgg,test,200,anomaly,memory bank,4,imageAuroc,,0\.282,0\.21,0\.36,/);
  });
});
