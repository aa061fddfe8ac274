/**
 * Recipe 4 (PMC-CLIP) end to end against test/convert/reference_pmc.py: ModifiedResNet with a
 * 32-head attention pool (BatchNorm folded), PubMedBERT run without attention mask on texts padded
 * to 77, [CLS] × text_projection; a training checkpoint with `module.` prefixes, optimizer state and
 * training-only keys (fusion module, MLM head) that are dropped. The same weights with 8 pool heads
 * (what re-implementations use) give measurably different image embeddings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint, type ConvertResult } from '../../src/convert/convert.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { hasMedpix, hasOnnx, hasTorch, here, PYTHON, runPython, tempDir } from './helpers.js';
import { medpixSamples, minCosine, writePixelValues, writeVocab } from './fixtures.js';

const run = hasTorch && hasMedpix;
let root = '';
let result: ConvertResult;
let ref: { image: number[][]; image_8_heads: number[][]; text: number[][]; logit_scale: number };
let image: Float32Array[];
let text: Float32Array[];
let logitScale = 0;
let conversion: { ignored_keys: string[] };

beforeAll(async () => {
  if (!run) return;
  root = tempDir('pmc');
  const src = join(root, 'src');
  mkdirSync(src);
  const vocabPath = writeVocab(src);
  const vocab = readFileSync(vocabPath, 'utf8').trim().split('\n');
  const cfg = {
    seed: 31, embed_dim: 64, context_length: 77, pad_id: vocab.indexOf('[PAD]'), cls_id: vocab.indexOf('[CLS]'),
    vision: { image: 224, width: 16, layers: [2, 1, 2, 1] },
    text: { vocab: vocab.length, width: 128, layers: 2, mlp: 256, positions: 512 },
  };
  runPython('reference_pmc.py', ['make', src, JSON.stringify(cfg)]);
  result = convertCheckpoint({ source: src, out: join(root, 'out') });
  conversion = JSON.parse(readFileSync(join(result.out, 'conversion.json'), 'utf8'));
  const samples = await medpixSamples(16);
  const captions = [...samples.captions, samples.captions.slice(0, 4).join(' ')]; // the last one is over 77 tokens
  const dims = await writePixelValues(result.out, samples.images, join(root, 'pixels.f32'));
  writeFileSync(join(root, 'captions.json'), JSON.stringify(captions));
  writeFileSync(join(root, 'ids.json'), execFileSync(PYTHON, [here('wordpiece_ref.py'), vocabPath, join(root, 'captions.json')], { encoding: 'utf8' }));
  runPython('reference_pmc.py', ['run', src, join(root, 'pixels.f32'), String(dims[0]), join(root, 'ids.json'), join(root, 'ref.json')]);
  ref = JSON.parse(readFileSync(join(root, 'ref.json'), 'utf8'));
  const model = await loadDualEncoder(result.out);
  try {
    image = await model.encodeImages(samples.images);
    text = await model.encodeTexts(captions);
    logitScale = model.logitScale;
  } finally {
    await model.dispose();
  }
}, 600_000);
afterAll(() => { if (root) rmSync(root, { recursive: true, force: true }); });

describe.skipIf(!run)('PMC-CLIP layout (ModifiedResNet-50 + PubMedBERT) → medvlm', () => {
  it('detects the recipe, reads the sizes, drops the training-only keys', () => {
    expect(result.recipe).toBe('pmc-clip');
    expect(result.dims.vision).toMatchObject({ width: 16, heads: 32, imageSize: 224 });
    expect(result.unusedKeys).toEqual([]);
    for (const k of ['mlm_projection', 'img_special_token', 'positional_embedding', 'ln_final.weight', 'fusion_module.resblocks.0.attn.in_proj_weight', 'text_encoder.pooler.dense.weight', 'visual.bn1.num_batches_tracked']) {
      expect(conversion.ignored_keys).toContain(k);
    }
  });

  it('image and text embeddings match PyTorch (cosine ≥ 0.99999), logit scale exact', () => {
    console.log(`[parity] pmc-clip: image 1-cos ${(1 - minCosine(image, ref.image)).toExponential(1)}, text 1-cos ${(1 - minCosine(text, ref.text)).toExponential(1)}; 8-head pool vs official 32: min cosine ${minCosine(ref.image_8_heads, ref.image).toFixed(4)}`);
    expect(minCosine(image, ref.image)).toBeGreaterThanOrEqual(0.99999);
    expect(minCosine(text, ref.text)).toBeGreaterThanOrEqual(0.99999);
    expect(logitScale).toBe(ref.logit_scale);
  });

  it.skipIf(!hasOnnx)('the ResNet and padded-BERT graphs pass onnx.checker (full check)', () => {
    const check = 'import onnx, sys\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint("ok")';
    const files = ['text_model', 'vision_model'].map((f) => join(result.out, 'onnx', `${f}.onnx`));
    expect(execFileSync(PYTHON, ['-c', check, ...files], { encoding: 'utf8' }).trim()).toBe('ok');
  });

  it('32 attention-pool heads (official) and 8 heads give different embeddings from the same weights', () => {
    expect(minCosine(image, ref.image_8_heads)).toBeLessThan(0.999);
  });
});
