/**
 * CLIPSeg through transformers.js' CLIPSegForImageSegmentation on a tiny random graph in the exact layout
 * (test/support/build-tiny-clipseg.py, an independent PyTorch CLIPSeg over a tiny CLIP): the loader's maps equal
 * PyTorch's sigmoid(logits) at the model's 64x64, batched with two prompts, and `medvlm segment --model DIR`
 * writes PyTorch's probabilities resized to the 300x200 input (max |Δ| < 1e-4) with the mask p ≥ 0.5.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TextPromptedSegmenter } from '../../src/models/capabilities.js';
import { loadTextSegmenter } from '../../src/models/text-segmenter.js';
import { prepareDenseInput } from '../../src/tasks/dense-input.js';
import { medvlmAsync } from '../support/spawn-cli.js';
import { tinyClipseg } from '../support/tiny-clipseg.js';

const tiny = tinyClipseg();
if (tiny.skip) console.warn(`[clipseg] skipped: ${tiny.skip}`);

interface Ref {
  width: number;
  height: number;
  size: number;
  prompts: Record<string, { input_ids: number[]; prob: number[]; full: string }>;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

describe.skipIf(!!tiny.skip)('CLIPSeg (tiny random graph in the CLIPSegForImageSegmentation layout)', () => {
  let seg: TextPromptedSegmenter;
  let ref: Ref;
  beforeAll(async () => {
    ref = JSON.parse(readFileSync(join(tiny.dir!, 'reference.json'), 'utf8')) as Ref;
    seg = await loadTextSegmenter(tiny.dir!);
  }, 60_000);
  afterAll(async () => seg?.dispose());

  it('loads as family clipseg; maps at 64x64 = PyTorch sigmoid(logits) (max |Δ| < 1e-4), two prompts in one batch', async () => {
    expect(seg.info.family).toBe('clipseg');
    expect(seg.threshold).toBe(0.5);
    const { view } = await prepareDenseInput(join(tiny.dir!, 'image.png'));
    const prompts = Object.keys(ref.prompts);
    const maps = await seg.segment([view, view], prompts);
    prompts.forEach((p, i) => {
      expect([maps[i].width, maps[i].height]).toEqual([64, 64]);
      expect(maxAbsDiff(maps[i].data, ref.prompts[p].prob)).toBeLessThan(1e-4);
    });
    expect(maxAbsDiff(maps[0].data, maps[1].data)).toBeGreaterThan(0.05); // the text really conditions the map
  });

  it('medvlm segment --model DIR: the probability map at the input resolution equals PyTorch\'s (max |Δ| < 1e-4); mask = p ≥ 0.5', async () => {
    const out = mkdtempSync(join(tmpdir(), 'medvlm-clipseg-cli-'));
    const r = await medvlmAsync(['segment', join(tiny.dir!, 'image.png'), '--text', 'lesion', '--model', tiny.dir!, '--out', out, '--format', 'npy', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [row] = JSON.parse(r.stdout) as Array<{ route: string; probability: string; maskPixels: number; width: number; height: number }>;
    expect(row.route).toBe('text-segmenter');
    expect([row.width, row.height]).toEqual([300, 200]);
    const npy = readFileSync(row.probability);
    const headerLen = npy.readUInt16LE(8);
    expect(npy.subarray(10, 10 + headerLen).toString('latin1')).toContain("'shape': (200, 300)");
    const body = npy.subarray(10 + headerLen);
    const got = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    const want = readF32(join(tiny.dir!, ref.prompts.lesion.full));
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
    expect(row.maskPixels).toBe(want.reduce((n, v) => n + (v >= 0.5 ? 1 : 0), 0));
  }, 120_000);
});
