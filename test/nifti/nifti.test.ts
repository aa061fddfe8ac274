import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { isMedvlmError } from '../../src/core/errors.js';
import { isNifti, readNifti } from '../../src/io/nifti.js';
import { sampleIndex, type MedicalImage } from '../../src/io/types.js';
import { NIFTI_CORPUS, ensureNiftiCorpus, niftiCorpusSkipReason, type NiftiReference } from '../support/nifti-fixtures.js';
import { writeNifti1 } from '../support/nifti-synth.js';

const skipReason = niftiCorpusSkipReason();
if (skipReason) console.warn(`[test/nifti] ${skipReason}`);

function relClose(actual: number, expected: number, rel = 1e-5, abs = 1e-6): void {
  const tol = Math.max(abs, rel * Math.abs(expected));
  expect(Math.abs(actual - expected), `expected ${actual} ≈ ${expected}`).toBeLessThanOrEqual(tol);
}

function stats(img: MedicalImage): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of img.data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / img.data.length };
}

async function expectCode(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'expected an error').not.toBeNull();
  expect(isMedvlmError(err)).toBe(true);
  const e = err as { code: string; message: string };
  expect(e.code).toBe(code);
  if (pattern) expect(e.message).toMatch(pattern);
}

describe.skipIf(skipReason !== null)('readNifti agrees with nibabel on real-data fixtures', () => {
  let refs: Record<string, NiftiReference> = {};
  beforeAll(async () => {
    refs = await ensureNiftiCorpus();
  });

  const names = [
    'ras_int16.nii',
    'las_uint8.nii.gz',
    'lps_float32.nii',
    'oblique_qform_only.nii',
    'coronal_int16.nii.gz',
    'sform_ne_qform.nii',
    'scaled_int16.nii.gz',
    'slope0_int16.nii',
    'fmri_4d_float32.nii.gz',
    'nifti2_int16.nii',
    'nifti2_float64.nii.gz',
    'bigendian_int16.nii',
    'dtype_int8.nii',
    'dtype_uint16.nii',
    'dtype_int32.nii',
    'dtype_uint32.nii',
    'dtype_float64.nii',
    'units_meter_uint8.nii',
  ];

  it.each(names)('%s: shape, zooms, affine, axis codes, values', async (name) => {
    const ref = refs[name];
    expect(ref, `reference for ${name}`).toBeDefined();
    const img = await readNifti(readFileSync(join(NIFTI_CORPUS, name)), name);
    expect(img.shape).toEqual(ref.shape);
    expect([img.width, img.height, img.depth, img.timepoints]).toEqual([
      ref.shape[0],
      ref.shape[1],
      ref.shape[2] ?? 1,
      ref.shape[3] ?? 1,
    ]);
    expect(img.channels).toBe(1);
    expect(img.meta.niftiVersion).toBe(ref.version);
    expect(img.meta.sformCode).toBe(ref.sformCode);
    expect(img.meta.qformCode).toBe(ref.qformCode);

    const toMm = name.startsWith('units_meter') ? 1000 : 1;
    for (let i = 0; i < 3; i++) relClose(img.spacing[i], ref.zooms[i] * toMm);
    const affine = img.meta.affine as number[][];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) relClose(affine[r][c], ref.affine[r][c] * toMm, 1e-5, 1e-4);
    expect(img.origin).toEqual([affine[0][3], affine[1][3], affine[2][3]]);
    expect(img.orientation).toBe(ref.axcodes);

    const s = stats(img);
    relClose(s.min, ref.min);
    relClose(s.max, ref.max);
    relClose(s.mean, ref.mean);
    for (const { index, value } of ref.samples) {
      const [x, y, z = 0, t = 0] = index;
      relClose(img.data[sampleIndex(img, x, y, z, t)], value as number);
    }
  });

  it('picks the sform over a disagreeing qform, and the qform when sform_code is 0', async () => {
    const both = await readNifti(readFileSync(join(NIFTI_CORPUS, 'sform_ne_qform.nii')), 'sform_ne_qform.nii');
    expect(both.meta.affineSource).toBe('sform');
    expect(both.orientation).toBe('LAS');
    const q = await readNifti(readFileSync(join(NIFTI_CORPUS, 'oblique_qform_only.nii')), 'oblique_qform_only.nii');
    expect(q.meta.affineSource).toBe('qform');
    // the oblique affine is left-handed: qfac = -1 must be applied
    const a = q.meta.affine as number[][];
    const det =
      a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
      a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
      a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    relClose(det, -0.9 * 0.9 * 3.0, 1e-5);
  });

  it('applies scl_slope 2.5 / scl_inter -1024, and ignores scl_inter when slope is 0', async () => {
    const img = await readNifti(readFileSync(join(NIFTI_CORPUS, 'scaled_int16.nii.gz')), 'scaled_int16.nii.gz');
    expect(img.meta.sclSlope).toBe(2.5);
    expect(img.meta.sclInter).toBe(-1024);
    expect(refs['scaled_int16.nii.gz'].slope).toBe(2.5);
    relClose(stats(img).max, 255 * 3 * 2.5 - 1024);
    const zero = await readNifti(readFileSync(join(NIFTI_CORPUS, 'slope0_int16.nii')), 'slope0_int16.nii');
    expect(stats(zero).min).toBe(0);
  });

  it('reads RGB24 as 3 channels', async () => {
    const ref = refs['rgb24.nii'];
    const img = await readNifti(readFileSync(join(NIFTI_CORPUS, 'rgb24.nii')), 'rgb24.nii');
    expect(img.channels).toBe(3);
    expect(img.photometric).toBe('RGB');
    expect(img.data.length).toBe(16 * 12 * 4 * 3);
    for (const { index, value } of ref.samples) {
      const [x, y, z] = index;
      const rgb = [0, 1, 2].map((c) => img.data[sampleIndex(img, x, y, z, 0, c)]);
      expect(rgb).toEqual(value);
    }
  });

  it('4D: timepoints, time units and the volume stride', async () => {
    const img = await readNifti(readFileSync(join(NIFTI_CORPUS, 'fmri_4d_float32.nii.gz')), 'fmri_4d_float32.nii.gz');
    expect(img.timepoints).toBe(3);
    expect(img.meta.units).toEqual({ space: 'mm', time: 's' });
    // volume t is volume 0 times (1 + 0.25 t)
    const i0 = sampleIndex(img, 31, 20, 4, 0);
    const i2 = sampleIndex(img, 31, 20, 4, 2);
    relClose(img.data[i2], img.data[i0] * 1.5);
  });

  it('without sform or qform uses NIfTI method 1 (diag(pixdim)), unlike nibabel’s centred fallback', async () => {
    const ref = refs['pixdim_only_uint8.nii'];
    const img = await readNifti(readFileSync(join(NIFTI_CORPUS, 'pixdim_only_uint8.nii')), 'pixdim_only_uint8.nii');
    expect(img.meta.affineSource).toBe('pixdim');
    expect(img.meta.affine).toEqual([
      [Math.fround(0.8), 0, 0, 0],
      [0, 0.75, 0, 0],
      [0, 0, 2.5, 0],
      [0, 0, 0, 1],
    ]);
    expect(img.orientation).toBe('RAS');
    expect(ref.axcodes).toBe('LAS'); // documented difference
    relClose(stats(img).mean, ref.mean);
  });

  it('isNifti recognises plain NIfTI-1 (both byte orders) and NIfTI-2, not gzip', () => {
    expect(isNifti(readFileSync(join(NIFTI_CORPUS, 'ras_int16.nii')))).toBe(true);
    expect(isNifti(readFileSync(join(NIFTI_CORPUS, 'bigendian_int16.nii')))).toBe(true);
    expect(isNifti(readFileSync(join(NIFTI_CORPUS, 'nifti2_int16.nii')))).toBe(true);
    expect(isNifti(readFileSync(join(NIFTI_CORPUS, 'las_uint8.nii.gz')))).toBe(false);
  });
});

