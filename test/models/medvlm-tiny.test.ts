/**
 * The bundled model, run through medvlm's own loading and preprocessing code (reader → view → the model's
 * processor), reproduces the PyTorch model's embeddings committed in models/medvlm-tiny/reference/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/paths.js';
import type { DualEncoder } from '../../src/models/capabilities.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import type { TransformersDualEncoder } from '../../src/models/transformers-dual-encoder.js';
import { prepareInput } from '../../src/tasks/batch.js';
import { cosine } from './fixtures.js';

const root = packageRoot();
const ref = JSON.parse(readFileSync(join(root, 'models/medvlm-tiny/reference/embeddings.json'), 'utf8')) as {
  logit_scale: number;
  images: Record<string, number[]>;
  texts: Record<string, number[]>;
  input_ids: Record<string, number[]>;
};
const files = Object.keys(ref.images);
const texts = Object.keys(ref.texts);

let fp32: DualEncoder;
let q8: DualEncoder;
let fp32Images: Float32Array[];

beforeAll(async () => {
  fp32 = await loadDualEncoder('medvlm-tiny');
  q8 = await loadDualEncoder('medvlm-tiny', { dtype: 'q8' });
  const views = await Promise.all(files.map(async (f) => (await prepareInput(join(root, 'samples', f), 0)).rgb!));
  fp32Images = await fp32.encodeImages(views);
});
afterAll(async () => {
  await fp32?.dispose();
  await q8?.dispose();
});

describe('medvlm-tiny parity with its PyTorch reference', () => {
  it('is the default bundled model with the trained logit scale from config.json', () => {
    expect(fp32.info.family).toBe('clip');
    expect(fp32.scoring).toBe('softmax');
    expect(fp32.logitScale).toBeCloseTo(ref.logit_scale, 5);
    expect(fp32.info.embedDim).toBe(ref.images[files[0]].length);
  });

  it.each(files)('image %s: cosine ≥ 0.9999 with PyTorch', (file) => {
    const c = cosine(fp32Images[files.indexOf(file)], ref.images[file]);
    console.log(`[medvlm-tiny parity] ${file}: cos=${c.toFixed(7)}`);
    expect(c).toBeGreaterThanOrEqual(0.9999);
  });

  it('texts: same token ids and cosine ≥ 0.9999 with PyTorch', async () => {
    const embs = await fp32.encodeTexts(texts);
    texts.forEach((t, i) => {
      expect((fp32 as TransformersDualEncoder).tokenize(t)).toEqual(ref.input_ids[t]);
      expect(cosine(embs[i], ref.texts[t])).toBeGreaterThanOrEqual(0.9999);
    });
  });

  it('q8 weights stay within cosine 0.99 of fp32', async () => {
    const views = await Promise.all(files.map(async (f) => (await prepareInput(join(root, 'samples', f), 0)).rgb!));
    const qi = await q8.encodeImages(views);
    const qt = await q8.encodeTexts(texts);
    const ft = await fp32.encodeTexts(texts);
    qi.forEach((e, i) => expect(cosine(e, fp32Images[i])).toBeGreaterThanOrEqual(0.99));
    qt.forEach((e, i) => expect(cosine(e, ft[i])).toBeGreaterThanOrEqual(0.99));
  });
});
