/**
 * medvlm's resize and preprocessing against Pillow and a numpy write-out of Hugging Face's image
 * processor semantics (test/transforms/pil_reference.py): bit-exact 8-bit resizes for every filter
 * (down, up, mixed, tiny), and equal float32 pixel values for CLIP-style (shortest edge + crop) and
 * SigLIP-style (fixed size, bilinear) configs on real sample images and odd sizes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { RESAMPLE, resizeRGB, type ResampleFilter } from '../../src/transforms/resize.js';
import { preprocessImages, preprocessPlan, shortestEdgeSize } from '../../src/transforms/preprocess.js';
import type { RGBImage } from '../../src/io/types.js';
import { PYTHON, REPO_ROOT } from '../support/nifti-fixtures.js';

const hasPil = spawnSync(PYTHON, ['-c', 'import PIL, numpy'], { stdio: 'ignore' }).status === 0;
if (!hasPil) console.log('[skip] resize parity: /usr/bin/python3 without Pillow and numpy (Debian python3-pil, python3-numpy)');

function randomImage(width: number, height: number, seed: number): RGBImage {
  let s = seed;
  const data = new Uint8ClampedArray(width * height * 3);
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    data[i] = s >> 23;
  }
  return { data, width, height };
}

async function sample(name: string): Promise<RGBImage> {
  const { data, info } = await sharp(join(REPO_ROOT, 'samples', name)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 3) return { data: new Uint8ClampedArray(data), width: info.width, height: info.height };
  const rgb = new Uint8ClampedArray(info.width * info.height * 3);
  for (let p = 0; p < info.width * info.height; p++) rgb.fill(data[p * info.channels], p * 3, p * 3 + 3);
  return { data: rgb, width: info.width, height: info.height };
}

const CLIP = {
  image_processor_type: 'CLIPImageProcessor', do_resize: true, size: { shortest_edge: 96 }, resample: 3, do_center_crop: true,
  crop_size: { height: 96, width: 96 }, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.35, 0.35, 0.35], image_std: [0.27, 0.27, 0.27],
};
const SIGLIP = {
  image_processor_type: 'SiglipImageProcessor', do_resize: true, size: { height: 64, width: 64 }, resample: 2, do_rescale: true,
  rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5],
};
/** A crop larger than the resized image: zero padding on the short side. */
const PADDED = { ...CLIP, size: { shortest_edge: 40 }, crop_size: { height: 48, width: 44 }, image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711] };

type Job =
  | { kind: 'resize'; image: RGBImage; out_width: number; out_height: number; filter: ResampleFilter }
  | { kind: 'preprocess'; image: RGBImage; config: Record<string, unknown> };

const jobs: Job[] = [];
let dir = '';
let outputs: Buffer[] = [];

