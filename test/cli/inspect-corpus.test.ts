/**
 * `medvlm inspect --json` on the real-file DICOM corpus agrees with the reference decoders (dcmtk/gdcm):
 * shape fields, transfer syntax and min/max/mean over every sample in physical units; broken files get
 * their pinned error codes in the same run.
 */
import { describe, expect, it } from 'vitest';
import { buildDicomCorpus, dicomCorpusUnavailable, type CorpusEntry } from '../support/dicom-corpus.js';
import { expectedSamples } from '../support/dicom-reference.js';
import { hasStackTrace, medvlm } from './helpers.js';

const unavailable = dicomCorpusUnavailable();
if (unavailable) console.warn(`skipping inspect-on-corpus test: ${unavailable}`);
const corpus = unavailable ? undefined : await buildDicomCorpus();
const entries: CorpusEntry[] = corpus && 'files' in corpus ? corpus.files : [];

function stats(a: ArrayLike<number>): { min: number; max: number; mean: number } {
  let min = Infinity, max = -Infinity, sum = 0;
  for (let i = 0; i < a.length; i++) {
    min = Math.min(min, a[i]);
    max = Math.max(max, a[i]);
    sum += a[i];
  }
  return { min, max, mean: sum / a.length };
}

describe.skipIf(entries.length === 0)('medvlm inspect --json on the DICOM corpus', () => {
  it('matches the reference decoders on every readable file and reports every broken one', () => {
    const r = medvlm(['inspect', '--json', ...entries.map((e) => e.file)]);
    expect(r.code).toBe(3); // the corpus holds broken files on purpose
    expect(hasStackTrace(r.stderr)).toBe(false);
    const results = JSON.parse(r.stdout) as Array<Record<string, unknown> & { file: string }>;
    const byFile = new Map(results.map((x) => [x.file, x]));
    let compared = 0;
    for (const e of entries) {
      const got = byFile.get(e.file)!;
      expect(got, e.name).toBeDefined();
      if (e.expectError) {
        expect((got.error as { code: string }).code, e.name).toBe(e.expectError);
        continue;
      }
      expect(got.error, `${e.name}: ${JSON.stringify(got.error)}`).toBeUndefined();
      expect(got.rows, e.name).toBe(e.rows);
      expect(got.columns, e.name).toBe(e.columns);
      expect(got.frames, e.name).toBe(e.frames);
      expect(got.phi, e.name).toBeUndefined();
      if (e.transferSyntaxUID) expect(got.transferSyntaxUID, e.name).toBe(e.transferSyntaxUID);
      const ref = stats(expectedSamples(e));
      const values = got.values as { min: number; max: number; mean: number };
      const tol = e.tolerance * (e.reference?.kind === 'rgb' ? 1 : Math.abs(e.rescaleSlope)) + 1e-6;
      expect(Math.abs(values.min - ref.min), `${e.name} min`).toBeLessThanOrEqual(tol);
      expect(Math.abs(values.max - ref.max), `${e.name} max`).toBeLessThanOrEqual(tol);
      expect(Math.abs(values.mean - ref.mean), `${e.name} mean`).toBeLessThanOrEqual(tol + 1e-6 * Math.abs(ref.mean));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(60);
  });

  it('prints patient identifiers only with --show-phi', () => {
    const withPhi = entries.find((e) => !e.expectError)!;
    const hidden = JSON.parse(medvlm(['inspect', '--json', withPhi.file]).stdout) as Record<string, unknown>;
    const shown = JSON.parse(medvlm(['inspect', '--json', '--show-phi', withPhi.file]).stdout) as Record<string, unknown>;
    expect(hidden.phi).toBeUndefined();
    expect(JSON.stringify(hidden)).not.toMatch(/PatientName|PatientID/);
    expect(Object.keys(shown.phi as object).length).toBeGreaterThan(0);
  });
});
