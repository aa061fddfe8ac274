/**
 * Enhanced multi-frame images keep geometry, rescale and windows in functional groups, not at the top level.
 * readDicom against two independent readers on instances written by pydicom (test/dicom/support/make_enhanced.py):
 * gdcm's gdcminfo for origin, spacing and direction (it reads the functional groups itself), and pydicom's own
 * pixel decoding with each frame's rescale for the values (one frame overrides the shared rescale).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readDicom } from '../../src/io/dicom/index.js';

const PY = '/usr/bin/python3';
const script = fileURLToPath(new URL('./support/make_enhanced.py', import.meta.url));
const hasPydicom = spawnSync(PY, ['-c', 'import pydicom, numpy'], { stdio: 'ignore' }).status === 0;
const hasGdcm = spawnSync('gdcminfo', ['--version'], { stdio: 'ignore' }).status === 0;
const missing = [hasPydicom ? '' : 'python3-pydicom', hasGdcm ? '' : 'gdcminfo (libgdcm-tools)'].filter(Boolean);
if (missing.length) console.warn(`[skip] enhanced multi-frame geometry: ${missing.join(', ')} not installed`);
const dir = mkdtempSync(join(tmpdir(), 'medvlm-enhanced-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** gdcminfo's Origin, Spacing (signed along its normal) and DirectionCosines (row, column). */
function gdcmGeometry(file: string): { origin: number[]; spacing: number[]; cosines: number[] } {
  const text = spawnSync('gdcminfo', [file], { encoding: 'utf8' }).stdout;
  const triple = (label: string): number[] => {
    const m = new RegExp(`^${label}: \\(([^)]*)\\)`, 'm').exec(text);
    if (!m) throw new Error(`gdcminfo printed no ${label}:\n${text}`);
    return m[1].split(',').map(Number);
  };
  return { origin: triple('Origin'), spacing: triple('Spacing'), cosines: triple('DirectionCosines') };
}

describe.skipIf(missing.length > 0)('enhanced multi-frame DICOM: functional groups', () => {
  for (const reversed of [false, true]) {
    it(`geometry equals gdcm's and values equal pydicom's per-frame rescale (frames stepping ${reversed ? 'along' : 'against'} the normal)`, async () => {
      const file = join(dir, `enhanced-${reversed ? 'rev' : 'fwd'}.dcm`);
      const ref = JSON.parse(spawnSync(PY, [script, file, reversed ? '1' : '0'], { encoding: 'utf8' }).stdout) as { values: number[][]; rescale: number[][] };
      const img = await readDicom(readFileSync(file), file);
      const g = gdcmGeometry(file);

      expect(img.origin).toEqual(g.origin);
      expect(img.spacing.map((v) => Math.round(v * 1e6) / 1e6)).toEqual(g.spacing.map((v) => Math.abs(v)));
      const d = img.direction!;
      expect([d[0], d[3], d[6], d[1], d[4], d[7]]).toEqual(g.cosines);
      // gdcm's normal is row × column with a signed spacing; medvlm keeps spacing positive and turns the normal instead
      const [r, c] = [g.cosines.slice(0, 3), g.cosines.slice(3)];
      const n = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]].map((v) => v * Math.sign(g.spacing[2]) + 0);
      expect([d[2], d[5], d[8]].map((v) => v + 0)).toEqual(n);
      expect(reversed ? d[2] : -d[2]).toBe(-1); // pinned: the normal is -x, frames step +x unless reversed

      expect(ref.rescale[2]).toEqual([1, -1000]);
      const frame = img.width * img.height;
      for (let f = 0; f < img.depth; f++) expect(Array.from(img.data.subarray(f * frame, (f + 1) * frame))).toEqual(ref.values[f]);
      expect(img.meta.rescaleSlope).toBe(2);
      expect(img.windows).toEqual([{ center: 40, width: 400, source: 'file' }]);
    });
  }
});