beforeAll(async () => {
  if (!hasPil) return;
  const real = await Promise.all(['vqarad-chest-xray-1.jpg', 'vqarad-head-ct-1.jpg', 'pneumoniamnist-test-0000-pneumonia.png'].map(sample));
  const images = [...real, randomImage(97, 61, 1), randomImage(50, 41, 2), randomImage(7, 5, 3), randomImage(333, 129, 4)];
  for (const image of images) {
    for (const filter of Object.keys(RESAMPLE) as ResampleFilter[]) {
      for (const [w, h] of [[96, 96], [Math.max(1, image.width >> 2), image.height * 2 - 1], [image.width + 13, 3]]) {
        jobs.push({ kind: 'resize', image, out_width: w, out_height: h, filter });
      }
    }
    for (const config of [CLIP, SIGLIP, PADDED]) jobs.push({ kind: 'preprocess', image, config });
  }
  dir = mkdtempSync(join(tmpdir(), 'medvlm-resize-'));
  const spec = jobs.map((j, i) => {
    const input = join(dir, `in${i}.rgb`);
    writeFileSync(input, j.image.data);
    const { image, ...rest } = j;
    return { ...rest, ...(j.kind === 'resize' ? { filter: RESAMPLE[j.filter] } : {}), in: input, width: image.width, height: image.height };
  });
  writeFileSync(join(dir, 'jobs.json'), JSON.stringify(spec));
  const r = spawnSync(PYTHON, [join(REPO_ROOT, 'test', 'transforms', 'pil_reference.py'), join(dir, 'jobs.json'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pil_reference.py failed: ${r.stderr}`);
  outputs = jobs.map((_, i) => readFileSync(join(dir, `${i}.bin`)));
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasPil)('resize and preprocessing vs Pillow', () => {
  it('resizes bit-exactly like Pillow with every filter (down, up, mixed, tiny)', () => {
    let checked = 0;
    for (const [i, job] of jobs.entries()) {
      if (job.kind !== 'resize') continue;
      const ours = resizeRGB(job.image, job.out_width, job.out_height, job.filter);
      const theirs = outputs[i];
      expect(ours.data.length).toBe(theirs.length);
      let mismatches = 0;
      for (let k = 0; k < theirs.length; k++) if (ours.data[k] !== theirs[k]) mismatches++;
      expect(mismatches, `${job.image.width}x${job.image.height} → ${job.out_width}x${job.out_height} ${job.filter}`).toBe(0);
      checked++;
    }
    expect(checked).toBe(7 * 6 * 3);
  });

  it('preprocesses to the reference float32 pixel values (CLIP shortest edge + crop, SigLIP fixed size, padded crop)', () => {
    let checked = 0;
    for (const [i, job] of jobs.entries()) {
      if (job.kind !== 'preprocess') continue;
      const plan = preprocessPlan(job.config);
      expect(plan).toBeDefined();
      const ours = preprocessImages([job.image], plan!);
      const b = outputs[i];
      const theirs = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      expect(ours.data.length).toBe(theirs.length);
      let max = 0;
      for (let k = 0; k < theirs.length; k++) max = Math.max(max, Math.abs(ours.data[k] - theirs[k]));
      expect(max).toBe(0);
      checked++;
    }
    expect(checked).toBe(7 * 3);
  });
});

describe('preprocessing plans', () => {
  it('reads the config keys and sizes as Hugging Face does', () => {
    expect(shortestEdgeSize(640, 480, 224)).toEqual({ width: 298, height: 224 });
    expect(shortestEdgeSize(100, 333, 96)).toEqual({ width: 96, height: 319 });
    const legacy = preprocessPlan({ ...CLIP, size: 224, crop_size: 224 });
    expect(legacy?.resize).toEqual({ shortestEdge: 224 });
    expect(legacy?.crop).toEqual({ height: 224, width: 224, rounding: 'floor' });
    expect(preprocessPlan({ ...SIGLIP, size: 384 })?.resize).toEqual({ height: 384, width: 384 });
    expect(preprocessPlan({ ...CLIP, medvlm_crop_rounding: 'round-half-even' })?.crop?.rounding).toBe('round-half-even');
  });

  it('leaves configs it does not compute to the engine', () => {
    expect(preprocessPlan({ ...CLIP, image_processor_type: 'DonutImageProcessor' })).toBeUndefined();
    expect(preprocessPlan({ ...CLIP, do_pad: true })).toBeUndefined();
    expect(preprocessPlan({ ...CLIP, size: { longest_edge: 96 } })).toBeUndefined();
    expect(preprocessPlan({ ...CLIP, image_std: [0, 1, 1] })).toBeUndefined();
  });

  it('crops odd excesses with the rounding asked for', () => {
    const img = randomImage(99, 96, 9);
    const floor = preprocessImages([img], preprocessPlan({ ...CLIP, do_resize: false, do_normalize: false, do_rescale: false })!);
    const even = preprocessImages([img], preprocessPlan({ ...CLIP, do_resize: false, do_normalize: false, do_rescale: false, medvlm_crop_rounding: 'round-half-even' })!);
    // Excess 3: floor(1.5) = 1, round-half-even(1.5) = 2.
    expect(floor.data[0]).toBe(img.data[1 * 3]);
    expect(even.data[0]).toBe(img.data[2 * 3]);
  });
});

describe('libvips-affine mode (medvlm-tiny) vs the engine it was trained with', () => {
  it('gives the pixel values of transformers.js in Node (sharp affine bicubic) bit for bit, on samples and odd sizes', async () => {
    const { loadImageProcessor, rgbToEngineImage } = await import('../../src/runtime/engine.js');
    const { resolveRuntimeSettings } = await import('../../src/runtime/env.js');
    const folder = join(REPO_ROOT, 'models', 'medvlm-tiny');
    const proc = await loadImageProcessor({ id: folder, source: { kind: 'folder', location: folder }, settings: resolveRuntimeSettings({}), dtype: 'fp32' });
    const plan = preprocessPlan(proc.config);
    expect(plan?.resampler).toBe('libvips-affine');
    const real = await Promise.all(['vqarad-chest-xray-1.jpg', 'vqarad-head-mr-1.jpg', 'pneumoniamnist-test-0001-normal.png'].map(sample));
    const sizes: Array<[number, number]> = [[28, 28], [97, 61], [61, 97], [300, 129], [96, 96], [95, 200], [1000, 333], [7, 5], [257, 3]];
    const images = [...real, ...sizes.map(([w, h], i) => randomImage(w, h, 100 + i))];
    let worst = 0;
    for (const image of images) {
      const engine = (await proc([rgbToEngineImage(image.data, image.width, image.height)])) as { pixel_values: { data: Float32Array; dims: number[] } };
      const ours = preprocessImages([image], plan!);
      expect(ours.dims).toEqual(engine.pixel_values.dims);
      for (let k = 0; k < ours.data.length; k++) worst = Math.max(worst, Math.abs(ours.data[k] - engine.pixel_values.data[k]));
    }
    expect(worst).toBe(0);
  });

  it('differs from Pillow where Pillow antialiases (the two modes are not interchangeable)', () => {
    const img = randomImage(300, 300, 5);
    const a = preprocessImages([img], preprocessPlan({ ...CLIP, medvlm_resize: 'libvips-affine' })!);
    const b = preprocessImages([img], preprocessPlan(CLIP)!);
    let max = 0;
    for (let k = 0; k < a.data.length; k++) max = Math.max(max, Math.abs(a.data[k] - b.data[k]));
    expect(max).toBeGreaterThan(0.5);
    expect(preprocessPlan({ ...CLIP, medvlm_resize: 'libvips-affine', resample: 2 })).toBeUndefined();
    expect(preprocessPlan({ ...CLIP, medvlm_resize: 'canvas' })).toBeUndefined();
  });
});
