/**
 * `medvlm segment --segmenter SAM` end to end (the map → box/points → SAM route) with the bundled medvlm-tiny
 * and a tiny random SAM: it is a random model, so this checks the plumbing and the geometry, not quality —
 * the prompt is the one `promptFromMap` derives from the map `medvlm map` writes, the probability map is what
 * the SAM loader gives for that prompt on the same view, and mask area and prompt coordinates are pinned.
 * Under --all-slices, a slice whose map gives no prompt is skipped and listed, and a volume of such slices fails alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/paths.js';
import { loadPromptableSegmenter, type SamSegmenter } from '../../src/models/sam.js';
import { prepareDenseInput } from '../../src/tasks/dense-input.js';
import { promptFromMap } from '../../src/tasks/segment.js';
import { minMaxNormalise } from '../../src/transforms/dense-resample.js';
import { expectResultSchema } from '../support/result-schema.js';
import { medvlmAsync, type AsyncCliRun } from '../support/spawn-cli.js';
import { tinySam } from '../support/tiny-sam.js';
import { PY, py } from '../support/python.js';

const tiny = tinySam();
if (tiny.skip) console.warn(`[sam-cli] skipped: ${tiny.skip}`);
const sample = join(packageRoot(), 'samples', 'vqarad-head-mr-1.jpg');
const nibabelOk = !tiny.skip && spawnSync(PY, ['-c', 'import nibabel'], { encoding: 'utf8' }).status === 0;
if (!tiny.skip && !nibabelOk) console.warn('[sam-cli] the --all-slices case is skipped: /usr/bin/python3 lacks nibabel');

/** A float32 .npy as [height, width] data (little-endian, C order: what medvlm writes). */
function readNpy(path: string): { shape: number[]; data: Float32Array } {
  const buf = readFileSync(path);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString('latin1');
  expect(header).toContain("'descr': '<f4'");
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').filter((s) => s.trim()).map(Number);
  const body = buf.subarray(10 + headerLen);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) };
}

interface Row {
  route: string;
  model: string;
  prompt: { box?: number[]; points: Array<{ x: number; y: number; label: number }> };
  used: { box?: number[]; points?: unknown[] };
  notes?: string[];
  score: number;
  mask: string;
  probability: string;
  overlay: string;
  maskPixels: number;
  width: number;
  height: number;
  researchNotice: string;
}

