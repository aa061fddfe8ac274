/**
 * Local generation with a tiny random LLaVA in the exact transformers.js image-text-to-text layout
 * (vision_encoder, embed_tokens, decoder_model_merged with past key values): the processor's
 * image-token expansion, the chat template, the merge of image features and the cached decoding are
 * checked token for token against an independent PyTorch implementation without a cache.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationResult, RGBImage, VisionLanguageGenerator } from '../../src/models/capabilities.js';
import { loadGenerator } from '../../src/models/generators.js';
import { buildLlavaFolder, LLAVA_TOKENS, llavaVocabulary, TINY_LLAVA } from './support/llava-builder.js';

const PYTHON = '/usr/bin/python3';
const HERE = fileURLToPath(new URL('.', import.meta.url));
const MODEL_DIR = fileURLToPath(new URL('../.models/tiny-llava', import.meta.url));
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) console.log('[skip] llava parity: /usr/bin/python3 with torch and onnx (Debian python3-torch, python3-onnx) is not installed');

const tmp = mkdtempSync(join(tmpdir(), 'medvlm-llava-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const vocab = llavaVocabulary();
const IMAGE_TOKENS = (TINY_LLAVA.imageSize / TINY_LLAVA.patchSize) ** 2;

/** Prompt ids the chat template and processor must produce: BOS, the image tokens, "findings :", the words. */
function expectedPromptIds(prompt: string): number[] {
  const words = ['findings', ':', ...prompt.split(' ').filter(Boolean)].map((w) => {
    const id = vocab.indexOf(w);
    if (id < 0) throw new Error(`"${w}" is not a whole word of the test vocabulary`);
    return id;
  });
  return [LLAVA_TOKENS.bos, ...Array<number>(IMAGE_TOKENS).fill(LLAVA_TOKENS.image), ...words];
}

function view(seed: number): RGBImage {
  const data = new Uint8Array(32 * 32 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * (7 + seed * 6) + seed * 50) % 256;
  return { data, width: 32, height: 32 };
}

let gen: VisionLanguageGenerator;
beforeAll(async () => {
  buildLlavaFolder(MODEL_DIR);
  gen = await loadGenerator(MODEL_DIR, { threads: 1 });
});
afterAll(() => gen?.dispose());

describe('llava (transformers.js) vs PyTorch', () => {
  it.skipIf(!hasTorch)('greedy decoding matches token for token', async () => {
    const prompts = ['chest x ray', 'no mass in the left lung ?'];
    for (const seed of [1, 2]) {
      const image = view(seed);
      const ours: GenerationResult[] = [];
      for (const p of prompts) ours.push(await gen.generate({ images: [image], prompt: p }, { maxTokens: 16 }));
      const rgb = join(tmp, `rgb-${seed}.raw`);
      writeFileSync(rgb, image.data);
      const req = join(tmp, 'request.json');
      writeFileSync(req, JSON.stringify({ rgb, height: 32, width: 32, eos: LLAVA_TOKENS.eos, requests: prompts.map((p) => ({ input_ids: expectedPromptIds(p), max_new_tokens: 16 })) }));
      const r = spawnSync(PYTHON, [join(HERE, 'support/llava_reference.py'), MODEL_DIR, req], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const ref = (JSON.parse(r.stdout) as { results: Array<{ ids: number[]; min_margin: number }> }).results;
      prompts.forEach((p, i) => {
        expect(ours[i].usage.promptTokens, `prompt length for "${p}"`).toBe(expectedPromptIds(p).length);
        expect(ours[i].tokens, `image ${seed} / "${p}"`).toEqual(ref[i].ids);
        if (process.env.MEDVLM_TEST_VERBOSE) console.log(seed, JSON.stringify(p), ref[i].ids.length, 'tokens, min margin', ref[i].min_margin.toFixed(4));
        expect(ref[i].min_margin).toBeGreaterThan(1e-3);
      });
    }
  });

  it('the image changes the answer (features reach the decoder) and text streams', async () => {
    const pieces: string[] = [];
    const a = await gen.generate({ images: [view(1)], prompt: 'chest x ray' }, { maxTokens: 10, onText: (t) => pieces.push(t) });
    const b = await gen.generate({ images: [view(2)], prompt: 'chest x ray' }, { maxTokens: 10 });
    expect(a.tokens).not.toEqual(b.tokens);
    expect(pieces.join('')).toBe(a.text);
    expect(a.image.kind).toBe('local');
  });
});
