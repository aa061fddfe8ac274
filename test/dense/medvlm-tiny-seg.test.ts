/**
 * The shipped medvlm-tiny-seg (trained elsewhere in this repo) through medvlm's own loader and preprocessing:
 * logits = PyTorch's reference/parity.json (statistics and a strided sample) within its stated tolerance.
 * Skips with a message while models/medvlm-tiny-seg/onnx/model.onnx is absent (it lands with the model).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/paths.js';
import type { TextPromptedSegmenter } from '../../src/models/capabilities.js';
import { loadTextSegmenter } from '../../src/models/text-segmenter.js';
import { prepareInput } from '../../src/tasks/batch.js';

const root = packageRoot();
const folder = join(root, 'models', 'medvlm-tiny-seg');
const data = join(root, '..', 'shared', 'data');
const present = existsSync(join(folder, 'onnx', 'model.onnx')) && existsSync(join(folder, 'reference', 'parity.json'));
if (!present) console.warn('[medvlm-tiny-seg] skipped: models/medvlm-tiny-seg/onnx/model.onnx or reference/parity.json not in this checkout yet');

interface ParityInput {
  id: string;
  image: string;
  prompt: string;
  input_ids: number[];
  logits: { dims: number[]; mean: number; std: number; min: number; max: number; stride: number; sample: number[] };
}

describe.skipIf(!present)('medvlm-tiny-seg parity with PyTorch', () => {
  let seg: TextPromptedSegmenter;
  let ref: { tolerance_logits_max_abs: number; threshold: number; inputs: ParityInput[] };
  beforeAll(async () => {
    seg = await loadTextSegmenter(folder);
    ref = JSON.parse(readFileSync(join(folder, 'reference', 'parity.json'), 'utf8'));
  });
  afterAll(async () => seg?.dispose());

  it('is a medvlm-text-segmenter with the reference threshold', () => {
    expect(seg.info.family).toBe('medvlm-text-segmenter');
    expect(seg.threshold).toBe(ref.threshold);
  });

  it('every reference input: strided logits within the stated tolerance (through sigmoid), same mean', async () => {
    for (const input of ref.inputs) {
      const path = input.image.startsWith('data:') ? join(data, input.image.slice(5)) : join(root, input.image);
      if (!existsSync(path)) {
        console.warn(`[medvlm-tiny-seg] ${input.id}: ${path} absent, skipped`);
        continue;
      }
      const view = (await prepareInput(path, 0)).rgb!;
      const [p] = await seg.segment([view], [input.prompt]);
      const logits = Array.from(p.data, (v) => Math.log(v / (1 - v)));
      expect([p.height, p.width]).toEqual(input.logits.dims.slice(-2));
      let worst = 0;
      input.logits.sample.forEach((want, j) => (worst = Math.max(worst, Math.abs(logits[j * input.logits.stride] - want))));
      const mean = logits.reduce((a, b) => a + b, 0) / logits.length;
      console.log(`[medvlm-tiny-seg parity] ${input.id}: max |Δlogit| ${worst.toExponential(2)}, mean ${mean.toFixed(5)} vs ${input.logits.mean.toFixed(5)}`);
      expect(worst).toBeLessThanOrEqual(ref.tolerance_logits_max_abs);
      expect(Math.abs(mean - input.logits.mean)).toBeLessThan(1e-3);
    }
  });
});
