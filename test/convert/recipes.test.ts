/**
 * Recipes 2 and 3 end to end, each against its own PyTorch reference (test/convert/reference_clip.py,
 * written from the upstream module structure, strict load with the upstream key names):
 *  - open_clip-vit-hf-bert (UniMed-CLIP): .pt training checkpoint, `state_dict` wrapper, `module.` prefixes;
 *  - open_clip-vit-clip-text (OpenAI CLIP via open_clip): open_clip_model.safetensors, causal text tower;
 *  - hf-clip (PubMedCLIP): Hugging Face CLIPModel, pytorch_model.bin in the legacy torch.save format.
 * 16 MedPix images and captions through medvlm's reader → view → processor → ONNX path; cosine ≥ 0.99999.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint, type ConvertResult } from '../../src/convert/convert.js';
import { parseVocab, wordPieceTokenizerConfig, wordPieceTokenizerJson } from '../../src/convert/tokenizer.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { hasMedpix, hasTorch, here, PYTHON, runPython, tempDir } from './helpers.js';
import { medpixSamples, minCosine, minPatchCosine, writePixelValues, writeVocab } from './fixtures.js';
import type { DenseFeatures, RGBImage } from '../../src/models/capabilities.js';

const run = hasTorch && hasMedpix;
let root = '';
let samples: { images: RGBImage[]; captions: string[] };

beforeAll(async () => {
  if (!run) return;
  root = tempDir('recipes');
  samples = await medpixSamples(16);
}, 120_000);
afterAll(() => { if (root) rmSync(root, { recursive: true, force: true }); });

interface Case {
  kind: 'unimed' | 'openai' | 'hfclip';
  recipe: string;
  format: string;
  /** Put [SEP] at the last id (open_clip pools at argmax(ids), the end-of-text token). */
  sepLast?: boolean;
  /** Write the source's own tokenizer.json + tokenizer_config.json (CLIP-text recipes copy them). */
  tokenizerJson?: boolean;
  cfg: Record<string, unknown>;
}

const CASES: Case[] = [
  {
    kind: 'unimed', recipe: 'open_clip-vit-hf-bert', format: 'torch-zip',
    cfg: { seed: 21, embed_dim: 64, context_length: 256, pad_id: 0, vision: { image: 224, patch: 16, width: 128, layers: 2 }, text: { width: 128, layers: 2, mlp: 256, positions: 512 } },
  },
  {
    kind: 'openai', recipe: 'open_clip-vit-clip-text', format: 'safetensors', sepLast: true, tokenizerJson: true,
    cfg: { seed: 22, embed_dim: 64, context_length: 77, pad_id: 0, vision: { image: 224, patch: 16, width: 128, layers: 2 }, text: { width: 128, layers: 2, positions: 77 } },
  },
  {
    kind: 'hfclip', recipe: 'hf-clip', format: 'torch-legacy', tokenizerJson: true,
    cfg: { seed: 23, embed_dim: 64, context_length: 77, pad_id: 0, vision: { image: 224, patch: 32, width: 128, layers: 2 }, text: { width: 128, layers: 2, positions: 77 } },
  },
];

describe.skipIf(!run).each(CASES)('recipe $recipe ($kind reference)', (c) => {
  let result: ConvertResult;
  let ref: { image: number[][]; text: number[][]; patches: number[][][]; logit_scale: number };
  let image: Float32Array[];
  let text: Float32Array[];
  let patches: DenseFeatures[];
  let logitScale = 0;

  beforeAll(async () => {
    const src = join(root, c.kind);
    mkdirSync(src, { recursive: true });
    const vocabPath = writeVocab(src);
    let vocab = parseVocab(readFileSync(vocabPath, 'utf8'), vocabPath);
    if (c.sepLast) {
      const sep = vocab.indexOf('[SEP]');
      vocab = [...vocab];
      [vocab[sep], vocab[vocab.length - 1]] = [vocab[vocab.length - 1], vocab[sep]];
      writeFileSync(vocabPath, `${vocab.join('\n')}\n`);
    }
    if (c.tokenizerJson) {
      const s = { lowercase: true, stripAccents: null, contextLength: 77 };
      writeFileSync(join(src, 'tokenizer.json'), JSON.stringify(wordPieceTokenizerJson(vocab, s)));
      writeFileSync(join(src, 'tokenizer_config.json'), JSON.stringify(wordPieceTokenizerConfig(s)));
    }
    const cfg = { ...c.cfg, text: { ...(c.cfg.text as object), vocab: vocab.length }, eos_id: vocab.indexOf('[SEP]') };
    runPython('reference_clip.py', ['make', c.kind, src, JSON.stringify(cfg)]);
    result = convertCheckpoint({ source: src, out: join(root, `${c.kind}-out`) });
    const dims = await writePixelValues(result.out, samples.images, join(root, `${c.kind}.f32`));
    writeFileSync(join(root, `${c.kind}-captions.json`), JSON.stringify(samples.captions));
    writeFileSync(join(root, `${c.kind}-ids.json`), execFileSync(PYTHON, [here('wordpiece_ref.py'), vocabPath, join(root, `${c.kind}-captions.json`)], { encoding: 'utf8' }));
    runPython('reference_clip.py', ['run', c.kind, src, join(root, `${c.kind}.f32`), String(dims[0]), join(root, `${c.kind}-ids.json`), join(root, `${c.kind}-ref.json`)]);
    ref = JSON.parse(readFileSync(join(root, `${c.kind}-ref.json`), 'utf8'));
    const model = await loadDualEncoder(result.out);
    try {
      image = await model.encodeImages(samples.images);
      text = await model.encodeTexts(samples.captions);
      patches = await model.dense!.encodePatches(samples.images.slice(0, 4));
      logitScale = model.logitScale;
    } finally {
      await model.dispose();
    }
  }, 600_000);

  it('detects the recipe and format', () => {
    expect(result.recipe).toBe(c.recipe);
    expect(result.format).toBe(c.format);
    expect(result.unusedKeys).toEqual([]);
  });

  it('image and text embeddings match PyTorch on 16 MedPix images and captions (cosine ≥ 0.99999); logit scale exact', () => {
    console.log(`[parity] ${c.recipe}: image 1-cos ${(1 - minCosine(image, ref.image)).toExponential(1)}, text 1-cos ${(1 - minCosine(text, ref.text)).toExponential(1)}`);
    expect(minCosine(image, ref.image)).toBeGreaterThanOrEqual(0.99999);
    expect(minCosine(text, ref.text)).toBeGreaterThanOrEqual(0.99999);
    expect(logitScale).toBe(ref.logit_scale);
  });

  it('patch_embeds: the image/patch grid of dense features matches PyTorch on 4 MedPix images (cosine ≥ 0.9999 per patch)', () => {
    const v = c.cfg.vision as { image: number; patch: number };
    const side = v.image / v.patch;
    expect(patches.map((p) => [p.rows, p.cols])).toEqual(Array(4).fill([side, side]));
    const cos = minPatchCosine(patches, ref.patches);
    console.log(`[parity] ${c.recipe}: patch_embeds min cosine ${cos.toFixed(7)}`);
    expect(cos).toBeGreaterThanOrEqual(0.9999);
  });
});
