import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isMedvlmError } from '../../src/core/errors.js';
import { readNifti } from '../../src/io/nifti.js';
import type { MedicalImage } from '../../src/io/types.js';
import { selectSlice, type SliceOptions } from '../../src/transforms/index.js';
import { NIFTI_CORPUS, ensureNiftiCorpus, niftiCorpusSkipReason } from '../support/nifti-fixtures.js';
import { codedVolume, makeImage } from './helpers.js';

const skipReason = niftiCorpusSkipReason();
if (skipReason) console.warn(`[test/transforms] ${skipReason}`);

function at(img: MedicalImage, r: number, c: number): number {
  return img.data[(r * img.width + c) * img.channels];
}
/** The (i, j, k) decoded from a codedVolume value. */
function ijk(v: number): [number, number, number] {
  return [v % 100, Math.floor(v / 100) % 100, Math.floor(v / 10000) % 100];
}
function badOption(img: MedicalImage, opts: SliceOptions): string {
  try {
    selectSlice(img, opts);
  } catch (e) {
    expect(isMedvlmError(e) && e.code).toBe('E_BAD_OPTION');
    return (e as Error).message;
  }
  throw new Error('expected E_BAD_OPTION');
}

const W = 4;
const H = 3;
const D = 5;
function niftiVolume(orientation: string, t = 1): MedicalImage {
  return makeImage({ data: codedVolume(W, H, D, t), width: W, height: H, depth: D, timepoints: t, format: 'nifti', orientation });
}

