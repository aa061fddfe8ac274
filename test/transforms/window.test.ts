import { describe, expect, it } from 'vitest';
import { isMedvlmError } from '../../src/core/errors.js';
import {
  WINDOW_PRESETS,
  applyWindowToValues,
  invert,
  parseWindowOption,
  percentiles,
  resolveWindow,
  toRGB8,
  windowFromRange,
} from '../../src/transforms/index.js';
import { makeImage } from './helpers.js';

function optionError(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(isMedvlmError(e)).toBe(true);
    return e as { code: string; message: string };
  }
  throw new Error('expected an error');
}

describe('applyWindow: DICOM PS3.3 C.11.2.1.2.1 linear function', () => {
  it('brain window C40/W80 at known points', () => {
    // low edge c-0.5-(w-1)/2 = 0, high edge c-0.5+(w-1)/2 = 79, slope 1/79
    const out = applyWindowToValues([-1000, 0, 0.5, 39.5, 40, 79, 79.5, 3000], { center: 40, width: 80 });
    expect(out[0]).toBe(0);
    expect(out[1]).toBe(0);
    expect(out[2]).toBeCloseTo(0.5 / 79, 7);
    expect(out[3]).toBeCloseTo(0.5, 7);
    expect(out[4]).toBeCloseTo(0.5 + 0.5 / 79, 7);
    expect(out[5]).toBeCloseTo(1, 7);
    expect(out[6]).toBe(1);
    expect(out[7]).toBe(1);
  });

  it('lung window C-600/W1500: edges -1350 and 149, slope 1/1499', () => {
    const out = applyWindowToValues([-1350, -1349.5, -600, 148.5, 149, 150], { center: -600, width: 1500 });
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(0.5 / 1499, 7);
    expect(out[2]).toBeCloseTo(0.5 + 0.5 / 1499, 7);
    expect(out[3]).toBeCloseTo(1 - 0.5 / 1499, 6);
    expect(out[4]).toBeCloseTo(1, 6);
    expect(out[5]).toBe(1);
  });

  it('width 1 is a step at c - 0.5; NaN gives 0', () => {
    const out = applyWindowToValues([99.5, 99.51, 100, NaN], { center: 100, width: 1 });
    expect(Array.from(out)).toEqual([0, 1, 1, 0]);
  });

  it('windowFromRange maps lo → 0 and hi → 1 exactly (integer and float data)', () => {
    for (const [lo, hi] of [
      [0, 255],
      [-1024, 3071],
      [0.1, 0.35],
    ]) {
      const w = windowFromRange(lo, hi, 'test');
      const out = applyWindowToValues([lo, (lo + hi) / 2, hi], w);
      expect(out[0]).toBeCloseTo(0, 6);
      expect(out[1]).toBeCloseTo(0.5, 6);
      expect(out[2]).toBeCloseTo(1, 6);
    }
    // identity for 8-bit: v -> v/255 at every integer
    const id = applyWindowToValues(
      Array.from({ length: 256 }, (_, i) => i),
      windowFromRange(0, 255, 'identity'),
    );
    expect(windowFromRange(0, 255, 'x')).toEqual({ center: 128, width: 256, source: 'x' });
    for (let i = 0; i < 256; i++) expect(id[i]).toBeCloseTo(i / 255, 6);
  });

  it('invert is 1 - v', () => {
    expect(Array.from(invert(Float32Array.from([0, 0.25, 1])))).toEqual([1, 0.75, 0]);
  });
});

describe('parseWindowOption', () => {
  it('presets, C,W, percentiles, auto, file', () => {
    expect(parseWindowOption('lung')).toEqual({ kind: 'preset', name: 'lung' });
    expect(parseWindowOption(' Mediastinum ')).toEqual({ kind: 'preset', name: 'mediastinum' });
    expect(parseWindowOption('soft-tissue')).toEqual({ kind: 'preset', name: 'soft-tissue' });
    expect(parseWindowOption('-600,1500')).toEqual({ kind: 'explicit', center: -600, width: 1500 });
    expect(parseWindowOption('40, 80')).toEqual({ kind: 'explicit', center: 40, width: 80 });
    expect(parseWindowOption('0.5,1.5')).toEqual({ kind: 'explicit', center: 0.5, width: 1.5 });
    expect(parseWindowOption('p1,99')).toEqual({ kind: 'percentile', low: 1, high: 99 });
    expect(parseWindowOption('P0.5, 99.5')).toEqual({ kind: 'percentile', low: 0.5, high: 99.5 });
    expect(parseWindowOption('AUTO')).toEqual({ kind: 'auto' });
    expect(parseWindowOption('file')).toEqual({ kind: 'file' });
  });

  it('preset values as cited (C/W)', () => {
    const table = Object.fromEntries(Object.entries(WINDOW_PRESETS).map(([k, v]) => [k, [v.center, v.width]]));
    expect(table).toEqual({
      lung: [-600, 1500],
      mediastinum: [50, 350],
      bone: [400, 1800],
      brain: [40, 80],
      abdomen: [50, 400],
      'soft-tissue': [50, 400],
      liver: [30, 150],
      stroke: [40, 40],
    });
    const img = makeImage({ data: [0], width: 1, height: 1 });
    expect(resolveWindow(img, parseWindowOption('bone'))).toEqual({ center: 400, width: 1800, source: 'preset:bone' });
  });

  it('unknown names → E_BAD_OPTION with a suggestion', () => {
    const e = optionError(() => parseWindowOption('lugn'));
    expect(e.code).toBe('E_BAD_OPTION');
    expect(e.message).toMatch(/^window lugn: unknown window \(did you mean 'lung'\?\)/);
    expect(optionError(() => parseWindowOption('mediastinun')).message).toMatch(/did you mean 'mediastinum'/);
    expect(optionError(() => parseWindowOption('xyzzy')).message).not.toMatch(/did you mean/);
  });

  it('bad numbers → E_BAD_OPTION', () => {
    expect(optionError(() => parseWindowOption('40,0')).message).toMatch(/width must be at least 1/);
    expect(optionError(() => parseWindowOption('p99,1')).message).toMatch(/0 <= low < high <= 100/);
    expect(optionError(() => parseWindowOption('p-1,50')).code).toBe('E_BAD_OPTION');
    expect(optionError(() => parseWindowOption('40,80,3')).code).toBe('E_BAD_OPTION');
    expect(optionError(() => parseWindowOption('')).code).toBe('E_BAD_OPTION');
  });
});

