/**
 * Generated drafts (retrieval-augmented: the similar cases in the prompt, listed as sources) and open
 * questions answered by a generator, on the tiny random vision-encoder-decoder (64 decoder positions):
 * the prompt holds every source's text, the draft equals a plain generation with that prompt, the
 * source budget keeps prompt + new tokens inside the position table, and an over-long prompt is a
 * typed error instead of a failure inside the graph.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../src/core/errors.js';
import type { VisionLanguageGenerator } from '../../src/models/capabilities.js';
import { RESEARCH_NOTICE } from '../../src/models/defaults.js';
import { loadGenerator } from '../../src/models/generators.js';
import { askOpen, isClosedQuestion } from '../../src/tasks/ask-open.js';
import { generateForFile } from '../../src/tasks/generate.js';
import { generatedDraft, ragPrompt, sourceCases, sourceCharBudget, RAG_INSTRUCTION } from '../../src/tasks/generated-draft.js';
import { buildVedFolder } from './support/ved-builder.js';

const MODEL_DIR = fileURLToPath(new URL('../.models/tiny-ved', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'medvlm-gendraft-'));
const image = join(tmp, 'view.png');
let gen: VisionLanguageGenerator;

beforeAll(async () => {
  buildVedFolder(MODEL_DIR);
  const px = Buffer.alloc(32 * 32 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7) % 251;
  writeFileSync(image, await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer());
  gen = await loadGenerator(MODEL_DIR, { threads: 1 });
});
afterAll(async () => {
  await gen?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

const cases: Array<{ path: string; caseId?: string; similarity: number; texts: Record<string, string> }> = [
  { path: 'a.png', caseId: 'MPX1', similarity: 0.9, texts: { caption: 'no mass in the left lung', findings: 'chest x ray' } },
  { path: 'b.png', similarity: 0.8, texts: { caption: 'right lung' } },
];

describe('generated drafts', () => {
  it('puts every source text in the prompt and lists the sources', async () => {
    // The tiny model has 64 positions, too few for the whole prompt: a recording wrapper stands in for a
    // large-context generator (it records the prompt and lets the real model continue a short one).
    const prompts: string[] = [];
    const wide: VisionLanguageGenerator = {
      info: { ...gen.info, contextTokens: 4096 },
      generate: (req, o) => {
        prompts.push(req.prompt);
        return gen.generate({ ...req, prompt: 'lung' }, o);
      },
      dispose: async () => {},
    };
    const d = await generatedDraft(wide, image, { sources: cases, maxTokens: 6, maxSourceChars: 100 });
    expect(d.sources.map((s) => s.path)).toEqual(['a.png', 'b.png']);
    expect(d.sources[0]).toMatchObject({ caseId: 'MPX1', similarity: 0.9, text: 'no mass in the left lung chest x ray' });
    expect(prompts).toEqual([d.prompt]);
    expect(d.prompt).toBe(ragPrompt(d.sources));
    expect(d.prompt).toContain('[1] no mass in the left lung chest x ray');
    expect(d.prompt).toContain('[2] right lung');
    expect(d.prompt.endsWith(RAG_INSTRUCTION)).toBe(true);
    expect(d.notice).toContain(RESEARCH_NOTICE);
    expect(d.notice).toContain('2 similar cases');
    const plain = await generateForFile(gen, image, 'lung', { maxTokens: 6 });
    expect(d.text).toBe(plain.text.trim());
    expect(d.generation.tokens).toEqual(plain.tokens);
    expect(d.generation.image.kind).toBe('local');
  });

  it('on the 64-position model itself the sources are cut to its budget, and a prompt that still does not fit is a typed error', async () => {
    await expect(generatedDraft(gen, image, { sources: cases, maxTokens: 8 })).rejects.toBeInstanceOf(OptionError);
    // no room at all for retrieved text: said so, instead of a draft that silently has no sources
    await expect(generatedDraft(gen, image, { sources: cases, maxTokens: 60 })).rejects.toThrow(/leave no room for the retrieved reports/);
    await expect(generatedDraft(gen, image, { sources: [{ path: 'c.png', similarity: 0.5, texts: { caption: 'x' } }], fields: ['findings'], maxTokens: 8 })).rejects.toThrow(/has text in the requested fields/);
  });

  it('without sources the prompt is the instruction alone (empty: the report prompt)', async () => {
    const d = await generatedDraft(gen, image, { maxTokens: 4 });
    expect(d.sources).toEqual([]);
    expect(d.prompt).toBe('');
    expect(d.notice).not.toContain('similar cases');
  });

  it('fields pick and order the texts; empty sources are left out; long texts are cut at a word', () => {
    const s = sourceCases([...cases, { path: 'c.png', similarity: 0.1, texts: {} }], ['findings', 'caption'], 20);
    expect(s.map((x) => x.text)).toEqual(['chest x ray no mass…', 'right lung']);
  });

  it('a model with a small position table gets a source budget that keeps prompt + new tokens inside it', () => {
    expect(gen.info.contextTokens).toBe(64);
    // 64 positions - 8 new - 39 for the instruction - 4 per source = 9 tokens ≈ 36 characters for 2 sources
    expect(sourceCharBudget(gen, 2, 8)).toBe(Math.floor(((64 - 8 - Math.ceil((RAG_INSTRUCTION.length + 80) / 4) - 8) * 4) / 2));
    expect(sourceCharBudget(gen, 2, 60)).toBe(0);
    const big = { ...gen, info: { ...gen.info, contextTokens: 2048 } } as VisionLanguageGenerator;
    expect(sourceCharBudget(big, 5, 128)).toBe(600);
    const remote = { ...gen, info: { ...gen.info, contextTokens: undefined } } as unknown as VisionLanguageGenerator;
    expect(sourceCharBudget(remote, 5, 128)).toBe(600);
  });

  it('a prompt longer than the position table is a typed error; new tokens stop at the table end', async () => {
    const long = Array.from({ length: 70 }, () => 'lung').join(' ');
    await expect(gen.generate({ images: [{ data: new Uint8Array(32 * 32 * 3), width: 32, height: 32 }], prompt: long })).rejects.toBeInstanceOf(OptionError);
    const r = await gen.generate({ images: [{ data: new Uint8Array(32 * 32 * 3).fill(90), width: 32, height: 32 }], prompt: '' }, { maxTokens: 500 });
    expect(r.usage.completionTokens).toBeLessThanOrEqual(63);
    expect(r.applied.maxTokens).toBe(63);
  });
});

describe('open questions', () => {
  it('closed questions stay with the dual encoder; open ones go to the generator', () => {
    expect(isClosedQuestion('Is there a pleural effusion?')).toBe(true);
    expect(isClosedQuestion('Is this an MRI or a CT?')).toBe(true);
    expect(isClosedQuestion('Which lobe?', ['upper', 'lower'])).toBe(true);
    expect(isClosedQuestion('What is the abnormality?')).toBe(false);
    expect(isClosedQuestion('Where is the lesion located?')).toBe(false);
  });

  it('askOpen answers with the generated text for the question as prompt', async () => {
    const a = await askOpen(gen, image, 'lung', { maxTokens: 5 });
    const plain = await generateForFile(gen, image, 'lung', { maxTokens: 5 });
    expect(a).toMatchObject({ kind: 'open', question: 'lung', answer: plain.text.trim(), notice: RESEARCH_NOTICE });
    expect(a.generator.backend).toBe('transformers.js');
    await expect(askOpen(gen, image, '  ')).rejects.toBeInstanceOf(OptionError);
  });
});