describe('selectSlice on NIfTI volumes: planes from orientation, radiological display', () => {
  it('RAS axial: middle slice k=2, patient left on image right, anterior up', () => {
    const s = selectSlice(niftiVolume('RAS'));
    expect([s.width, s.height, s.depth, s.timepoints]).toEqual([4, 3, 1, 1]);
    expect(s.shape).toEqual([3, 4]);
    // columns run R→L: i reversed; rows run A→P: j reversed
    expect(ijk(at(s, 0, 0))).toEqual([3, 2, 2]);
    expect(ijk(at(s, 0, 3))).toEqual([0, 2, 2]);
    expect(ijk(at(s, 2, 0))).toEqual([3, 0, 2]);
    expect(s.orientation).toBe('LPS');
    expect(s.meta.slice).toMatchObject({ plane: 'axial', index: 2, normalAxis: 2, flipColumns: true, flipRows: true });
  });

  it('LPS axial needs no flips (like a DICOM axial)', () => {
    const s = selectSlice(niftiVolume('LPS'), { index: 4 });
    expect(ijk(at(s, 0, 0))).toEqual([0, 0, 4]);
    expect(ijk(at(s, 2, 3))).toEqual([3, 2, 4]);
  });

  it('RAS coronal: normal j, columns R→L, rows S→I', () => {
    const s = selectSlice(niftiVolume('RAS'), { plane: 'coronal', index: 1 });
    expect([s.width, s.height]).toEqual([W, D]);
    expect(ijk(at(s, 0, 0))).toEqual([3, 1, 4]);
    expect(ijk(at(s, 4, 3))).toEqual([0, 1, 0]);
  });

  it('RAS sagittal: normal i, columns A→P, rows S→I', () => {
    const s = selectSlice(niftiVolume('RAS'), { plane: 'sagittal' });
    expect([s.width, s.height]).toEqual([H, D]);
    expect(s.meta.slice).toMatchObject({ index: 2, normalAxis: 0 });
    expect(ijk(at(s, 0, 0))).toEqual([2, 2, 4]);
    expect(ijk(at(s, 4, 2))).toEqual([2, 0, 0]);
  });

  it('a coronally acquired volume (LSP): axial is along j', () => {
    const s = selectSlice(niftiVolume('LSP'), { plane: 'axial', index: 0 });
    expect(s.meta.slice).toMatchObject({ normalAxis: 1, columnAxis: 0, rowAxis: 2, flipColumns: false, flipRows: false });
    expect([s.width, s.height]).toEqual([W, D]);
    expect(ijk(at(s, 3, 2))).toEqual([2, 0, 3]);
  });

  it('4D: volume picks the timepoint; out-of-range values name the valid range', () => {
    const vol = niftiVolume('LPS', 3);
    const s = selectSlice(vol, { volume: 2, index: 1 });
    expect(at(s, 0, 0)).toBe(2e6 + 10000);
    expect(badOption(vol, { volume: 3 })).toBe('mem.img: volume 3 is out of range (valid: 0..2, 3 in all)');
    expect(badOption(vol, { index: 5 })).toBe('mem.img: axial slice 5 is out of range (valid: 0..4, 5 in all)');
    expect(badOption(vol, { plane: 'sagittal', index: -1 })).toMatch(/sagittal slice -1 is out of range \(valid: 0\.\.3/);
  });
});

describe('selectSlice on frames (DICOM, raster)', () => {
  const frames = makeImage({ data: codedVolume(W, H, D), width: W, height: H, depth: D, format: 'dicom', origin: [1, 2, 3] });

  it('default is the middle frame floor(n/2); pixels keep file order', () => {
    const s = selectSlice(frames);
    expect(s.meta.slice).toMatchObject({ index: 2 });
    expect(ijk(at(s, 0, 0))).toEqual([0, 0, 2]);
    expect(ijk(at(s, 2, 3))).toEqual([3, 2, 2]);
    expect(s.origin).toBeUndefined(); // frame 2's position is not known here
    expect(selectSlice(frames, { frame: 0 }).origin).toEqual([1, 2, 3]);
  });

  it('frame out of range, or a plane without orientation → E_BAD_OPTION', () => {
    expect(badOption(frames, { frame: 5 })).toBe('mem.img: frame 5 is out of range (valid: 0..4, 5 in all)');
    expect(badOption(frames, { plane: 'axial' })).toMatch(/has no anatomical orientation/);
    const png = makeImage({ data: [1, 2], width: 2, height: 1 });
    expect(selectSlice(png)).toBe(png);
    expect(badOption(png, { frame: 1 })).toMatch(/valid: 0\.\.0/);
  });
});

describe.skipIf(skipReason !== null)('selectSlice on real NIfTI fixtures (nibabel-written)', () => {
  beforeAll(async () => {
    await ensureNiftiCorpus();
  });
  const read = async (name: string): Promise<MedicalImage> => readNifti(readFileSync(join(NIFTI_CORPUS, name)), name);

  it('RAS and LAS files of the same voxels display as mirror images', async () => {
    const ras = selectSlice(await read('ras_int16.nii')); // hu = u8 * 8 - 1024
    const las = selectSlice(await read('las_uint8.nii.gz'));
    expect([ras.width, ras.height, las.width, las.height]).toEqual([64, 48, 64, 48]);
    let mismatches = 0;
    for (let r = 0; r < 48; r++) for (let c = 0; c < 64; c++) if (at(ras, r, c) !== at(las, r, 63 - c) * 8 - 1024) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('display axes point to patient Left and Posterior in world space; origin is the affine of the first pixel', async () => {
    for (const name of ['ras_int16.nii', 'las_uint8.nii.gz', 'lps_float32.nii', 'oblique_qform_only.nii', 'coronal_int16.nii.gz']) {
      const img = await read(name);
      const s = selectSlice(img, { plane: 'axial', index: 3 });
      const d = s.direction!;
      const x = [d[0], d[3], d[6]];
      const y = [d[1], d[4], d[7]];
      // RAS+ world: Left is -x, Posterior is -y; the dominant component must carry that sign
      expect(x[0], `${name} columns toward L`).toBeLessThan(-0.7);
      expect(y[1], `${name} rows toward P`).toBeLessThan(-0.7);
      // origin = affine · voxel of display (0, 0)
      const a = img.meta.affine as number[][];
      const sl = s.meta.slice as { normalAxis: number; columnAxis: number; rowAxis: number; flipColumns: boolean; flipRows: boolean };
      const dims = [img.width, img.height, img.depth];
      const v = [0, 0, 0];
      v[sl.normalAxis] = 3;
      v[sl.columnAxis] = sl.flipColumns ? dims[sl.columnAxis] - 1 : 0;
      v[sl.rowAxis] = sl.flipRows ? dims[sl.rowAxis] - 1 : 0;
      for (let w = 0; w < 3; w++) {
        const expected = a[w][0] * v[0] + a[w][1] * v[1] + a[w][2] * v[2] + a[w][3];
        expect(Math.abs(s.origin![w] - expected), `${name} origin[${w}]`).toBeLessThan(1e-3);
      }
    }
  });

  it('the coronal-acquisition fixture (LSP) gives an axial slice along j', async () => {
    const img = await read('coronal_int16.nii.gz');
    expect(img.orientation).toBe('LSP');
    const s = selectSlice(img, { plane: 'axial' });
    expect([s.width, s.height]).toEqual([64, 8]);
    expect(s.meta.slice).toMatchObject({ normalAxis: 1, index: 24 });
  });
});
