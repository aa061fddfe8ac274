/**
 * medvlm-tiny's dense features (patch_embeds: the 6x6 grid through the image projection) reproduce a
 * PyTorch forward built from the ONNX initializers (training/dense_export.py), fp32 and q8; a model
 * without the output says so with E_MODEL_NO_DENSE.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/paths.js';
import { requireDense, type DualEncoder } from '../../src/models/capabilities.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { prepareInput } from '../../src/tasks/batch.js';
import { cosine, testModel } from '../models/fixtures.js';

const root = packageRoot();
const ref = JSON.parse(readFileSync(join(root, 'models/medvlm-tiny/reference/dense-parity.json'), 'utf8')) as {
  grid: [number, number];
  images: Record<string, number[][]>;
};
const files = Object.keys(ref.images);
let fp32: DualEncoder;
let q8: DualEncoder;

beforeAll(async () => {
  fp32 = await loadDualEncoder('medvlm-tiny');
  q8 = await loadDualEncoder('medvlm-tiny', { dtype: 'q8' });
});
afterAll(async () => {
  await fp32?.dispose();
  await q8?.dispose();
});

describe('medvlm-tiny dense features', () => {
  it('declares a 6x6 grid over a 96 px input', () => {
    const dense = requireDense(fp32);
    expect(dense.grid).toEqual({ rows: 6, cols: 6 });
    expect(dense.inputSize).toBe(96);
    expect(requireDense(q8).grid).toEqual({ rows: 6, cols: 6 });
  });

  it.each(files)('%s: every patch has cosine ≥ 0.9999 with PyTorch (fp32) and ≥ 0.999 (q8)', async (file) => {
    const view = (await prepareInput(join(root, 'samples', file), 0)).rgb!;
    const [f] = await requireDense(fp32).encodePatches([view]);
    const [q] = await requireDense(q8).encodePatches([view]);
    expect(f.patches).toHaveLength(36);
    let worst = 1;
    let worstQ = 1;
    f.patches.forEach((p, i) => {
      worst = Math.min(worst, cosine(p, ref.images[file][i]));
      worstQ = Math.min(worstQ, cosine(q.patches[i], ref.images[file][i]));
    });
    console.log(`[dense parity] ${file}: min patch cos fp32=${worst.toFixed(7)} q8=${worstQ.toFixed(5)}`);
    expect(worst).toBeGreaterThanOrEqual(0.9999);
    expect(worstQ).toBeGreaterThanOrEqual(0.999);
  });

  it('the mean patch embedding, normalised, is the pooled image embedding (same projection)', async () => {
    const view = (await prepareInput(join(root, 'samples', files[0]), 0)).rgb!;
    const [f] = await requireDense(fp32).encodePatches([view]);
    const [img] = await fp32.encodeImages([view]);
    // patches are normalised, so re-weight by the reference's norms to recover the unnormalised mean
    const norms = ref.images[files[0]].map((p) => Math.hypot(...p));
    const mean = new Float32Array(img.length);
    f.patches.forEach((p, i) => p.forEach((v, j) => (mean[j] += v * norms[i])));
    expect(cosine(mean, img)).toBeGreaterThan(0.9999);
  });

  it('a CLIP whose vision graph has no patch_embeds output says so (E_MODEL_NO_DENSE)', async () => {
    const clip = await loadDualEncoder(testModel('clip'));
    try {
      expect(clip.dense).toBeUndefined();
      expect(() => requireDense(clip)).toThrow(expect.objectContaining({ code: 'E_MODEL_NO_DENSE', message: expect.stringMatching(/no "patch_embeds" output/) }));
    } finally {
      await clip.dispose();
    }
  });
});
