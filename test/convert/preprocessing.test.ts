/**
 * medvlm's own preprocessing of a converted folder (Pillow-exact bicubic resize, torchvision crop
 * rounding from `medvlm_crop_rounding`) against open_clip's (test/convert/preprocess_ref.py: PIL
 * resize, CenterCrop, ToTensor, Normalize), on 16 MedPix views medvlm decoded: pixel differences and
 * the embedding cosine through the PyTorch BiomedCLIP-layout reference. The engine's processor
 * (transformers.js, libvips without antialiasing) is measured beside it for the record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { convertCheckpoint } from '../../src/convert/convert.js';
import { hasMedpix, hasTorch, PYTHON, runPython, tempDir } from './helpers.js';
import { makeBiomedclipSource, medpixSamples, minCosine, SMALL_BIOMEDCLIP, writePixelValues } from './fixtures.js';
import { loadImageProcessor, rgbToEngineImage } from '../../src/runtime/engine.js';
import { resolveRuntimeSettings } from '../../src/runtime/env.js';

const hasPil = spawnSync(PYTHON, ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0;
if (!hasPil) console.log('[skip] preprocessing comparison: /usr/bin/python3 without PIL (Debian python3-pil)');
const run = hasTorch && hasMedpix && hasPil;
let root = '';
let theirs: Float32Array;
/** medvlm's and the engine's pixels, and each one's embedding cosine to open_clip's. */
const measured: Record<'medvlm' | 'engine', { pixels: Float32Array; cos: number }> = {} as never;

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
  await writePixelValues(out, images, join(root, 'medvlm.f32'));
  const proc = await loadImageProcessor({ id: out, source: { kind: 'folder', location: out }, settings: resolveRuntimeSettings({}), dtype: 'fp32' });
  const engine = (await proc(images.map((i) => rgbToEngineImage(i.data, i.width, i.height)))) as { pixel_values: { data: Float32Array } };
  writeFileSync(join(root, 'engine.f32'), engine.pixel_values.data);
  for (const name of ['medvlm', 'engine'] as const) {
    runPython('reference_biomedclip.py', ['run', src, join(root, `${name}.f32`), '16', join(root, 'none.json'), join(root, `${name}.json`)]);
    const a = JSON.parse(readFileSync(join(root, `${name}.json`), 'utf8')) as { image: number[][] };
    measured[name] = { pixels: read(`${name}.f32`).slice(), cos: minCosine(a.image, b.image) };
  }
}, 600_000);
afterAll(() => { if (root) rmSync(root, { recursive: true, force: true }); });

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe.skipIf(!run)('medvlm preprocessing vs open_clip (PIL + torchvision) preprocessing', () => {
  it('medvlm gives open_clip\'s pixels (float32 rounding only) and its embeddings; the engine processor does not', () => {
    const ours = measured.medvlm;
    const engine = measured.engine;
    expect(ours.pixels.length).toBe(theirs.length);
    const oursMax = maxAbsDiff(ours.pixels, theirs);
    const engineMax = maxAbsDiff(engine.pixels, theirs);
    console.log(`[preprocess] medvlm: max |Δ| ${oursMax.toExponential(2)}, embedding min cosine ${ours.cos.toFixed(9)}; engine: max |Δ| ${engineMax.toFixed(3)}, min cosine ${engine.cos.toFixed(6)}`);
    // x/255 (torchvision) and x*(1/255) (Hugging Face) differ by at most one float32 ulp before normalising.
    expect(oursMax).toBeLessThan(1e-5);
    expect(1 - ours.cos).toBeLessThan(1e-6);
    // The engine's resize is visibly different (grey levels, not ulps): the comparison can tell them apart.
    expect(engineMax).toBeGreaterThan(0.05);
  });
});
