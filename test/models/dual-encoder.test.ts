/**
 * The tiny CLIP and SigLIP models through the real runtime (transformers.js + onnxruntime-node):
 * pinned embeddings, unit norms, parity with the independent PyTorch reference
 * (test/support/onnx/reference.py), token ids, q8 vs fp32, logit scale/bias derivation, batching
 * and padding invariance, threads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDualEncoder } from '../../src/models/registry.js';
import type { DualEncoder } from '../../src/models/capabilities.js';
import type { DualEncoderInfo, TransformersDualEncoder } from '../../src/models/transformers-dual-encoder.js';
import { REFERENCE, cosine, maxAbsDiff, norm, syntheticImage, testModel } from './fixtures.js';
import { TINY_CLIP, TINY_SIGLIP } from '../support/onnx/clip-builder.js';

interface FamilyCase {
  name: 'clip' | 'siglip';
  scoring: 'softmax' | 'sigmoid';
  builder: typeof TINY_CLIP;
  pinnedImage: number[];
  pinnedTexts: number[][];
}

const CASES: FamilyCase[] = [
  {
    name: 'clip',
    scoring: 'softmax',
    builder: TINY_CLIP,
    pinnedImage: [-0.58791995, -0.2195944, 0.16658773, 0.35572967],
    pinnedTexts: [
      [0.01760594, -0.08662242, 0.26755828, -0.29010296],
      [-0.25026554, 0.01347318, 0.51281399, 0.18181629],
    ],
  },
  {
    name: 'siglip',
    scoring: 'sigmoid',
    builder: TINY_SIGLIP,
    pinnedImage: [0.06835023, 0.09373448, 0.11949588, -0.54761803],
    pinnedTexts: [
      [0.0796835, -0.29739329, -0.30447191, -0.13647294],
      [0.15885679, -0.26279154, -0.37735999, -0.07422652],
    ],
  },
];

function expectClose(actual: ArrayLike<number>, expected: number[], tol: number): void {
  expect(actual.length).toBeGreaterThanOrEqual(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThan(tol);
}

describe.each(CASES)('tiny $name dual encoder', (c) => {
  const ref = REFERENCE.models[`tiny-${c.name}`];
  let model: DualEncoder;
  let image: Float32Array;
  let texts: Float32Array[];

  beforeAll(async () => {
    model = await loadDualEncoder(testModel(c.name));
    [image] = await model.encodeImages([syntheticImage()]);
    texts = await model.encodeTexts(ref.texts);
  });
  afterAll(async () => model?.dispose());

  it('declares its family, scoring rule and embedding size', () => {
    const info = model.info as DualEncoderInfo;
    expect(model.scoring).toBe(c.scoring);
    expect(info.family).toBe(c.name);
    expect(info.embedDim).toBe(c.builder.embedDim);
    expect(info.source).toBe('folder');
    expect(info.location).toBe(testModel(c.name));
    expect(info.dtype).toBe('fp32');
  });

  it('pins the first embedding values (1e-5) and unit norms (1e-6)', async () => {
    expectClose(image, c.pinnedImage, 1e-5);
    expectClose(texts[0], c.pinnedTexts[0], 1e-5);
    expectClose(texts[1], c.pinnedTexts[1], 1e-5);
    for (const e of [image, ...texts]) expect(Math.abs(norm(e) - 1)).toBeLessThan(1e-6);
  });

  it('resizes like Pillow: a 48x40 image matches PyTorch on Pillow-preprocessed pixels (cosine >= 0.99999)', async () => {
    const [resized] = await model.encodeImages([syntheticImage(48, 40)]);
    expect((model.info as DualEncoderInfo).preprocessing).toBe('medvlm');
    expect(Math.abs(norm(resized) - 1)).toBeLessThan(1e-6);
    const cos = cosine(resized, ref.image_embeds_48x40);
    console.log(`[parity ${c.name}] 48x40 via Pillow-exact preprocessing: 1-cos=${(1 - cos).toExponential(2)}`);
    expect(cos).toBeGreaterThanOrEqual(0.99999);
  });

  it('matches the PyTorch reference (cosine >= 0.99999)', () => {
    const cosImage = cosine(image, ref.image_embeds);
    const cosTexts = texts.map((t, i) => cosine(t, ref.text_embeds[i]));
    console.log(
      `[parity ${c.name}] image 1-cos=${(1 - cosImage).toExponential(2)} maxAbs=${maxAbsDiff(image, ref.image_embeds).toExponential(2)}; ` +
        `texts 1-cos=${cosTexts.map((x) => (1 - x).toExponential(2)).join(', ')}`,
    );
    expect(cosImage).toBeGreaterThanOrEqual(0.99999);
    for (const x of cosTexts) expect(x).toBeGreaterThanOrEqual(0.99999);
    expect(maxAbsDiff(image, ref.image_embeds)).toBeLessThan(1e-5);
  });

  it('tokenizes like the reference WordPiece, with pinned ids', () => {
    const m = model as TransformersDualEncoder;
    expect(ref.texts.map((t) => m.tokenize(t))).toEqual(ref.token_ids);
    // [CLS] a photo of a chest x - ray [SEP]
    expect(m.tokenize('a photo of a chest x-ray')).toEqual([2, 19, 23, 22, 19, 37, 38, 7, 39, 3]);
    expect(m.tokenize('Pneumothorax, left lung')).toEqual([2, 72, 6, 82, 46, 3]);
  });

  it('derives logit scale and bias from the joint model, equal to the values in the graph', () => {
    const info = model.info as DualEncoderInfo;
    expect(info.logitSource).toBe('joint-model');
    expect(info.fileHashes['onnx/model.onnx']).toMatch(/^[0-9a-f]{64}$/);
    expect(Math.abs(model.logitScale - ref.logit_scale) / ref.logit_scale).toBeLessThan(1e-5);
    expect(Math.abs(model.logitScale - Math.exp(c.builder.logitScaleLog))).toBeLessThan(1e-4);
    expect(Math.abs(model.logitBias - (c.name === 'siglip' ? c.builder.logitBias : 0))).toBeLessThan(1e-4);
  });

  it('records sha256 of the loaded files', () => {
    const path = join(testModel(c.name), 'onnx/text_model.onnx');
    const expected = createHash('sha256').update(readFileSync(path)).digest('hex');
    expect(model.info.fileHashes['onnx/text_model.onnx']).toBe(expected);
    expect(Object.keys(model.info.fileHashes)).toEqual(
      expect.arrayContaining(['config.json', 'tokenizer.json', 'onnx/vision_model.onnx']),
    );
  });

  it('gives the same embedding alone and inside a padded batch', async () => {
    const batchImages = await model.encodeImages([syntheticImage(40, 40), syntheticImage(), syntheticImage(64, 20)]);
    expect(maxAbsDiff(batchImages[1], image)).toBeLessThan(1e-5);
    const long = 'normal chest x-ray without evidence of pneumonia or effusion';
    const [alone] = await model.encodeTexts([ref.texts[1]]);
    const batch = await model.encodeTexts([long, ref.texts[1], 'ct']);
    expect(maxAbsDiff(batch[1], alone)).toBeLessThan(1e-5);
    expect(maxAbsDiff(batch[1], texts[1])).toBeLessThan(1e-5);
    expect(cosine(batch[0], batch[2])).toBeLessThan(0.999);
  });

  it('q8 weights stay close to fp32 (cosine >= 0.99)', async () => {
    const q8 = await loadDualEncoder(testModel(c.name), { dtype: 'q8' });
    try {
      expect(q8.info.dtype).toBe('q8');
      expect(Object.keys(q8.info.fileHashes)).toContain('onnx/text_model_quantized.onnx');
      const [qi] = await q8.encodeImages([syntheticImage()]);
      const qt = await q8.encodeTexts(ref.texts);
      const cosImage = cosine(qi, image);
      const cosTexts = qt.map((t, i) => cosine(t, texts[i]));
      console.log(`[q8 ${c.name}] image cos=${cosImage.toFixed(6)} texts cos=${cosTexts.map((x) => x.toFixed(6)).join(', ')}`);
      expect(cosImage).toBeGreaterThanOrEqual(0.99);
      for (const x of cosTexts) expect(x).toBeGreaterThanOrEqual(0.99);
      // Quantized, so not bit-identical to fp32.
      expect(maxAbsDiff(qi, image)).toBeGreaterThan(1e-7);
      expect(Math.abs(q8.logitScale - model.logitScale)).toBeLessThan(1e-3);
    } finally {
      await q8.dispose();
    }
  });

  it('threads: 1 and the default give identical embeddings (1e-6)', async () => {
    const single = await loadDualEncoder(testModel(c.name), { threads: 1 });
    try {
      expect((single.info as DualEncoderInfo).threads).toBe(1);
      const [si] = await single.encodeImages([syntheticImage()]);
      const st = await single.encodeTexts(ref.texts);
      expect(maxAbsDiff(si, image)).toBeLessThan(1e-6);
      st.forEach((t, i) => expect(maxAbsDiff(t, texts[i])).toBeLessThan(1e-6));
    } finally {
      await single.dispose();
    }
  });
});
