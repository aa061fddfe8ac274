/**
 * Local generation with transformers.js on a tiny random vision-encoder-decoder in the exact
 * layout transformers.js loads: greedy decoding token for token against an independent PyTorch
 * implementation (no cache, recomputed every step), streaming, stop strings, q8, folder errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/core/errors.js';
import type { GenerationResult, RGBImage, VisionLanguageGenerator } from '../../src/models/capabilities.js';
import { loadGenerator } from '../../src/models/generators.js';
import { buildVocabulary } from '../support/onnx/tokenizer.js';
import { buildVedFolder, VED_TOKENS } from './support/ved-builder.js';

const PYTHON = '/usr/bin/python3';
const HERE = fileURLToPath(new URL('.', import.meta.url));
const MODEL_DIR = fileURLToPath(new URL('../.models/tiny-ved', import.meta.url));
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) console.log('[skip] vision-encoder-decoder parity: /usr/bin/python3 with torch and onnx (Debian python3-torch, python3-onnx) is not installed');

const tmp = mkdtempSync(join(tmpdir(), 'medvlm-ved-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Two 32x32 views with different content (the processor's resize is then the identity). */
function view(kind: 'gradient' | 'rings'): RGBImage {
  const data = new Uint8Array(32 * 32 * 3);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const i = (y * 32 + x) * 3;
      if (kind === 'gradient') {
        data[i] = x * 8;
        data[i + 1] = y * 8;
        data[i + 2] = (x * y) % 256;
      } else {
        const r = Math.round(Math.hypot(x - 15.5, y - 15.5));
        data[i] = data[i + 1] = data[i + 2] = r % 4 < 2 ? 230 : 20;
      }
    }
  }
  return { data, width: 32, height: 32 };
}

const vocab = buildVocabulary();
/** Ids of words that are whole entries of the test vocabulary (so the tokenizer must give exactly these). */
const wordIds = (text: string): number[] =>
  text.split(' ').map((w) => {
    const id = vocab.indexOf(w);
    if (id < 0) throw new Error(`"${w}" is not a whole word of the test vocabulary`);
    return id;
  });

let gen: VisionLanguageGenerator;
beforeAll(async () => {
  buildVedFolder(MODEL_DIR);
  gen = await loadGenerator(MODEL_DIR, { threads: 1 });
});
afterAll(() => gen?.dispose());

function reference(image: RGBImage, requests: Array<{ decoder_input_ids: number[]; max_new_tokens: number }>): Array<{ ids: number[]; min_margin: number }> {
  const rgb = join(tmp, `rgb-${Math.random().toString(36).slice(2)}.raw`);
  writeFileSync(rgb, image.data);
  const req = join(tmp, 'request.json');
  writeFileSync(req, JSON.stringify({ rgb, height: image.height, width: image.width, eos: VED_TOKENS.eos, requests }));
  const r = spawnSync(PYTHON, [join(HERE, 'support/ved_reference.py'), MODEL_DIR, req], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reference failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { results: Array<{ ids: number[]; min_margin: number }> }).results;
}

