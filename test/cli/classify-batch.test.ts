import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { pipeline } from '../../src/tasks/pipeline.js';
import { testModel } from '../models/fixtures.js';
import { writeNifti1 } from '../support/nifti-synth.js';
import { hasStackTrace, medvlm } from './helpers.js';

const hasDcmtk = (() => {
  try {
    execFileSync('img2dcm', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasDcmtk) console.warn('classify-batch: dcmtk (img2dcm) not installed; the DICOM files of the mixed folder are left out');

/** A gradient test image: value (x*7 + y*3) mod 256. */
function gradient(width: number, height: number): Buffer {
  const px = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px[y * width + x] = (x * 7 + y * 3) % 256;
  return px;
}

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const p = join(e.parentPath, e.name);
      return `${p}:${statSync(p).size}:${statSync(p).mtimeMs}`;
    })
    .sort();
}

let dir: string;
const good: string[] = [];
const bad: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medvlm-mixed-'));
  mkdirSync(join(dir, 'sub'));
  const png = join(dir, 'gradient.png');
  await sharp(gradient(48, 40), { raw: { width: 48, height: 40, channels: 1 } }).png().toFile(png);
  good.push(png);
  const vol = new Int16Array(16 * 12 * 5).map((_, i) => (i % 97) * 10 - 200);
  const nii = join(dir, 'sub', 'volume.nii');
  writeFileSync(nii, writeNifti1({ dims: [16, 12, 5], datatype: 4, data: vol, pixdim: [0.8, 0.8, 2.5] }));
  good.push(nii);
  if (hasDcmtk) {
    const jpg = join(tmpdir(), `medvlm-src-${process.pid}.jpg`);
    await sharp(gradient(64, 64), { raw: { width: 64, height: 64, channels: 1 } }).jpeg({ quality: 95 }).toFile(jpg);
    const dcm = join(dir, 'sub', 'slice.dcm');
    execFileSync('img2dcm', [jpg, dcm]);
    good.push(dcm);
    const bytes = readFileSync(dcm);
    writeFileSync(join(dir, 'truncated.dcm'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    bad[join(dir, 'truncated.dcm')] = 'E_DICOM_INVALID';
  }
  writeFileSync(join(dir, 'empty.dcm'), '');
  bad[join(dir, 'empty.dcm')] = 'E_FILE_EMPTY';
  writeFileSync(join(dir, 'notes.dcm'), 'Patient seen on Monday. This is a text file, not DICOM.\n'.repeat(20));
  bad[join(dir, 'notes.dcm')] = 'E_DICOM_INVALID';
  writeFileSync(join(dir, 'fake.nii.gz'), 'not gzip at all'.repeat(40));
  bad[join(dir, 'fake.nii.gz')] = 'E_GZIP_INVALID';
  const wrongHeader = writeNifti1({ dims: [4, 4, 1], datatype: 2, data: new Uint8Array(16) });
  new DataView(wrongHeader.buffer).setInt32(0, 349, true);
  writeFileSync(join(dir, 'wrong-header.nii'), wrongHeader);
  bad[join(dir, 'wrong-header.nii')] = 'E_NIFTI_INVALID';
  const huge = writeNifti1({ dims: [32000, 32000, 8], datatype: 4, data: new Int16Array(8) });
  writeFileSync(join(dir, 'huge.nii'), huge);
  bad[join(dir, 'huge.nii')] = 'E_IMAGE_TOO_LARGE';
});