describe('resolveWindow', () => {
  it('percentiles use numpy-style linear interpolation', () => {
    expect(percentiles([4, 1, 3, 2], [0, 50, 100])).toEqual([1, 2.5, 4]);
    const ramp = Array.from({ length: 101 }, (_, i) => i * 2);
    expect(percentiles(ramp, [1, 99, 0.5])).toEqual([2, 198, 1]);
    expect(percentiles([NaN, 5, Infinity, 7], [0, 100])).toEqual([5, 7]);
  });

  it('p1,99 over the slice: window maps P1 → 0 and P99 → 1', () => {
    const data = Array.from({ length: 1001 }, (_, i) => i - 500); // -500..500
    const img = makeImage({ data, width: 1001, height: 1, format: 'nifti', meta: { datatype: 'int16' } });
    const w = resolveWindow(img, { kind: 'percentile', low: 1, high: 99 });
    expect(w).toEqual({ center: 0.5, width: 981, source: 'percentile 1-99' });
    const out = applyWindowToValues([-490, 0, 490], w);
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(0.5, 6);
    expect(out[2]).toBeCloseTo(1, 6);
  });

  it('auto: file window first, then identity for 8-bit, else percentiles 0.5-99.5', () => {
    const fileWin = { center: 40, width: 400, source: 'WindowCenter/Width' };
    const dicom = makeImage({ data: [0, 1000], width: 2, height: 1, format: 'dicom', windows: [fileWin] });
    expect(resolveWindow(dicom, { kind: 'auto' })).toBe(fileWin);
    expect(resolveWindow(dicom, { kind: 'file' })).toBe(fileWin);

    const png8 = makeImage({ data: [10, 20], width: 2, height: 1, meta: { bitDepth: 8 } });
    expect(resolveWindow(png8, { kind: 'auto' })).toMatchObject({ center: 128, width: 256 });
    const dcm8 = makeImage({
      data: [10, 20],
      width: 2,
      height: 1,
      format: 'dicom',
      meta: { bitsStored: 8, pixelRepresentation: 0, rescaleSlope: 1, rescaleIntercept: 0 },
    });
    expect(resolveWindow(dcm8, { kind: 'auto' })).toMatchObject({ center: 128, width: 256 });
    const ct = makeImage({ ...{ data: [10, 20] }, width: 2, height: 1, format: 'dicom', meta: { bitsStored: 12, rescaleIntercept: -1024 } });
    expect(resolveWindow(ct, { kind: 'auto' }).source).toBe('percentile 0.5-99.5');

    const ramp = Array.from({ length: 1001 }, (_, i) => i * 65);
    const png16 = makeImage({ data: ramp, width: 1001, height: 1, meta: { bitDepth: 16 } });
    const w = resolveWindow(png16, { kind: 'auto' });
    expect(w.source).toBe('percentile 0.5-99.5');
    // P0.5 = 5 * 65 = 325, P99.5 = 995 * 65 = 64675
    expect(w).toMatchObject({ center: (325 + 64675) / 2 + 0.5, width: 64675 - 325 + 1 });
  });

  it('file without a stored window → E_BAD_OPTION naming the file', () => {
    const img = makeImage({ data: [0], width: 1, height: 1 });
    const e = optionError(() => resolveWindow(img, { kind: 'file' }));
    expect(e.code).toBe('E_BAD_OPTION');
    expect(e.message).toMatch(/^mem\.img: window "file" asked for, but the file stores no window/);
  });
});

describe('toRGB8', () => {
  it('rounds v * 255 (halves up), clamps, NaN → 0, grey replicated', () => {
    const rgb = toRGB8([0, 0.5, 1, NaN, -1, 2, 0.002, 127 / 255], 8, 1, 1);
    expect(rgb.width).toBe(8);
    expect(Array.from(rgb.data)).toEqual([0, 0, 0, 128, 128, 128, 255, 255, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255, 1, 1, 1, 127, 127, 127]);
  });

  it('colour stays interleaved; wrong length is an internal error', () => {
    expect(Array.from(toRGB8([1, 0, 0.2], 1, 1, 3).data)).toEqual([255, 0, 51]);
    expect(optionError(() => toRGB8([1, 2], 2, 2, 1)).code).toBe('E_INTERNAL');
  });
});
