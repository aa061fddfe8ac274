/**
 * Raster fixtures: PNG/TIFF files written by numpy + zlib (make_rasters.py, independent of sharp),
 * and an independent JPEG decode by dcmtk (img2dcm → dcmdjpeg → dcm2pnm) for real MedPix JPEGs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the raster fixtures go (gitignored). */
export const RASTER_CORPUS = join(REPO_ROOT, 'test', '.corpus', 'raster');
/** Real MedPix JPEGs. */
export const MEDPIX_IMAGES = resolve(REPO_ROOT, '..', 'shared', 'data', 'medpix2', 'images');
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(REPO_ROOT, 'test', 'raster', 'make_rasters.py');

/** Why the numpy-written fixtures cannot be made, or null. */
export function rasterFixturesSkipReason(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `numpy not available to ${PYTHON}; raster parity tests skipped`;
}

/** Write the fixtures once (rebuilt when make_rasters.py changes). */
export function ensureRasterFixtures(): string {
  const stamp = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 16);
  const stampPath = join(RASTER_CORPUS, 'stamp');
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) return RASTER_CORPUS;
  const tmp = `${RASTER_CORPUS}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  const run = spawnSync(PYTHON, [SCRIPT, tmp], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`make_rasters.py failed:\n${run.stderr}`);
  writeFileSync(join(tmp, 'stamp'), stamp);
  rmSync(RASTER_CORPUS, { recursive: true, force: true });
  try {
    renameSync(tmp, RASTER_CORPUS);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
  return RASTER_CORPUS;
}

/** A minimal .npy reader (version 1/2, C order, u1/<u2 only) for the expected arrays. */
export function readNpy(path: string): { shape: number[]; data: Uint8Array | Uint16Array } {
  const buf = readFileSync(path);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: Fortran order not supported`);
  const body = new Uint8Array(buf.subarray(start + headerLen));
  if (descr === '|u1') return { shape, data: body };
  if (descr === '<u2') return { shape, data: new Uint16Array(body.buffer, 0, body.length / 2) };
  throw new Error(`${path}: dtype ${descr} not supported`);
}

/** Why dcmtk cannot decode JPEGs here, or null. */
export function dcmtkSkipReason(): string | null {
  for (const tool of ['img2dcm', 'dcmdjpeg', 'dcm2pnm']) {
    if (spawnSync('which', [tool]).status !== 0) return `dcmtk tool ${tool} not found; JPEG parity test skipped`;
  }
  if (!existsSync(MEDPIX_IMAGES)) return `real data not found at ${MEDPIX_IMAGES}; JPEG parity test skipped`;
  return null;
}

/** Decode a JPEG with dcmtk (IJG decoder) into 8-bit samples (PGM grey or PPM RGB). */
export function decodeJpegWithDcmtk(jpeg: string, workDir: string): { width: number; height: number; channels: number; data: Uint8Array } {
  mkdirSync(workDir, { recursive: true });
  const enc = join(workDir, 'wrapped.dcm');
  const dec = join(workDir, 'decoded.dcm');
  const pnm = join(workDir, 'out.pnm');
  for (const [tool, args] of [
    ['img2dcm', [jpeg, enc]],
    ['dcmdjpeg', [enc, dec]],
    ['dcm2pnm', ['--write-raw-pnm', dec, pnm]],
  ] as const) {
    const r = spawnSync(tool, [...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${tool} failed on ${jpeg}: ${r.stderr}`);
  }
  const buf = readFileSync(pnm);
  const m = /^(P5|P6)\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.subarray(0, 64).toString('latin1'));
  if (!m) throw new Error(`${pnm}: not a raw PGM/PPM`);
  const channels = m[1] === 'P6' ? 3 : 1;
  const width = Number(m[2]);
  const height = Number(m[3]);
  const data = new Uint8Array(buf.subarray(m[0].length, m[0].length + width * height * channels));
  return { width, height, channels, data };
}