describe('medvlm classify on a mixed folder', () => {
  it('labels every readable file, reports each bad one with its code, exits 3, writes nothing', async () => {
    const before = listing(dir);
    const r = medvlm(['classify', dir, '--labels', 'a chest x-ray, a brain mri, a ct', '--model', testModel('clip'), '--json']);
    expect(r.code).toBe(3);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stderr).toMatch(/Research use only/);
    const results = JSON.parse(r.stdout) as Array<{ file: string; labels?: Array<{ label: string; score: number }>; error?: { code: string; message: string } }>;
    const ok = results.filter((x) => x.labels);
    expect(ok.map((x) => x.file).sort()).toEqual([...good].sort());
    for (const x of ok) {
      expect(x.labels!.map((l) => l.label).sort()).toEqual(['a brain mri', 'a chest x-ray', 'a ct']);
      expect(x.labels!.reduce((s, l) => s + l.score, 0)).toBeCloseTo(1, 6);
      expect(x.labels![0].score).toBeGreaterThanOrEqual(x.labels![1].score);
    }
    const errors = Object.fromEntries(results.filter((x) => x.error).map((x) => [x.file, x.error!]));
    expect(Object.keys(errors).sort()).toEqual(Object.keys(bad).sort());
    for (const [file, code] of Object.entries(bad)) {
      expect(errors[file].code, file).toBe(code);
      expect(errors[file].message, file).toContain(file);
    }
    expect(listing(dir)).toEqual(before);
  });

  it('prints the same scores as the library API (the CLI adds no logic)', async () => {
    const r = medvlm(['classify', good[0], '--labels', 'a chest x-ray,a brain mri', '--model', testModel('clip'), '--json']);
    expect(r.code).toBe(0);
    const [cli] = JSON.parse(r.stdout) as Array<{ labels: Array<{ label: string; score: number }> }>;
    const classify = await pipeline('zero-shot-image-classification', testModel('clip'));
    const lib = await classify(readFileSync(good[0]), 'a chest x-ray,a brain mri');
    await classify.dispose();
    expect(cli.labels.map((l) => l.label)).toEqual(lib.map((l) => l.label));
    cli.labels.forEach((l, i) => expect(l.score).toBe(lib[i].score));
  });

  it('text output: one line per file, errors on stderr in one line each without stack traces', () => {
    const r = medvlm(['classify', dir, '--labels', 'a,b', '--model', testModel('clip')]);
    expect(r.code).toBe(3);
    expect(r.stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(good.length);
    for (const file of Object.keys(bad)) expect(r.stderr).toContain(file);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});

describe('medvlm bad options and models', () => {
  it('inputs that name no file → one line each, exit 3, no model loaded and nothing on stdout', () => {
    const r = medvlm(['classify', join(dir, 'missing.png'), join(dir, 'nothing-*.dcm'), '--labels', 'a,b', '--model', testModel('clip')]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${join(dir, 'missing.png')}: no such file or folder [E_FILE_NOT_FOUND]`);
    expect(r.stderr).toContain('pattern matched no image files');
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
  it('empty labels → E_LABELS_EMPTY, exit 2', () => {
    const r = medvlm(['classify', good[0], '--labels', ' , ', '--model', testModel('clip')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/E_LABELS_EMPTY/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
  it('model folder without tokenizer files → E_MODEL_INVALID naming the file, exit 4; --debug adds the stack', () => {
    const r = medvlm(['classify', good[0], '--labels', 'a,b', '--model', testModel('noTokenizer')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/E_MODEL_INVALID/);
    expect(r.stderr).toMatch(/tokenizer\.json/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const d = medvlm(['classify', good[0], '--labels', 'a,b', '--model', testModel('noTokenizer'), '--debug']);
    expect(d.code).toBe(4);
    expect(hasStackTrace(d.stderr)).toBe(true);
  });
  it('hub id offline → one sentence telling how to use a local folder, exit 4', () => {
    const r = medvlm(['classify', good[0], '--labels', 'a,b', '--model', 'Xenova/clip-vit-base-patch32']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/E_MODEL_OFFLINE/);
    expect(r.stderr).toMatch(/--model/);
  });
  it('unknown window preset → did-you-mean, exit 2', () => {
    const r = medvlm(['classify', good[0], '--labels', 'a,b', '--model', testModel('clip'), '--window', 'lugn']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/did you mean 'lung'/);
  });
});
