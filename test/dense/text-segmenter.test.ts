/**
 * The text-prompted segmenter loader on a tiny random graph in the medvlm-tiny-seg contract: probabilities
 * = sigmoid of PyTorch's logits for the same image and prompt; wrong model kinds and folders fail typed.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TextPromptedSegmenter } from '../../src/models/capabilities.js';
import { loadTextSegmenter } from '../../src/models/text-segmenter.js';
import { tinySegmenter } from '../support/tiny-segmenter.js';

const tiny = tinySegmenter();
if (tiny.skip) console.warn(`[text-segmenter] skipped: ${tiny.skip}`);

describe.skipIf(!!tiny.skip)('medvlm-text-segmenter contract (tiny random graph)', () => {
  let seg: TextPromptedSegmenter;
  let ref: { image_rgb: number[]; size: number; prompts: Record<string, { input_ids: number[]; logits: number[] }> };
  beforeAll(async () => {
    seg = await loadTextSegmenter(tiny.dir!);
    ref = JSON.parse(readFileSync(join(tiny.dir!, 'reference.json'), 'utf8'));
  });
  afterAll(async () => seg?.dispose());

  it('reads threshold and prompts from config.json', () => {
    expect(seg.threshold).toBe(0.5);
    expect(seg.prompts).toEqual({ lesion: 'a lesion', polyp: 'a polyp' });
    expect(seg.info.family).toBe('medvlm-text-segmenter');
    expect(Object.keys(seg.info.fileHashes)).toContain('onnx/model.onnx');
  });

  it('probabilities = sigmoid(PyTorch logits) within 1e-5, batched with two prompts', async () => {
    const img = { data: Uint8Array.from(ref.image_rgb), width: ref.size, height: ref.size };
    const prompts = Object.keys(ref.prompts);
    const maps = await seg.segment([img, img], prompts);
    prompts.forEach((p, i) => {
      expect([maps[i].width, maps[i].height]).toEqual([8, 8]);
      const want = ref.prompts[p].logits.map((l) => 1 / (1 + Math.exp(-l)));
      let worst = 0;
      want.forEach((w, j) => (worst = Math.max(worst, Math.abs(w - maps[i].data[j]))));
      expect(worst).toBeLessThan(1e-5);
    });
    // the two prompts give different maps (the text really conditions the output)
    expect(maps[0].data.some((v, j) => Math.abs(v - maps[1].data[j]) > 1e-3)).toBe(true);
  });

  it('a dual encoder is not a segmenter: E_MODEL_NOT_SEGMENTER; a folder without model.onnx: E_MODEL_INVALID', async () => {
    await expect(loadTextSegmenter('medvlm-tiny')).rejects.toMatchObject({ code: 'E_MODEL_NOT_SEGMENTER', message: expect.stringMatching(/model_type "clip" is not a text-prompted segmenter/) });
    const broken = mkdtempSync(join(tmpdir(), 'medvlm-seg-broken-'));
    cpSync(tiny.dir!, broken, { recursive: true });
    rmSync(join(broken, 'onnx', 'model.onnx'));
    await expect(loadTextSegmenter(broken)).rejects.toMatchObject({ code: 'E_MODEL_INVALID', message: expect.stringMatching(/missing onnx\/model\.onnx/) });
  });
});
