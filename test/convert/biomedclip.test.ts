/**
 * Recipe open_clip-timm-vit-hf-bert (BiomedCLIP) end to end: a random-initialised checkpoint with
 * the upstream key names (saved by the PyTorch reference, strict load), converted by
 * `convertCheckpoint`, then run through medvlm's own reader → view → processor → ONNX path on 16
 * real MedPix images and captions, against the PyTorch reference fed the same pixels and its own
 * independent WordPiece ids padded to the context length.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint, type ConvertResult } from '../../src/convert/convert.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import type { DenseFeatures, DualEncoder } from '../../src/models/capabilities.js';
import { hasMedpix, hasTorch, here, PYTHON, runPython, tempDir } from './helpers.js';
import { makeBiomedclipSource, medpixSamples, minCosine, minPatchCosine, SMALL_BIOMEDCLIP, writePixelValues } from './fixtures.js';
import { execFileSync } from 'node:child_process';

const run = hasTorch && hasMedpix;
let root = '';
let result: ConvertResult;
let model: DualEncoder;
let q8: DualEncoder;
let ref: { image: number[][]; text: number[][]; patches: number[][][]; logit_scale: number };
let mine: { image: Float32Array[]; text: Float32Array[]; imageQ8: Float32Array[]; textQ8: Float32Array[]; patches: DenseFeatures[]; patchesQ8: DenseFeatures[] };

beforeAll(async () => {
  if (!run) return;
  root = tempDir('biomedclip');
  const src = makeBiomedclipSource(join(root, 'src'), SMALL_BIOMEDCLIP);
  const vocabPath = join(src, 'vocab.txt');
  result = convertCheckpoint({ source: src, out: join(root, 'out'), dtypes: ['fp32', 'q8'] });

  const samples = await medpixSamples(16);
  const { images } = samples;
  // Plus one caption longer than the 256-token context: truncation must keep [SEP] as upstream tokenizers do.
  const captions = [...samples.captions, samples.captions.join(' ').repeat(3)];
  const dims = await writePixelValues(result.out, images, join(root, 'pixels.f32'));
  writeFileSync(join(root, 'captions.json'), JSON.stringify(captions));
  const ids = execFileSync(PYTHON, [here('wordpiece_ref.py'), vocabPath, join(root, 'captions.json')], { encoding: 'utf8' });
  writeFileSync(join(root, 'ids.json'), ids);
  runPython('reference_biomedclip.py', ['run', src, join(root, 'pixels.f32'), String(dims[0]), join(root, 'ids.json'), join(root, 'ref.json')]);
  ref = JSON.parse(readFileSync(join(root, 'ref.json'), 'utf8'));

  model = await loadDualEncoder(result.out);
  q8 = await loadDualEncoder(result.out, { dtype: 'q8' });
  mine = {
    image: await model.encodeImages(images),
    text: await model.encodeTexts(captions),
    imageQ8: await q8.encodeImages(images),
    textQ8: await q8.encodeTexts(captions),
    patches: await model.dense!.encodePatches(images.slice(0, 4)),
    patchesQ8: await q8.dense!.encodePatches(images.slice(0, 4)),
  };
}, 600_000);
afterAll(async () => {
  await model?.dispose();
  await q8?.dispose();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!run)('BiomedCLIP layout (open_clip timm ViT + HF BERT) → medvlm', () => {
  it('detects the recipe and reads the sizes from the weights', () => {
    expect(result.recipe).toBe('open_clip-timm-vit-hf-bert');
    expect(result.format).toBe('torch-zip');
    expect(result.dims.vision).toMatchObject({ width: 128, layers: 2, heads: 2, patch: 16, imageSize: 224, mlp: 512 });
    expect(result.dims.text).toMatchObject({ width: 128, layers: 2, heads: 2, positions: 512 });
    expect(result.dims.embedDim).toBe(64);
    expect(result.unusedKeys).toEqual([]);
    const conv = JSON.parse(readFileSync(join(result.out, 'conversion.json'), 'utf8'));
    expect(conv.ignored_keys).toEqual(['text.transformer.embeddings.position_ids']);
    expect(conv.source.files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(conv.context_length).toBe(256);
  });

  it('image embeddings match PyTorch on 16 MedPix images (cosine ≥ 0.99999)', () => {
    expect(mine.image).toHaveLength(16);
    console.log(`[parity] BiomedCLIP layout: image min cosine 1-cos ${(1 - minCosine(mine.image, ref.image)).toExponential(1)}, text 1-cos ${(1 - minCosine(mine.text, ref.text)).toExponential(1)}, q8 image ${minCosine(mine.imageQ8, mine.image).toFixed(5)}, q8 text ${minCosine(mine.textQ8, mine.text).toFixed(5)}`);
    expect(minCosine(mine.image, ref.image)).toBeGreaterThanOrEqual(0.99999);
  });

  it('text embeddings match PyTorch on 16 MedPix captions + one over 256 tokens (independent WordPiece, padded to 256)', () => {
    expect(minCosine(mine.text, ref.text)).toBeGreaterThanOrEqual(0.99999);
  });

  it('logit scale is exp(logit_scale) exactly', () => {
    expect(model.logitScale).toBe(ref.logit_scale);
  });

  it('patch_embeds: a 14×14 grid of dense features (timm norm on every token + head projection) that matches PyTorch on 4 images', () => {
    expect(mine.patches.map((p) => [p.rows, p.cols])).toEqual(Array(4).fill([14, 14]));
    expect(model.dense?.inputSize).toBe(224);
    const fp32 = minPatchCosine(mine.patches, ref.patches);
    const q8cos = minPatchCosine(mine.patchesQ8, ref.patches);
    console.log(`[parity] BiomedCLIP layout: patch_embeds min cosine fp32 ${fp32.toFixed(7)}, q8 ${q8cos.toFixed(5)}`);
    expect(fp32).toBeGreaterThanOrEqual(0.9999);
    expect(q8cos).toBeGreaterThan(0.98);
  });

  it('q8 stays close to fp32 (cosine ≥ 0.99)', () => {
    expect(minCosine(mine.imageQ8, mine.image)).toBeGreaterThan(0.99);
    expect(minCosine(mine.textQ8, mine.text)).toBeGreaterThan(0.99);
  });
});
