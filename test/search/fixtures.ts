/** Small PNG sets for the index CLI tests (generated, under test/.corpus/search/). */
import { mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { prng } from './synthetic.js';

/** test/.corpus/search/ */
export const SEARCH_CORPUS = fileURLToPath(new URL('../.corpus/search/', import.meta.url));

/** Write `n` seeded random-pattern 32×32 PNGs into `test/.corpus/search/<name>/` (idempotent); returns their paths. */
export async function pngSet(name: string, n: number, seed = 1): Promise<string[]> {
  const dir = join(SEARCH_CORPUS, name);
  mkdirSync(dir, { recursive: true });
  const rand = prng(seed);
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const px = Buffer.alloc(32 * 32 * 3);
    const base = Math.floor(rand() * 256);
    for (let j = 0; j < px.length; j++) px[j] = (base + Math.floor(rand() * 96) + ((j * (i + 3)) % 64)) % 256;
    const file = join(dir, `img${String(i).padStart(4, '0')}.png`);
    if (!existsSync(file)) await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(file);
    files.push(file);
  }
  return files;
}

/** A manifest for `files` with captions and metadata (modality alternating CT/MR, split train/test). */
export function writeManifest(dir: string, files: string[]): string {
  const lines = files.map((f, i) =>
    JSON.stringify({ image: f, caption: `synthetic image number ${i} with a ${i % 2 ? 'round' : 'linear'} pattern`, modality: i % 2 ? 'MR' : 'CT', split: i % 4 === 0 ? 'test' : 'train', case_id: `C${Math.floor(i / 2)}` }),
  );
  const file = join(dir, 'manifest.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
