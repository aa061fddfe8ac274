/**
 * How close transformers.js' CLIPImageProcessor (what a converted folder's preprocessor_config.json
 * drives in medvlm) comes to open_clip's own preprocessing (PIL bicubic resize of the shortest
 * edge, centre crop, OpenAI mean/std; test/convert/preprocess_ref.py), on 16 MedPix views medvlm
 * decoded: pixel differences, and the embedding cosine through the PyTorch BiomedCLIP-layout reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { convertCheckpoint } from '../../src/convert/convert.js';
import { hasMedpix, hasTorch, PYTHON, runPython, tempDir } from './helpers.js';
import { makeBiomedclipSource, medpixSamples, minCosine, SMALL_BIOMEDCLIP, writePixelValues } from './fixtures.js';

const hasPil = spawnSync(PYTHON, ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0;
if (!hasPil) console.log('[skip] preprocessing comparison: /usr/bin/python3 without PIL (Debian python3-pil)');
const run = hasTorch && hasMedpix && hasPil;
let root = '';
let theirs: Float32Array;
/** Per resample setting of preprocessor_config.json: medvlm's pixels and the embedding cosine to open_clip's. */
const measured: Record<string, { pixels: Float32Array; cos: number }> = {};

beforeAll(async () => {
  if (!run) return;
  root = tempDir('preprocess');
  const src = makeBiomedclipSource(join(root, 'src'), SMALL_BIOMEDCLIP);
  const out = convertCheckpoint({ source: src, out: join(root, 'out') }).out;
  const { images } = await medpixSamples(16);
  const items = images.map((img, i) => {
    const path = join(root, `img${i}.rgb`);
    writeFileSync(path, img.data);
    return { path, width: img.width, height: img.height };
  });
  writeFileSync(join(root, 'items.json'), JSON.stringify(items));
  runPython('preprocess_ref.py', [join(root, 'items.json'), '224', join(root, 'theirs.f32')]);
  const read = (f: string): Float32Array => {
    const b = readFileSync(join(root, f));
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  theirs = read('theirs.f32');
  writeFileSync(join(root, 'none.json'), '[]');
  runPython('reference_biomedclip.py', ['run', src, join(root, 'theirs.f32'), '16', join(root, 'none.json'), join(root, 'b.json')]);
  const b = JSON.parse(readFileSync(join(root, 'b.json'), 'utf8')) as { image: number[][] };
  const preprocessor = JSON.parse(readFileSync(join(out, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
  for (const [name, resample] of [['bicubic (3, written)', 3], ['lanczos (1)', 1], ['bilinear (2)', 2]] as const) {
    writeFileSync(join(out, 'preprocessor_config.json'), JSON.stringify({ ...preprocessor, resample }));
    await writePixelValues(out, images, join(root, 'ours.f32'));
    runPython('reference_biomedclip.py', ['run', src, join(root, 'ours.f32'), '16', join(root, 'none.json'), join(root, 'a.json')]);
    const a = JSON.parse(readFileSync(join(root, 'a.json'), 'utf8')) as { image: number[][] };
    measured[name] = { pixels: read('ours.f32').slice(), cos: minCosine(a.image, b.image) };
  }
}, 600_000);
afterAll(() => { if (root) rmSync(root, { recursive: true, force: true }); });

describe.skipIf(!run)('transformers.js CLIPImageProcessor vs open_clip (PIL) preprocessing', () => {
  it('agrees closely: same geometry, small resampling differences (measured, with floors)', () => {
    for (const [name, m] of Object.entries(measured)) {
      expect(m.pixels.length).toBe(theirs.length);
      let sum = 0;
      let max = 0;
      for (let i = 0; i < theirs.length; i++) {
        const d = Math.abs(m.pixels[i] - theirs[i]);
        sum += d;
        if (d > max) max = d;
      }
      const mean = sum / theirs.length;
      // In 8-bit steps of the normalised scale (1/255/std ≈ 0.0146).
      console.log(`[preprocess] resample ${name}: mean |Δ| ${mean.toFixed(5)} (${(mean / 0.0146).toFixed(2)} grey levels), max |Δ| ${max.toFixed(3)}, embedding min cosine ${m.cos.toFixed(6)}`);
    }
    const written = measured['bicubic (3, written)'];
    expect(written.cos).toBeGreaterThan(0.99);
  });
});
