/**
 * Builds the NIfTI test corpus in test/.corpus/nifti/: real MedPix CT slices (decoded with sharp,
 * greyscale, resized to a common size) stacked into volumes, written by nibabel
 * (test/nifti/build_fixtures.py) with varied affines, datatypes, scaling and versions, plus
 * reference.json holding nibabel's own reading of every file.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/** Repository root (two levels above this file). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The shared real-data folder (absent on users' machines). */
export const SHARED_DATA = resolve(REPO_ROOT, '..', 'shared', 'data');
/** Where the NIfTI fixtures are written (gitignored). */
export const NIFTI_CORPUS = join(REPO_ROOT, 'test', '.corpus', 'nifti');
/** Debian's Python, which has nibabel when python3-nibabel is installed. */
export const PYTHON = '/usr/bin/python3';

const SCRIPT = join(REPO_ROOT, 'test', 'nifti', 'build_fixtures.py');
const STACK = { k: 8, h: 48, w: 64 };

/** nibabel's view of one fixture file (see build_fixtures.py). */
export interface NiftiReference {
  shape: number[];
  zooms: number[];
  affine: number[][];
  axcodes: string;
  sformCode: number;
  qformCode: number;
  datatype: string;
  slope: number | null;
  inter: number | null;
  min: number;
  max: number;
  mean: number;
  samples: { index: number[]; value: number | number[] }[];
  version: 1 | 2;
}

/** Why the corpus cannot be built here, or null when it can. */
export function niftiCorpusSkipReason(): string | null {
  if (!existsSync(join(SHARED_DATA, 'medpix2', 'manifest.jsonl'))) {
    return `real data not found at ${SHARED_DATA} (medpix2); NIfTI parity tests skipped`;
  }
  const probe = spawnSync(PYTHON, ['-c', 'import nibabel'], { encoding: 'utf8' });
  if (probe.status !== 0) return `nibabel not available (${PYTHON} -c "import nibabel" failed; apt-get install python3-nibabel)`;
  return null;
}

/** MedPix CT axial images, first K in manifest order. */
function pickSlices(k: number): string[] {
  const lines = readFileSync(join(SHARED_DATA, 'medpix2', 'manifest.jsonl'), 'utf8').split('\n').filter(Boolean);
  const picked: string[] = [];
  for (const line of lines) {
    const rec = JSON.parse(line) as { image: string; type?: string; plane?: string };
    if (rec.type === 'CT' && rec.plane === 'Axial') picked.push(join(SHARED_DATA, 'medpix2', rec.image));
    if (picked.length === k) break;
  }
  if (picked.length < k) throw new Error(`only ${picked.length} MedPix CT axial images found`);
  return picked;
}

/**
 * Build the corpus once (cached by a hash of the builder script) and return nibabel's reference.
 * Concurrent callers each build in a private folder and rename it into place.
 */
export async function ensureNiftiCorpus(): Promise<Record<string, NiftiReference>> {
  const stamp = createHash('sha256').update(readFileSync(SCRIPT)).update(JSON.stringify(STACK)).digest('hex').slice(0, 16);
  const refPath = join(NIFTI_CORPUS, 'reference.json');
  const stampPath = join(NIFTI_CORPUS, 'stamp');
  if (existsSync(refPath) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) {
    return (JSON.parse(readFileSync(refPath, 'utf8')) as { files: Record<string, NiftiReference> }).files;
  }
  const tmp = `${NIFTI_CORPUS}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const frames: Buffer[] = [];
  for (const file of pickSlices(STACK.k)) {
    frames.push(
      await sharp(file).greyscale().resize(STACK.w, STACK.h, { fit: 'fill' }).raw().toBuffer(),
    );
  }
  const stackPath = join(tmp, 'stack.u8');
  writeFileSync(stackPath, Buffer.concat(frames));
  const run = spawnSync(PYTHON, [SCRIPT, tmp, stackPath, String(STACK.k), String(STACK.h), String(STACK.w)], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`build_fixtures.py failed:\n${run.stderr}`);
  writeFileSync(join(tmp, 'stamp'), stamp);
  rmSync(NIFTI_CORPUS, { recursive: true, force: true });
  mkdirSync(dirname(NIFTI_CORPUS), { recursive: true });
  try {
    renameSync(tmp, NIFTI_CORPUS);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another worker won the race
  }
  return (JSON.parse(readFileSync(refPath, 'utf8')) as { files: Record<string, NiftiReference> }).files;
}