describe('vision-encoder-decoder (transformers.js) vs PyTorch', () => {
  it.skipIf(!hasTorch)('greedy decoding matches token for token, with and without a prompt prefix', async () => {
    const prompts = ['', 'chest x ray', 'no mass in the left lung ?'];
    for (const kind of ['gradient', 'rings'] as const) {
      const image = view(kind);
      const ours: GenerationResult[] = [];
      for (const prompt of prompts) ours.push(await gen.generate({ images: [image], prompt }, { maxTokens: 16 }));
      const ref = reference(image, prompts.map((p) => ({ decoder_input_ids: [VED_TOKENS.start, ...(p ? wordIds(p) : [])], max_new_tokens: 16 })));
      prompts.forEach((p, i) => {
        expect(ours[i].tokens, `${kind} / "${p}"`).toEqual(ref[i].ids);
        // the comparison means something only if no step was a near-tie
        if (process.env.MEDVLM_TEST_VERBOSE) console.log(kind, JSON.stringify(p), ref[i].ids.length, "tokens, min margin", ref[i].min_margin.toFixed(4));
        expect(ref[i].min_margin, `${kind} / "${p}" smallest top-2 logit gap`).toBeGreaterThan(1e-3);
        expect(ours[i].usage).toEqual({ promptTokens: 1 + (p ? wordIds(p).length : 0), completionTokens: ref[i].ids.length, totalTokens: 1 + (p ? wordIds(p).length : 0) + ref[i].ids.length });
      });
      // different prompts and images lead to different continuations (the decoder sees both)
      expect(new Set(ours.map((r) => r.tokens!.join(','))).size).toBe(prompts.length);
    }
  });

  it('streams text pieces that add up to the result, and records a local destination', async () => {
    const pieces: string[] = [];
    const r = await gen.generate({ images: [view('gradient')], prompt: '' }, { maxTokens: 12, onText: (p) => pieces.push(p) });
    expect(pieces.join('')).toBe(r.text);
    expect(pieces.length).toBeGreaterThan(1);
    expect(r.backend).toBe('transformers.js');
    expect(r.image).toEqual({ kind: 'local', payload: 'none', images: 1 });
    expect(r.finishReason).toBe(r.tokens!.at(-1) === VED_TOKENS.eos ? 'stop' : 'length');
  });

  it('stops before a stop string and never streams it', async () => {
    const full = await gen.generate({ images: [view('rings')], prompt: '' }, { maxTokens: 16 });
    const words = full.text.split(' ');
    expect(words.length).toBeGreaterThan(3);
    const stopWord = words[2];
    const pieces: string[] = [];
    const r = await gen.generate({ images: [view('rings')], prompt: '' }, { maxTokens: 16, stop: [stopWord], onText: (p) => pieces.push(p) });
    expect(r.finishReason).toBe('stop-sequence');
    expect(r.text).toBe(full.text.slice(0, full.text.indexOf(stopWord)));
    expect(pieces.join('')).toBe(r.text);
    expect(r.tokens!.length).toBeLessThan(full.tokens!.length);
  });

  it('stops at the next step when the signal fires, and says `cancelled`', async () => {
    const controller = new AbortController();
    let steps = 0;
    const r = await gen.generate({ images: [view('gradient')], prompt: '' }, {
      maxTokens: 16,
      signal: controller.signal,
      onText: () => {
        if (++steps === 2) controller.abort();
      },
    });
    expect(r.finishReason).toBe('cancelled');
    expect(r.tokens!.length).toBeLessThan(16);
  });

  it('loads the q8 files (dynamic-quantized MatMuls) and generates', async () => {
    const q8 = await loadGenerator(MODEL_DIR, { threads: 1, dtype: 'q8' });
    try {
      const r = await q8.generate({ images: [view('gradient')], prompt: '' }, { maxTokens: 8 });
      expect(r.tokens!.length).toBeGreaterThan(0);
      expect(r.tokens!.every((t) => t >= 0 && t < vocab.length)).toBe(true);
    } finally {
      await q8.dispose();
    }
  });

  it('names the missing file of an incomplete folder', async () => {
    const broken = join(tmp, 'broken');
    cpSync(MODEL_DIR, broken, { recursive: true });
    rmSync(join(broken, 'onnx/decoder_model_merged.onnx'));
    const e = await loadGenerator(broken).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ModelLoadError);
    // the folder still holds the q8 decoder: the error says which variant is missing and which are there
    expect((e as ModelLoadError).code).toBe('E_MODEL_NO_DTYPE');
    expect((e as ModelLoadError).message).toContain('onnx/decoder_model_merged.onnx');
    expect((e as ModelLoadError).message).toContain('it holds q8');
    rmSync(join(broken, 'onnx/decoder_model_merged_quantized.onnx'));
    const none = await loadGenerator(broken).catch((x: unknown) => x);
    expect((none as ModelLoadError).code).toBe('E_MODEL_INVALID');
    expect((none as ModelLoadError).message).toContain('onnx/decoder_model_merged.onnx');
  });
});
