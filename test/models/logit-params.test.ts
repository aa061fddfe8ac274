/** How logit scale/bias are found: config.json block, joint-model derivation, family defaults. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDualEncoder } from '../../src/models/registry.js';
import { fitLogits, logitsFromConfig } from '../../src/models/logit-params.js';
import type { DualEncoderInfo } from '../../src/models/transformers-dual-encoder.js';
import { buildDualEncoderFolder, TINY_CLIP, TINY_SIGLIP } from '../support/onnx/clip-builder.js';

const root = mkdtempSync(join(tmpdir(), 'medvlm-logits-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('logit parameters', () => {
  it('fitLogits recovers s and b exactly from noiseless pairs, and refuses constant cosines', () => {
    const cos = [0.1, -0.3, 0.25, 0.9];
    const withBias = fitLogits(cos, cos.map((c) => 7.5 * c - 2), true)!;
    expect(withBias.scale).toBeCloseTo(7.5, 12);
    expect(withBias.bias).toBeCloseTo(-2, 12);
    const noBias = fitLogits(cos, cos.map((c) => 100 * c), false)!;
    expect(noBias.scale).toBeCloseTo(100, 10);
    expect(noBias.bias).toBe(0);
    expect(fitLogits([0.5, 0.5], [1, 1], true)).toBeUndefined();
  });

  it('reads the medvlm block of config.json (scale is the multiplier)', () => {
    expect(logitsFromConfig({ medvlm: { logit_scale: 55.5, logit_bias: -3 } })).toEqual({ scale: 55.5, bias: -3, source: 'config' });
    expect(logitsFromConfig({ medvlm: { logit_scale: -1 } })).toBeUndefined();
    expect(logitsFromConfig({})).toBeUndefined();
  });

  it('prefers the config.json block over the joint model', async () => {
    const folder = buildDualEncoderFolder(join(root, 'siglip-block'), { ...TINY_SIGLIP, medvlmBlock: true, files: { q8: false } });
    const m = await loadDualEncoder(folder);
    expect((m.info as DualEncoderInfo).logitSource).toBe('config');
    expect(m.logitScale).toBeCloseTo(Math.exp(TINY_SIGLIP.logitScaleLog), 12);
    expect(m.logitBias).toBe(TINY_SIGLIP.logitBias);
    expect(m.info.fileHashes['onnx/model.onnx']).toBeUndefined();
    await m.dispose();
  });

  it('falls back to the family initial values without a joint model, and says so', async () => {
    const clip = await loadDualEncoder(buildDualEncoderFolder(join(root, 'clip-nojoint'), { ...TINY_CLIP, files: { joint: false, q8: false } }));
    const info = clip.info as DualEncoderInfo;
    expect(info.logitSource).toBe('default');
    expect(clip.logitScale).toBeCloseTo(Math.exp(2.6592), 10);
    expect(clip.logitBias).toBe(0);
    expect(info.notes.join(' ')).toMatch(/logit_scale_init_value/);
    await clip.dispose();

    const siglip = await loadDualEncoder(buildDualEncoderFolder(join(root, 'siglip-nojoint'), { ...TINY_SIGLIP, files: { joint: false, q8: false } }));
    expect(siglip.logitScale).toBe(10);
    expect(siglip.logitBias).toBe(-10);
    await siglip.dispose();
  });

  it('a q8-only joint model still gives the exact scale/bias (computed from its own embeddings)', async () => {
    const folder = buildDualEncoderFolder(join(root, 'siglip-q8'), TINY_SIGLIP);
    rmSync(join(folder, 'onnx', 'model.onnx'));
    const m = await loadDualEncoder(folder, { dtype: 'fp32' });
    expect(m.info.fileHashes['onnx/model_quantized.onnx']).toMatch(/^[0-9a-f]{64}$/);
    expect(m.logitScale).toBeCloseTo(10, 4);
    expect(m.logitBias).toBeCloseTo(-4.5, 4);
    await m.dispose();
  });
});
