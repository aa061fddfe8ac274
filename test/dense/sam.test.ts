/**
 * The SAM-family loader on tiny random graphs in transformers.js' SAM layout (test/support/build-tiny-sam.py):
 * iou scores, the chosen mask and its logits post-processed to a 300x200 image (resized to 64x43 and padded to
 * 64x64) equal an independent PyTorch implementation with Hugging Face's SamProcessor semantics, for point
 * prompts, a box with points and a box alone; prompts an export cannot take fail typed.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmenterPrompt } from '../../src/models/capabilities.js';
import { loadPromptableSegmenter, type SamSegmenter } from '../../src/models/sam.js';
import { tinySam } from '../support/tiny-sam.js';

const tiny = tinySam();
if (tiny.skip) console.warn(`[sam] skipped: ${tiny.skip}`);

interface RefCase {
  folder: 'points' | 'boxes';
  box?: [number, number, number, number];
  points?: Array<[number, number, number]>;
  iou_scores: number[];
  best: number;
  logits: string;
  mask_pixels: number;
}

describe.skipIf(!!tiny.skip)('SAM-family promptable segmenter (tiny random graphs)', () => {
  const seg: Partial<Record<'points' | 'boxes', SamSegmenter>> = {};
  let ref: { width: number; height: number; cases: Record<string, RefCase> };
  let image: { data: Uint8Array; width: number; height: number };
  beforeAll(async () => {
    ref = JSON.parse(readFileSync(join(tiny.dir!, 'reference.json'), 'utf8'));
    image = { data: new Uint8Array(readFileSync(join(tiny.dir!, 'image.rgb'))), width: ref.width, height: ref.height };
    seg.points = await loadPromptableSegmenter(join(tiny.dir!, 'points'));
    seg.boxes = await loadPromptableSegmenter(join(tiny.dir!, 'boxes'));
  }, 60_000);
  afterAll(async () => {
    await seg.points?.dispose();
    await seg.boxes?.dispose();
  });

  const promptOf = (c: RefCase): SegmenterPrompt => ({
    ...(c.box ? { box: c.box } : {}),
    ...(c.points ? { points: c.points.map(([x, y, label]) => ({ x, y, label: label as 0 | 1 })) } : {}),
  });

  for (const key of ['points', 'box+points', 'box']) {
    it(`${key}: iou scores, chosen mask and original-size logits equal PyTorch (max |Δ| < 1e-4)`, async () => {
      const c = ref.cases[key];
      const p = await seg[c.folder]!.predict(image, promptOf(c));
      expect([p.width, p.height]).toEqual([300, 200]);
      expect(p.iouScores).toHaveLength(3);
      p.iouScores.forEach((v, i) => expect(Math.abs(v - c.iou_scores[i])).toBeLessThan(1e-4));
      expect(p.maskIndex).toBe(c.best);
      const buf = readFileSync(join(tiny.dir!, c.logits));
      const want = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      expect(p.logits).toHaveLength(want.length);
      let worst = 0;
      want.forEach((w, j) => (worst = Math.max(worst, Math.abs(w - p.logits[j]))));
      expect(worst).toBeLessThan(1e-4);
      expect(p.logits.reduce((n, v) => n + (v > 0 ? 1 : 0), 0)).toBe(c.mask_pixels);
    });
  }

  it('segment(): probability = sigmoid(logit), the score is the chosen mask\'s predicted IoU, the prompt used is recorded', async () => {
    const c = ref.cases['box+points'];
    const r = await seg.boxes!.segment(image, promptOf(c));
    expect(r.score).toBeCloseTo(c.iou_scores[c.best], 4);
    expect(r.used).toEqual(promptOf(c));
    expect(r.notes).toEqual([]);
    expect(r.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('an export without input_boxes drops a box given with points (and says so); a box alone there, or no box for an export that requires one: E_BAD_OPTION', async () => {
    const c = ref.cases.points;
    const withBox = await seg.points!.segment(image, { ...promptOf(c), box: [10, 10, 100, 100] });
    expect(withBox.used).toEqual(promptOf(c));
    expect(withBox.notes.join(' ')).toMatch(/box not used.*no input_boxes/);
    const plain = await seg.points!.segment(image, promptOf(c));
    expect(withBox.data).toEqual(plain.data);
    await expect(seg.points!.segment(image, { box: [1, 2, 30, 40] })).rejects.toMatchObject({ code: 'E_BAD_OPTION', message: expect.stringMatching(/takes no boxes/) });
    await expect(seg.boxes!.segment(image, promptOf(c))).rejects.toMatchObject({ code: 'E_BAD_OPTION', message: expect.stringMatching(/needs a box/) });
  });

  it('a folder without the SAM graphs: E_MODEL_INVALID naming them; config.json of another model type: E_MODEL_NOT_SEGMENTER', async () => {
    await expect(loadPromptableSegmenter('medvlm-tiny')).rejects.toMatchObject({ code: 'E_MODEL_INVALID', message: expect.stringMatching(/missing onnx\/vision_encoder\.onnx, onnx\/prompt_encoder_mask_decoder\.onnx/) });
    const other = mkdtempSync(join(tmpdir(), 'medvlm-sam-other-'));
    cpSync(join(tiny.dir!, 'points'), other, { recursive: true });
    writeFileSync(join(other, 'config.json'), JSON.stringify({ model_type: 'clipseg' }));
    await expect(loadPromptableSegmenter(other)).rejects.toMatchObject({ code: 'E_MODEL_NOT_SEGMENTER', message: expect.stringMatching(/model_type "clipseg" is not a promptable segmenter/) });
  });
});
