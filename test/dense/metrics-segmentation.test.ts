/**
 * Segmentation and pixel-anomaly metrics against an independent scipy/numpy reimplementation
 * (test/support/metrics-segmentation.py → fixtures/segmentation.json), plus hand-computed cases.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aupro, aurocByRanks, labelComponents, pixelAuroc } from '../../src/metrics/pixel-anomaly.js';
import { boundaryF, defaultBoundaryTolerance, dice, hd95, iou, type Mask } from '../../src/metrics/segmentation.js';
import { rocAucBinary } from '../../src/metrics/roc.js';

interface Case {
  width: number;
  height: number;
  pred: number[];
  gt: number[];
  dice: number;
  iou: number;
  hd95: number | null;
  boundary_tolerance: number;
  boundaryF: number;
  boundaryF_tol3: number;
}
const ref = JSON.parse(readFileSync(new URL('../metrics/fixtures/segmentation.json', import.meta.url), 'utf8')) as {
  cases: Case[];
  pixel: { scores: number[][]; auroc: number; aupro: number; aupro_01: number; components: number[] };
};
const mask = (c: Case, key: 'pred' | 'gt'): Mask => ({ width: c.width, height: c.height, data: c[key] });

describe('segmentation metrics = scipy/MONAI-style reference', () => {
  it.each(ref.cases.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const p = mask(c, 'pred');
    const g = mask(c, 'gt');
    expect(dice(p, g)).toBeCloseTo(c.dice, 12);
    expect(iou(p, g)).toBeCloseTo(c.iou, 12);
    if (c.hd95 === null) expect(hd95(p, g)).toBeNaN();
    else expect(hd95(p, g)).toBeCloseTo(c.hd95, 9);
    expect(defaultBoundaryTolerance(c.width, c.height)).toBe(c.boundary_tolerance);
    expect(boundaryF(p, g)).toBeCloseTo(c.boundaryF, 12);
    expect(boundaryF(p, g, 3)).toBeCloseTo(c.boundaryF_tol3, 12);
  });

  it('hand-computed: two 2x2 squares offset by 3 px in a 8x4 image', () => {
    const a = new Uint8Array(32);
    const b = new Uint8Array(32);
    for (const [x, y] of [[1, 1], [2, 1], [1, 2], [2, 2]]) a[y * 8 + x] = 1;
    for (const [x, y] of [[4, 1], [5, 1], [4, 2], [5, 2]]) b[y * 8 + x] = 1;
    const A = { width: 8, height: 4, data: a };
    const B = { width: 8, height: 4, data: b };
    expect(dice(A, B)).toBe(0);
    expect(iou(A, A)).toBe(1);
    // A boundary at x=1,2 and B at x=4,5: directed distances {3,2,3,2} both ways → 95th percentile 3
    expect(hd95(A, B)).toBeCloseTo(3, 12);
    expect(boundaryF(A, B, 1)).toBe(0);
    expect(boundaryF(A, B, 2)).toBe(0.5); // half of each boundary within 2 px
    expect(boundaryF(A, B, 3)).toBe(1);
  });
});

describe('pixel-level anomaly metrics', () => {
  const items = ref.cases.map((c, i) => ({ scores: ref.pixel.scores[i], mask: mask(c, 'gt') }));
  it('pixel AUROC = rank-based reference and = the ROC-curve trapezoid of src/metrics/roc.ts', () => {
    expect(pixelAuroc(items)).toBeCloseTo(ref.pixel.auroc, 12);
    const y = items.flatMap((it) => Array.from(it.mask.data, (v) => (v ? 1 : 0)));
    const s = items.flatMap((it) => Array.from(it.scores));
    expect(pixelAuroc(items)).toBeCloseTo(rocAucBinary(y, s), 12);
  });
  it('AUPRO (FPR ≤ 0.3 and ≤ 0.1) = MVTec-style reference; 8-connected components', () => {
    expect(items.map((it) => labelComponents(it.mask).count)).toEqual(ref.pixel.components);
    expect(aupro(items)).toBeCloseTo(ref.pixel.aupro, 9);
    expect(aupro(items, 0.1)).toBeCloseTo(ref.pixel.aupro_01, 9);
  });
  it('AUROC by ranks: ties count one half; one class absent → NaN', () => {
    expect(aurocByRanks(Float64Array.from([1, 2]), Float64Array.from([1, 0]))).toBeCloseTo(0.875, 12);
    expect(aurocByRanks(new Float64Array(0), Float64Array.from([1]))).toBeNaN();
  });
});