describe('readNifti refuses bad input with typed errors', () => {
  const good = writeNifti1({
    dims: [4, 3, 2],
    datatype: 4,
    data: Int16Array.from({ length: 24 }, (_, i) => i * 10 - 100),
    pixdim: [1, 1, 2],
    srows: [
      [-1, 0, 0, 10],
      [0, 1, 0, -5],
      [0, 0, 2, 0],
    ],
    sclSlope: 0.5,
    sclInter: 3,
  });

  it('reads the synthetic file it is compared against (values, LAS, scaling)', async () => {
    const img = await readNifti(good, 'synth.nii');
    expect(img.orientation).toBe('LAS');
    expect(Array.from(img.data.slice(0, 3))).toEqual([-47, -42, -37]);
    expect(img.data[23]).toBe((23 * 10 - 100) * 0.5 + 3);
    const viaGzip = await readNifti(gzipSync(good), 'synth.nii.gz');
    expect(Array.from(viaGzip.data)).toEqual(Array.from(img.data));
  });

  it('a .nii.gz that is not gzip → E_GZIP_INVALID', async () => {
    await expectCode(readNifti(good, 'scan.nii.gz'), 'E_GZIP_INVALID', /scan\.nii\.gz: .*not gzip/);
  });

  it('corrupt or cut gzip → E_GZIP_INVALID', async () => {
    const gz = gzipSync(Buffer.concat([good, Buffer.alloc(100_000, 7)]));
    await expectCode(readNifti(gz.subarray(0, gz.length - 40), 'cut.nii.gz'), 'E_GZIP_INVALID', /cut\.nii\.gz/);
  });

  it('wrong header size → E_NIFTI_INVALID naming the size', async () => {
    const bad = good.slice();
    new DataView(bad.buffer).setInt32(0, 349, true);
    await expectCode(readNifti(bad, 'bad.nii'), 'E_NIFTI_INVALID', /bad\.nii: has header size 349/);
    expect(isNifti(bad)).toBe(false);
  });

  it('no magic (Analyze 7.5) → E_NIFTI_INVALID', async () => {
    const bad = good.slice();
    bad.set([0, 0, 0, 0], 344);
    await expectCode(readNifti(bad, 'old.nii'), 'E_NIFTI_INVALID', /magic/);
  });

  it('truncated voxel data → E_NIFTI_INVALID "truncated", plain and gzipped', async () => {
    const cut = good.subarray(0, good.length - 10);
    await expectCode(readNifti(cut, 'cut.nii'), 'E_NIFTI_INVALID', /cut\.nii: is truncated: .*48 bytes .* has 38/);
    await expectCode(readNifti(gzipSync(cut), 'cut.nii.gz'), 'E_NIFTI_INVALID', /truncated/);
  });

  it('absurd dims → E_IMAGE_TOO_LARGE before allocating', async () => {
    const bad = good.slice();
    const v = new DataView(bad.buffer);
    v.setInt16(42, 32767, true);
    v.setInt16(44, 32767, true);
    v.setInt16(46, 32767, true);
    await expectCode(readNifti(bad, 'huge.nii'), 'E_IMAGE_TOO_LARGE', /32767x32767x32767/);
    await expectCode(readNifti(gzipSync(bad), 'huge.nii.gz'), 'E_IMAGE_TOO_LARGE');
  });

  it('bad dim / unsupported datatype → E_NIFTI_INVALID', async () => {
    const zeroDim = good.slice();
    new DataView(zeroDim.buffer).setInt16(44, 0, true);
    await expectCode(readNifti(zeroDim, 'z.nii'), 'E_NIFTI_INVALID', /dim\[2\] = 0/);
    const complex = good.slice();
    new DataView(complex.buffer).setInt16(70, 32, true);
    await expectCode(readNifti(complex, 'c.nii'), 'E_NIFTI_INVALID', /datatype code 32/);
  });

  it('too short for a header → E_NIFTI_INVALID', async () => {
    await expectCode(readNifti(new Uint8Array(100), 'tiny.nii'), 'E_NIFTI_INVALID', /too short/);
  });
});
