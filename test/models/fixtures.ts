/** Shared inputs for the model tests: paths of the tiny models, a synthetic image, the reference JSON. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { RGBImage } from '../../src/models/capabilities.js';
import { TEST_MODEL_NAMES } from '../support/onnx/clip-builder.js';

/** test/.models/ (built by test/global-setup.ts). */
export const MODELS_ROOT = fileURLToPath(new URL('../.models/', import.meta.url));

/** Folder of a shared tiny test model. */
export function testModel(name: keyof typeof TEST_MODEL_NAMES): string {
  return join(MODELS_ROOT, TEST_MODEL_NAMES[name]);
}

/** The deterministic test image: pixel (y, x, c) = (8x + 3y + 50c + xy) mod 256 (same as reference.py). */
export function syntheticImage(width = 32, height = 32): RGBImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (8 * x + 3 * y + 50 * c + x * y) % 256;
    }
  }
  return { data, width, height };
}

/** One model's entry in reference-embeddings.json. */
export interface ReferenceModel {
  family: string;
  texts: string[];
  token_ids: number[][];
  image_embeds: number[];
  image_embeds_48x40: number[];
  text_embeds: number[][];
  logit_scale: number;
  logit_bias: number;
}

/** Reference embeddings computed by test/support/onnx/reference.py (PyTorch, float64). */
export const REFERENCE = JSON.parse(readFileSync(new URL('./reference-embeddings.json', import.meta.url), 'utf8')) as {
  models: Record<'tiny-clip' | 'tiny-siglip', ReferenceModel>;
};

/** Cosine similarity in float64 (the library's). */
import { cosine } from '../../src/core/vectors.js';

export { cosine };

/** Euclidean norm in float64. */
export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** Largest absolute element-wise difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
