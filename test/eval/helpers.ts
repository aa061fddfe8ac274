/** Fixtures for the eval tests: small generated data sets (PNG files, manifests, .npz) under test/.corpus/eval/. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { mulberry32 } from '../../src/metrics/index.js';

/** test/.corpus/eval/ (gitignored). */
export const EVAL_CORPUS = fileURLToPath(new URL('../.corpus/eval/', import.meta.url));

/** ../shared/data, when present. */
export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

/** A fresh empty folder under test/.corpus/eval/. */
export function freshDir(name: string): string {
  const dir = join(EVAL_CORPUS, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Write a JSON file (creating folders). */
export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2));
}

/** A 32x32 grey PNG: class 0 dark with a horizontal gradient, class 1 bright with a vertical one; `seed` adds noise. */
export async function writePng(path: string, cls: number, seed: number): Promise<void> {
  const rng = mulberry32(seed);
  const size = 32;
  const px = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const base = cls === 0 ? 40 + 3 * x : 150 + 3 * y;
      px[y * size + x] = Math.max(0, Math.min(255, Math.round(base + 30 * (rng() - 0.5))));
    }
  }
  mkdirSync(dirname(path), { recursive: true });
  await sharp(Buffer.from(px), { raw: { width: size, height: size, channels: 1 } }).png().toFile(path);
}

/**
 * A two-class image data set: `<root>/images/{dark,bright}/NN.png` (n per class), a CSV manifest with
 * captions and a `split` column (first 60% train, next 10% val, rest test per class).
 */
export async function makeImageDataset(root: string, nPerClass: number): Promise<void> {
  const rows = ['image,label,caption,split'];
  for (const [cls, name] of ['dark', 'bright'].entries()) {
    for (let i = 0; i < nPerClass; i++) {
      const rel = `images/${name}/${String(i).padStart(3, '0')}.png`;
      await writePng(join(root, rel), cls, 1000 * cls + i);
      const split = i < 0.6 * nPerClass ? 'train' : i < 0.7 * nPerClass ? 'val' : 'test';
      // captions: a few repeat on purpose (retrieval must treat them as one gallery text)
      rows.push(`${rel},${name},"a ${name} square, number ${i % 2}",${split}`);
    }
  }
  writeFileSync(join(root, 'manifest.csv'), rows.join('\n') + '\n');
}

/** True when Debian's Python with numpy is there (for fixtures numpy writes). */
export function hasNumpy(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
}

/** Run Python code with Debian's interpreter. */
export function python(code: string): string {
  const r = spawnSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}
