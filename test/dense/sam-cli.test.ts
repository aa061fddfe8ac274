/**
 * `medvlm segment --segmenter SAM` end to end (the map → box/points → SAM route) with the bundled medvlm-tiny
 * and a tiny random SAM: it is a random model, so this checks the plumbing and the geometry, not quality —
 * the prompt is the one `promptFromMap` derives from the map `medvlm map` writes, the probability map is what
 * the SAM loader gives for that prompt on the same view, and mask area and prompt coordinates are pinned.
 */
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

const tiny = tinySam();
if (tiny.skip) console.warn(`[sam-cli] skipped: ${tiny.skip}`);
const sample = join(packageRoot(), 'samples', 'vqarad-head-mr-1.jpg');

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
});
