/**
 * The dense commands end to end on the bundled model: `map` keeps the input's geometry (a NIfTI map has the
 * input's shape and affine in nibabel, values only on the viewed slice), `anomaly` scores a reference image
 * lowest against itself, `segment` writes a mask of the input's size (tiny random segmenter).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/paths.js';
import { expectResultSchema } from '../support/result-schema.js';
import { medvlmAsync } from '../support/spawn-cli.js';
import { tinySegmenter } from '../support/tiny-segmenter.js';
import { PY, py } from '../support/python.js';

const root = packageRoot();
const nibabel = existsSync(PY) && spawnSync(PY, ['-c', 'import nibabel, numpy'], { encoding: 'utf8' }).status === 0;
if (!nibabel) console.warn('[dense-cli] NIfTI geometry check skipped: /usr/bin/python3 with nibabel and numpy not found');
const sample = join(root, 'samples', 'vqarad-head-mr-1.jpg');

describe('medvlm map', () => {
  it('PNG in → .npy map of the image size plus an overlay; JSON names the method', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvlm-map-'));
    const r = await medvlmAsync(['map', sample, '--text', 'lesion', '--out', join(dir, 'm.npy'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { method: string; width: number; height: number; overlay: string; researchNotice: string };
    expectResultSchema('MapFileResult', res);
    expect(res.method).toBe('patch');
    expect(existsSync(res.overlay)).toBe(true);
    const npy = readFileSync(join(dir, 'm.npy'));
    expect(npy.subarray(0, 200).toString('latin1')).toContain(`'shape': (${res.height}, ${res.width})`);
    expect(res.researchNotice).toMatch(/Research use only/);
  }, 120_000);

  it.skipIf(!nibabel)('NIfTI in → NIfTI out: same shape and affine (nibabel), map only on the viewed axial slice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvlm-map-nii-'));
    const input = join(dir, 'vol.nii.gz');
    py(`
import nibabel as nib, numpy as np
rng = np.random.default_rng(0)
a = np.array([[-0.8, 0, 0, 40], [0, 0.9, 0, -30], [0, 0, 2.5, 12], [0, 0, 0, 1]])
nib.save(nib.Nifti1Image((rng.random((40, 36, 7)) * 1000).astype(np.int16), a), ${JSON.stringify(input)})`);
    const out = join(dir, 'map.nii.gz');
    const r = await medvlmAsync(['map', input, '--text', 'tumour', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const check = JSON.parse(py(`
import json, nibabel as nib, numpy as np
i = nib.load(${JSON.stringify(input)}); o = nib.load(${JSON.stringify(out)})
d = o.get_fdata()
nz = sorted(set(np.nonzero(d)[2].tolist()))
print(json.dumps({"shape": list(o.shape), "inShape": list(i.shape), "affine": bool(np.allclose(o.affine, i.affine, atol=1e-4)),
  "qform": bool(np.allclose(o.get_qform(), i.affine, atol=1e-4)), "slices": nz, "filled": int((d[:, :, 3] != 0).sum())}))`)) as Record<string, unknown>;
    expect(check.shape).toEqual(check.inShape);
    expect(check.affine).toBe(true);
    expect(check.qform).toBe(true);
    expect(check.slices).toEqual([3]); // the middle of 7 axial slices, as the view took
    expect(check.filled).toBeGreaterThan(40 * 36 * 0.9);
  }, 120_000);

  it.skipIf(!existsSync(join(root, 'test', '.models', 'tiny-clip')))('a model without patch features asked for --method patch fails with one line and exit 4', async () => {
    const r = await medvlmAsync(['map', sample, '--text', 'x', '--model', join(root, 'test', '.models', 'tiny-clip'), '--method', 'patch', '--out', join(mkdtempSync(join(tmpdir(), 'medvlm-map-')), 'm.png')]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no dense \(patch-level\) features/);
  }, 120_000);
});

describe('medvlm anomaly', () => {
  it('--normal with k=1: the reference itself scores lowest (its patches are in the memory bank); JSON is [{file, score}]', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvlm-anom-'));
    const ref = join(dir, 'normal');
    spawnSync('mkdir', ['-p', ref]);
    writeFileSync(join(ref, 'a.jpg'), readFileSync(sample));
    const inputs = ['vqarad-head-mr-1.jpg', 'vqarad-head-ct-1.jpg', 'vqarad-chest-xray-1.jpg'].map((f) => join(root, 'samples', f));
    const r = await medvlmAsync(['anomaly', ...inputs, '--normal', ref, '--k', '1', '--maps', join(dir, 'maps'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ file: string; score: number }>;
    expectResultSchema('AnomalyOutput', rows);
    expect(rows.map((x) => Object.keys(x).sort())).toEqual([['file', 'score'], ['file', 'score'], ['file', 'score']]);
    const self = rows.find((x) => x.file.endsWith('vqarad-head-mr-1.jpg'))!;
    for (const other of rows) if (other !== self) expect(self.score).toBeLessThan(other.score);
    expect(existsSync(join(dir, 'maps', 'vqarad-head-ct-1-overlay.png'))).toBe(true);
  }, 120_000);
});

const tiny = tinySegmenter();
describe.skipIf(!!tiny.skip)('medvlm segment (tiny random segmenter)', () => {
  it('writes a 0/255 mask of the input size, a probability map and an overlay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvlm-seg-'));
    const r = await medvlmAsync(['segment', sample, '--text', 'lesion', '--model', tiny.dir!, '--out', dir, '--format', 'npy', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [row] = JSON.parse(r.stdout) as Array<{ mask: string; maskArray: string; probability: string; overlay: string; width: number; height: number; maskPixels: number }>;
    expectResultSchema('SegmentOutput', JSON.parse(r.stdout));
    const sharp = (await import('sharp')).default;
    const meta = await sharp(row.mask).metadata();
    const src = await sharp(sample).metadata();
    expect([meta.width, meta.height]).toEqual([src.width, src.height]);
    expect(existsSync(row.overlay)).toBe(true);
    expect(readFileSync(row.probability).subarray(0, 200).toString('latin1')).toContain(`'shape': (${src.height}, ${src.width})`);
    const { data } = await sharp(row.mask).extractChannel(0).raw().toBuffer({ resolveWithObject: true }); // sharp expands grey to RGB on decode
    expect([...new Set(data)].every((v) => v === 0 || v === 255)).toBe(true);
    expect(meta.channels).toBe(1); // a grey mask, as label tools expect
    expect(data.filter((v) => v === 255).length).toBe(row.maskPixels);
    // --format npy: the mask as uint8 [height, width] too, equal to the PNG
    expect(row.maskArray.endsWith('-mask.npy')).toBe(true);
    const npy = readFileSync(row.maskArray);
    const headerLength = npy.readUInt16LE(8);
    expect(npy.subarray(10, 10 + headerLength).toString('latin1')).toContain(`'descr': '|u1', 'fortran_order': False, 'shape': (${src.height}, ${src.width})`);
    const bits = npy.subarray(10 + headerLength);
    expect(bits.length).toBe(data.length);
    expect(bits.every((v, i) => v * 255 === data[i])).toBe(true);
  }, 120_000);
});