describe.skipIf(!!tiny.skip)('medvlm segment --segmenter (map → prompt → tiny random SAM)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medvlm-sam-cli-'));
  let boxes: AsyncCliRun;
  let points: AsyncCliRun;
  let map: AsyncCliRun;
  let sam: SamSegmenter;
  beforeAll(async () => {
    [boxes, points, map] = await Promise.all([
      medvlmAsync(['segment', sample, '--text', 'lesion', '--model', 'medvlm-tiny', '--segmenter', join(tiny.dir!, 'boxes'), '--out', join(dir, 'b'), '--format', 'npy', '--json']),
      medvlmAsync(['segment', sample, '--text', 'lesion', '--segmenter', join(tiny.dir!, 'points'), '--out', join(dir, 'p'), '--json']),
      medvlmAsync(['map', sample, '--text', 'lesion', '--out', join(dir, 'map.npy'), '--json']),
    ]);
    sam = await loadPromptableSegmenter(join(tiny.dir!, 'boxes'));
  }, 600_000);
  afterAll(async () => sam?.dispose());

  it('the JSON names the route, the models, the prompt derived from the map and the research notice; prompt and mask area are pinned', () => {
    expect(boxes.code, boxes.stderr).toBe(0);
    const [row] = JSON.parse(boxes.stdout) as Row[];
    expectResultSchema('SegmentOutput', JSON.parse(boxes.stdout));
    expect(row.route).toBe('map-to-promptable');
    expect(row.model).toBe('medvlm-tiny');
    expect(row.researchNotice).toMatch(/Research use only/);
    expect([row.width, row.height]).toEqual([512, 502]);
    expect(row.prompt).toEqual({ box: [0, 0, 403, 502], points: [{ x: 129, y: 0, label: 1 }, { x: 471, y: 461, label: 0 }] });
    expect(row.used).toEqual(row.prompt);
    expect(Math.abs(row.maskPixels - 87_916)).toBeLessThanOrEqual(50);
    expect(row.score).toBeCloseTo(0.13522, 3);
  });

  it('the prompt is promptFromMap of the map `medvlm map` writes (same text, same model)', () => {
    expect(map.code, map.stderr).toBe(0);
    const [row] = JSON.parse(boxes.stdout) as Row[];
    const m = readNpy(join(dir, 'map.npy'));
    expect(m.shape).toEqual([502, 512]);
    expect(promptFromMap({ width: 512, height: 502, data: minMaxNormalise(m.data) })).toEqual(row.prompt);
  });

  it('the probability map is the SAM loader\'s for that prompt on the same view (max |Δ| < 1e-6); the mask is p ≥ 0.5, at the input size', async () => {
    const [row] = JSON.parse(boxes.stdout) as Row[];
    const input = await prepareDenseInput(sample);
    const want = await sam.segment(input.view, row.prompt as Parameters<SamSegmenter['segment']>[1]);
    const got = readNpy(row.probability);
    expect(got.shape).toEqual([502, 512]);
    let worst = 0;
    want.data.forEach((w, j) => (worst = Math.max(worst, Math.abs(w - got.data[j]))));
    expect(worst).toBeLessThan(1e-6);
    expect(got.data.reduce((n, v) => n + (v >= 0.5 ? 1 : 0), 0)).toBe(row.maskPixels);
    const sharp = (await import('sharp')).default;
    const { data, info } = await sharp(row.mask).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([512, 502]);
    expect(data.filter((v) => v === 255).length / info.channels).toBe(row.maskPixels);
    expect(existsSync(row.overlay)).toBe(true);
  });

  it('an export without input_boxes: the default --model is then medvlm-tiny, the box is dropped and the row says so', () => {
    expect(points.code, points.stderr).toBe(0);
    const [row] = JSON.parse(points.stdout) as Row[];
    expectResultSchema('SegmentOutput', JSON.parse(points.stdout));
    expect(row.model).toBe('medvlm-tiny');
    expect(row.used).toEqual({ points: row.prompt.points });
    expect(row.notes?.join(' ')).toMatch(/box not used/);
  });
  it.skipIf(!nibabelOk)('--all-slices: a slice whose map is flat gives a box-only export no prompt; it is skipped (0 in both volumes) and listed, and a volume of such slices fails alone', async () => {
    // slice 0 is constant: every window of the windows map sees the same pixels, so the map is flat and has no box
    const volume = join(dir, 'vol.nii.gz');
    const blank = join(dir, 'blank.nii.gz');
    py(`
import numpy as np, nibabel as nib
from PIL import Image
g = np.asarray(Image.open(${JSON.stringify(sample)}).convert('L').resize((96, 80)), dtype=np.float32)
vol = np.stack([g.T * (0.4 + 0.25 * k) + 7 * k for k in range(4)], axis=2).astype(np.int16)
vol[:, :, 0] = 0
aff = np.array([[0.9, 0, 0, -40], [0, -0.9, 0, 30], [0, 0, 3.0, -12], [0, 0, 0, 1]])
nib.save(nib.Nifti1Image(vol, aff), ${JSON.stringify(volume)})
nib.save(nib.Nifti1Image(np.full((96, 80, 3), 5, np.int16), aff), ${JSON.stringify(blank)})
`);
    const out = join(dir, 'vol');
    const r = await medvlmAsync(['segment', volume, blank, '--text', 'lesion', '--segmenter', join(tiny.dir!, 'boxes'), '--method', 'windows', '--all-slices', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(3); // the blank volume's error, after the other was written
    const rows = JSON.parse(r.stdout) as Array<{ file: string; skippedSlices?: number[]; slices: number; maskPixels: number; probability: string; maskArray: string; shownSlice: number; error?: { code: string; message: string } }>;
    expectResultSchema('SegmentOutput', rows);
    const bad = rows.find((x) => x.file === blank)!;
    expect(bad.error?.code).toBe('E_BAD_OPTION');
    expect(bad.error?.message).toMatch(/none of its 3 slices/);
    const row = rows.find((x) => x.file === volume)!;
    expect(row.slices).toBe(4);
    expect(row.skippedSlices).toEqual([0]);
    expect(row.shownSlice).not.toBe(0);
    const facts = JSON.parse(py(`
import json, numpy as np, nibabel as nib
P = nib.load(${JSON.stringify(row.probability)}).get_fdata(dtype=np.float32); M = np.asarray(nib.load(${JSON.stringify(row.maskArray)}).dataobj)
print(json.dumps({'p_max': [float(P[:, :, k].max()) for k in range(4)], 'm_sum': [int(M[:, :, k].sum()) for k in range(4)]}))
`)) as { p_max: number[]; m_sum: number[] };
    expect(facts.p_max[0]).toBe(0); // the skipped slice stays 0
    expect(facts.m_sum[0]).toBe(0);
    for (const k of [1, 2, 3]) expect(facts.p_max[k], `slice ${k}`).toBeGreaterThan(0); // the others were segmented
    expect(facts.m_sum.reduce((a, b) => a + b, 0)).toBe(row.maskPixels);
  }, 300_000);
});
