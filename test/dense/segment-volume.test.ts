/**
 * `medvlm segment --all-slices` (and `map` and `anomaly --all-slices`, medvlm-tiny) on a NIfTI volume with the shipped medvlm-tiny-seg: every slice of the
 * volume equals the one-slice path (`--slice k` with the same window) put back into the voxel grid, the
 * mask volume is uint8 with the input's shape and affine (nibabel), the PNGs show the fullest slice, and a
 * multi-frame DICOM in the batch fails alone. The volume is a real image (a bundled MR sample) stacked
 * with a different gain per slice, in RPS voxel order (the axial view, columns to the patient's left, flips
 * the columns), so that flips and the shared window both matter.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/paths.js';
import { expectResultSchema } from '../support/result-schema.js';
import { medvlmAsync } from '../support/spawn-cli.js';
import { PY, py } from '../support/python.js';

const root = packageRoot();
const pyOk = existsSync(PY) && spawnSync(PY, ['-c', 'import nibabel, numpy, pydicom, PIL'], { encoding: 'utf8' }).status === 0;
if (!pyOk) console.warn('[segment-volume] skipped: /usr/bin/python3 with nibabel, numpy, pydicom and PIL not found');
const sample = join(root, 'samples', 'vqarad-head-mr-1.jpg');

interface Row {
  file: string;
  mask: string;
  maskArray: string;
  probability: string;
  overlay: string;
  maskPixels: number;
  slices: number;
  shownSlice: number;
  threshold: number;
  window: { center: number; width: number; source: string };
  dims: number[];
  error?: { code: string; message: string };
}

describe.skipIf(!pyOk)('medvlm segment --all-slices (medvlm-tiny-seg)', () => {
  let dir: string;
  let volume: string;
  let multiframe: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'medvlm-segvol-'));
    volume = join(dir, 'mr.nii.gz');
    multiframe = join(dir, 'mf.dcm');
    py(`
import numpy as np, nibabel as nib, pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
g = np.asarray(Image.open(${JSON.stringify(sample)}).convert('L').resize((96, 80)), dtype=np.float32)
# voxel (i, j, k) with i along columns, j along rows; slice k has gain 0.4 + 0.25 k
vol = np.stack([g.T * (0.4 + 0.25 * k) + 7 * k for k in range(6)], axis=2).astype(np.int16)
aff = np.array([[0.9, 0, 0, -40], [0, -0.9, 0, 30], [0, 0, 3.0, -12], [0, 0, 0, 1]])
nib.save(nib.Nifti1Image(vol, aff), ${JSON.stringify(volume)})
ds = Dataset(); ds.file_meta = FileMetaDataset()
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.4'
ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID; ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
ds.Modality = 'MR'; ds.Rows = 32; ds.Columns = 32; ds.NumberOfFrames = 3
ds.SamplesPerPixel = 1; ds.PhotometricInterpretation = 'MONOCHROME2'
ds.BitsAllocated = 16; ds.BitsStored = 16; ds.HighBit = 15; ds.PixelRepresentation = 0
ds.PixelData = (np.arange(3 * 32 * 32) % 4096).astype(np.uint16).tobytes()
ds.is_little_endian = True; ds.is_implicit_VR = False
ds.save_as(${JSON.stringify(multiframe)}, write_like_original=False)
`);
  });

  it('each slice equals the one-slice path with the same window; uint8 mask volume in the input grid; a multi-frame DICOM fails alone', async () => {
    const out = join(dir, 'all');
    const r = await medvlmAsync(['segment', volume, multiframe, '--text', 'lesion', '--out', out, '--all-slices', '--json']);
    expect(r.code, r.stderr).toBe(3); // the DICOM's error, after the volume was written
    const rows = JSON.parse(r.stdout) as Row[];
    expectResultSchema('SegmentOutput', rows); // the volume's row and the DICOM's error
    const dcm = rows.find((x) => x.file === multiframe)!;
    expect(dcm.error?.code).toBe('E_BAD_OPTION');
    expect(dcm.error?.message).toMatch(/3 frames.*NIfTI/);
    const row = rows.find((x) => x.file === volume)!;
    expect(row.slices).toBe(6);
    expect(row.dims).toEqual([96, 80, 6]);
    expect(row.maskArray.endsWith('-mask.nii.gz')).toBe(true);
    expect(row.window.source).toMatch(/percentile/); // auto on int16 data: resolved once, on the whole volume

    // the one-slice path at k = 0, 2 and 5 with the window the volume run used
    const win = `${row.window.center},${row.window.width}`;
    const singles: string[] = [];
    const singleMasks: string[] = [];
    for (const k of [0, 2, 5]) {
      const o = join(dir, `one-${k}`);
      const s = await medvlmAsync(['segment', volume, '--text', 'lesion', '--out', o, '--slice', String(k), `--window=${win}`, '--format', 'nii.gz', '--json']);
      expect(s.code, s.stderr).toBe(0);
      const [one] = JSON.parse(s.stdout) as Row[];
      singles.push(one.probability);
      singleMasks.push(one.maskArray);
    }
    const facts = JSON.parse(py(`
import json, numpy as np, nibabel as nib
from PIL import Image
src = nib.load(${JSON.stringify(volume)}); m = nib.load(${JSON.stringify(row.maskArray)}); p = nib.load(${JSON.stringify(row.probability)})
P = p.get_fdata(dtype=np.float32); M = np.asarray(m.dataobj)
diffs = []
for k, f in zip([0, 2, 5], ${JSON.stringify(singles)}):
    one = nib.load(f).get_fdata(dtype=np.float32)
    diffs.append(float(np.abs(one[:, :, k] - P[:, :, k]).max()))
    others = [j for j in range(6) if j != k]
    assert np.all(one[:, :, others] == 0), 'the one-slice map lies on its slice only'
mask_agree = []
for k, f in zip([0, 2, 5], ${JSON.stringify(singleMasks)}):
    one = nib.load(f)
    O = np.asarray(one.dataobj)
    assert str(one.get_data_dtype()) == 'uint8' and O.shape == src.shape and np.allclose(one.affine, src.affine, atol=1e-5)
    near_k = np.abs(P[:, :, k] - ${row.threshold}) < 1e-4
    mask_agree.append(bool(np.all(((O[:, :, k] == M[:, :, k]) | near_k)) and not O[:, :, [j for j in range(6) if j != k]].any()))
per_slice = [int(M[:, :, k].sum()) for k in range(6)]
near = np.abs(P - ${row.threshold}) < 1e-4
png = np.asarray(Image.open(${JSON.stringify(row.mask)}))
# nibabel's own reorientation to L, P, S: display pixel (r, c) of an axial view is voxel (c, r) there
lps = nib.orientations.ornt_transform(nib.orientations.io_orientation(m.affine), nib.orientations.axcodes2ornt(('L', 'P', 'S')))
shown = nib.orientations.apply_orientation(M, lps)[:, :, ${row.shownSlice}].T
print(json.dumps({
  'shape': list(m.shape), 'dtype': str(m.get_data_dtype()), 'values': sorted(np.unique(M).tolist()),
  'affine_equal': bool(np.allclose(m.affine, src.affine, atol=1e-5) and np.allclose(p.affine, src.affine, atol=1e-5)),
  'diffs': diffs, 'mask_agree': mask_agree, 'mask_is_threshold': bool(np.all(((M == 1) == (P >= ${row.threshold})) | near)),
  'per_slice': per_slice, 'png_shape': list(png.shape), 'png_255': int((png == 255).sum()),
  'png_equals_slice': bool(np.array_equal(png == 255, shown == 1)),
}))
`)) as { shape: number[]; dtype: string; values: number[]; affine_equal: boolean; diffs: number[]; mask_agree: boolean[]; mask_is_threshold: boolean; per_slice: number[]; png_shape: number[]; png_255: number; png_equals_slice: boolean };

    expect(facts.shape).toEqual([96, 80, 6]);
    expect(facts.dtype).toBe('uint8');
    expect(facts.values.every((v) => v === 0 || v === 1)).toBe(true);
    expect(facts.affine_equal).toBe(true);
    for (const d of facts.diffs) expect(d).toBeLessThan(1e-4); // batched vs one view through ONNX Runtime
    expect(facts.mask_agree).toEqual([true, true, true]); // the one-slice uint8 mask NIfTI (--format nii.gz) is that slice of the volume's
    expect(facts.mask_is_threshold).toBe(true);
    expect(facts.per_slice.reduce((a, b) => a + b, 0)).toBe(row.maskPixels);
    // the PNGs show the fullest slice, in the view's orientation (80 rows × 96 columns, one grey channel)
    expect(row.shownSlice).toBe(facts.per_slice.indexOf(Math.max(...facts.per_slice)));
    expect(facts.png_shape).toEqual([80, 96]);
    expect(facts.png_255).toBe(facts.per_slice[row.shownSlice]);
    expect(facts.png_equals_slice).toBe(true);
    expect(existsSync(row.overlay)).toBe(true);
  }, 300_000);

  it('map --all-slices: one float NIfTI in the input grid whose slices equal the one-slice maps; the overlay is the peak slice', async () => {
    const r = await medvlmAsync(['map', volume, '--text', 'lesion', '--all-slices', '--out', join(dir, 'map.nii.gz'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const row = JSON.parse(r.stdout) as { out: string; overlay: string; slices: number; shownSlice: number; window: { center: number; width: number }; dims: number[]; mapRange: number[] };
    expectResultSchema('MapFileResult', row);
    expect([row.slices, row.dims]).toEqual([6, [96, 80, 6]]);
    const win = `${row.window.center},${row.window.width}`;
    const singles: string[] = [];
    for (const k of [1, 4]) {
      const one = join(dir, `map-${k}.nii.gz`);
      const s = await medvlmAsync(['map', volume, '--text', 'lesion', '--slice', String(k), `--window=${win}`, '--out', one]);
      expect(s.code, s.stderr).toBe(0);
      singles.push(one);
    }
    const facts = JSON.parse(py(`
import json, numpy as np, nibabel as nib
src = nib.load(${JSON.stringify(volume)}); v = nib.load(${JSON.stringify(row.out)}); V = v.get_fdata(dtype=np.float32)
diffs = [float(np.abs(nib.load(f).get_fdata(dtype=np.float32)[:, :, k] - V[:, :, k]).max()) for k, f in zip([1, 4], ${JSON.stringify(singles)})]
print(json.dumps({'dtype': str(v.get_data_dtype()), 'affine_equal': bool(np.allclose(v.affine, src.affine, atol=1e-5)), 'diffs': diffs,
  'peak_slice': int(np.argmax(V.reshape(-1, 6).max(axis=0))), 'range': [float(V.min()), float(V.max())]}))
`)) as { dtype: string; affine_equal: boolean; diffs: number[]; peak_slice: number; range: number[] };
    expect(facts.dtype).toBe('float32');
    expect(facts.affine_equal).toBe(true);
    for (const d of facts.diffs) expect(d).toBeLessThan(1e-4);
    expect(row.shownSlice).toBe(facts.peak_slice);
    expect(row.mapRange[0]).toBeCloseTo(facts.range[0], 5);
    expect(row.mapRange[1]).toBeCloseTo(facts.range[1], 5);
    expect(existsSync(row.overlay)).toBe(true);
  }, 300_000);

  it('anomaly --all-slices: slice scores equal the one-slice path, the volume scores as its top slice, the map NIfTI sits in the input grid', async () => {
    const maps = join(dir, 'anomaly');
    const r = await medvlmAsync(['anomaly', volume, multiframe, '--all-slices', '--maps', maps, '--json']);
    expect(r.code, r.stderr).toBe(3); // the multi-frame DICOM fails alone
    const rows = JSON.parse(r.stdout) as Array<{ file: string; score: number; slices: number; peakSlice: number; sliceScores: number[]; window: { center: number; width: number }; map: string; error?: { code: string } }>;
    expectResultSchema('AnomalyOutput', rows);
    expect(rows.find((x) => x.file === multiframe)?.error?.code).toBe('E_BAD_OPTION');
    const row = rows.find((x) => x.file === volume)!;
    expect(row.slices).toBe(6);
    expect(row.sliceScores).toHaveLength(6);
    expect(row.score).toBe(Math.max(...row.sliceScores));
    expect(row.peakSlice).toBe(row.sliceScores.indexOf(row.score));
    expect(new Set(row.sliceScores.map((v) => v.toFixed(4))).size).toBeGreaterThan(1); // the gain differs per slice
    const win = `${row.window.center},${row.window.width}`;
    for (const k of [0, 3, 5]) {
      const s = await medvlmAsync(['anomaly', volume, '--slice', String(k), `--window=${win}`, '--json']);
      expect(s.code, s.stderr).toBe(0);
      const [one] = JSON.parse(s.stdout) as Array<{ score: number }>;
      expect(Math.abs(one.score - row.sliceScores[k]), `slice ${k}`).toBeLessThan(1e-4); // batched vs one view
    }
    // the map NIfTI: float32 in the input's grid; the PNG is its peak slice (nibabel's L, P, S reorientation), scaled by the run's range
    const facts = JSON.parse(py(`
import json, numpy as np, nibabel as nib
from PIL import Image
src = nib.load(${JSON.stringify(volume)}); v = nib.load(${JSON.stringify(row.map)}); V = v.get_fdata(dtype=np.float32)
lps = nib.orientations.ornt_transform(nib.orientations.io_orientation(v.affine), nib.orientations.axcodes2ornt(('L', 'P', 'S')))
shown = nib.orientations.apply_orientation(V, lps)[:, :, ${row.peakSlice}].T
png = np.asarray(Image.open(${JSON.stringify(join(maps, 'mr-anomaly.png'))})).astype(np.float64)
want = 255 * (shown - V.min()) / (V.max() - V.min())
print(json.dumps({'shape': list(v.shape), 'dtype': str(v.get_data_dtype()), 'affine_equal': bool(np.allclose(v.affine, src.affine, atol=1e-5)),
  'png_shape': list(png.shape), 'png_err': float(np.abs(png - want).max()), 'slice_max': [float(V[:, :, k].max()) for k in range(6)]}))
`)) as { shape: number[]; dtype: string; affine_equal: boolean; png_shape: number[]; png_err: number; slice_max: number[] };
    expect(facts.shape).toEqual([96, 80, 6]);
    expect(facts.dtype).toBe('float32');
    expect(facts.affine_equal).toBe(true);
    expect(facts.png_shape).toEqual([80, 96]);
    expect(facts.png_err).toBeLessThanOrEqual(1); // 8-bit rounding; a flipped or misplaced slice is far off
    for (const m of facts.slice_max) expect(m).toBeGreaterThan(0); // every slice was written

    // a reference volume gives every slice to the memory bank: each slice of the same volume then has a few-shot
    // score of 0 (its own patches and windows are in the bank), so its score is exactly half the zero-shot one;
    // with the middle slice alone in the bank the other slices would score higher
    const refs = join(dir, 'refs');
    mkdirSync(refs);
    copyFileSync(volume, join(refs, 'mr.nii.gz'));
    const f = await medvlmAsync(['anomaly', volume, '--all-slices', '--normal', refs, '--json']);
    expect(f.code, f.stderr).toBe(0);
    const [few] = JSON.parse(f.stdout) as Array<{ sliceScores: number[] }>;
    for (const [k, v] of few.sliceScores.entries()) expect(Math.abs(v - row.sliceScores[k] / 2), `slice ${k}`).toBeLessThan(1e-5);
  }, 300_000);

  it('refuses what cannot hold a volume: --dicom-seg, --format png, --slice (exit 2, one line)', async () => {
    for (const extra of [['--dicom-seg'], ['--format', 'png'], ['--slice', '2']]) {
      const r = await medvlmAsync(['segment', volume, '--text', 'lesion', '--out', join(dir, 'bad'), '--all-slices', ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/E_BAD_OPTION/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(dir, 'bad'))).toBe(false);
    }
    const a = await medvlmAsync(['anomaly', volume, '--all-slices', '--frame', '1']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--all-slices takes every slice.*\[E_BAD_OPTION\]/);
    const m = await medvlmAsync(['map', volume, '--text', 'lesion', '--all-slices', '--out', join(dir, 'bad.png')]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/--out .*bad\.png cannot hold one.*\[E_BAD_OPTION\]/);
  }, 120_000);
});
