/**
 * Fixtures of the converter parity tests: a BERT vocabulary (medvlm-tiny's WordPiece vocabulary,
 * real medical subwords), MedPix images and captions, medvlm's own pixel values for a folder,
 * and comparison helpers.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareInput } from '../../src/tasks/batch.js';
import type { DenseFeatures, RGBImage } from '../../src/models/capabilities.js';
import { preprocessImages, preprocessPlan } from '../../src/transforms/preprocess.js';
import { DATA_DIR, runPython } from './helpers.js';

/** Write medvlm-tiny's vocabulary as a BERT vocab.txt into `dir`; returns its path. */
export function writeVocab(dir: string): string {
  const tok = JSON.parse(readFileSync(fileURLToPath(new URL('../../models/medvlm-tiny/tokenizer.json', import.meta.url)), 'utf8')) as { model: { vocab: Record<string, number> } };
  const vocab = Object.entries(tok.model.vocab).sort((a, b) => a[1] - b[1]).map(([t]) => t);
  const path = join(dir, 'vocab.txt');
  writeFileSync(path, `${vocab.join('\n')}\n`);
  return path;
}

interface ManifestRow { image: string; split: string; caption: string }

/** MedPix rows with real captions (placeholders dropped), test split first, in file order. */
export function medpixRows(): ManifestRow[] {
  const rows = readFileSync(join(DATA_DIR, 'medpix2', 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ManifestRow);
  const real = rows.filter((r) => r.caption && !/^Replace this/i.test(r.caption.trim()));
  return [...real.filter((r) => r.split === 'test'), ...real.filter((r) => r.split !== 'test')];
}

/** `n` MedPix images through medvlm's reader and view, with their captions. */
export async function medpixSamples(n: number): Promise<{ files: string[]; images: RGBImage[]; captions: string[] }> {
  const rows = medpixRows().slice(0, n);
  const files = rows.map((r) => join(DATA_DIR, 'medpix2', r.image));
  const images: RGBImage[] = [];
  for (const f of files) images.push((await prepareInput(f, undefined)).rgb!);
  return { files, images, captions: rows.map((r) => r.caption) };
}

/** The pixel values medvlm's own preprocessing makes for a folder's preprocessor_config.json (what its encoder feeds the vision tower), as raw float32 in `path`. */
export async function writePixelValues(folder: string, images: RGBImage[], path: string): Promise<number[]> {
  const config = JSON.parse(readFileSync(join(folder, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
  const plan = preprocessPlan(config);
  if (!plan) throw new Error(`${folder}: medvlm does not compute this preprocessor_config.json itself`);
  const { data, dims } = preprocessImages(images, plan);
  writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return dims;
}

import { cosine } from '../../src/core/vectors.js';

export { cosine };

/** Smallest row-wise cosine. */
export function minCosine(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  return Math.min(...a.map((x, i) => cosine(x, b[i])));
}

/** The smallest per-patch cosine between medvlm's dense grids and a reference's [image][patch][dim] patch features. */
export function minPatchCosine(grids: DenseFeatures[], ref: number[][][]): number {
  if (grids.length !== ref.length) throw new Error(`${grids.length} grids vs ${ref.length} reference images`);
  return Math.min(...grids.map((g, i) => {
    if (g.patches.length !== ref[i].length) throw new Error(`image ${i}: ${g.patches.length} patches vs ${ref[i].length} in the reference`);
    return minCosine(g.patches, ref[i]);
  }));
}

/** Small widths of the BiomedCLIP layout: 224 px / patch 16, 2+2 layers of width 128, embed 64. */
export const SMALL_BIOMEDCLIP = {
  seed: 11,
  embed_dim: 64,
  context_length: 256,
  vision: { image: 224, patch: 16, width: 128, layers: 2, mlp: 512 },
  text: { vocab: 0, width: 128, layers: 2, mlp: 256, positions: 512 },
  pad_id: 0,
};

/** Tiniest BiomedCLIP layout (1 + 1 layers of width 64) for CLI and bad-input tests. */
export const TINY_BIOMEDCLIP = {
  ...SMALL_BIOMEDCLIP,
  seed: 5,
  embed_dim: 32,
  vision: { image: 224, patch: 16, width: 64, layers: 1, mlp: 128 },
  text: { vocab: 0, width: 64, layers: 1, mlp: 128, positions: 256 },
};

/** Write a random-initialised BiomedCLIP-layout release folder (checkpoint, open_clip_config.json, vocab.txt) into `dir`. */
export function makeBiomedclipSource(dir: string, cfg: typeof SMALL_BIOMEDCLIP): string {
  mkdirSync(dir, { recursive: true });
  const vocabPath = writeVocab(dir);
  const vocabSize = readFileSync(vocabPath, 'utf8').trim().split('\n').length;
  runPython('reference_biomedclip.py', ['make', dir, JSON.stringify({ ...cfg, text: { ...cfg.text, vocab: vocabSize } })]);
  return dir;
}
