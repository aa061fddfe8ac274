/**
 * Parity of readDicom with dcmtk/gdcm on every file of the DICOM corpus: bit-exact for lossless
 * transfer syntaxes, within ±1 stored unit for lossy ones (against the lossy file's own reference decoding).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readDicom } from '../../src/io/dicom/index.js';
import { buildDicomCorpus, dicomCorpusUnavailable, type CorpusEntry } from '../support/dicom-corpus.js';
import { expectedSamples } from '../support/dicom-reference.js';

const unavailable = dicomCorpusUnavailable();
if (unavailable) console.warn(`skipping DICOM parity tests: ${unavailable}`);
const corpus = unavailable ? undefined : await buildDicomCorpus();
const images: CorpusEntry[] = corpus && 'files' in corpus ? corpus.files.filter((f) => !f.expectError) : [];

/** Largest |a - b| over all samples. */
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const table: string[] = [];

describe.skipIf(images.length === 0)('readDicom parity with dcmtk/gdcm', () => {
  afterAll(() => {
    if (table.length) console.log(['file | transfer syntax | photometric | bits | frames | max abs diff', ...table].join('\n'));
  });

  it('covers every transfer syntax the reader claims', () => {
    const syntaxes = new Set(images.map((f) => f.transferSyntaxUID));
    for (const uid of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2',
      '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57',
      '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.90',
      '1.2.840.10008.1.2.4.91']) {
      expect(syntaxes, uid).toContain(uid);
    }
    const photometrics = new Set(images.map((f) => f.photometric));
    for (const p of ['MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'YBR_FULL_422', 'PALETTE COLOR']) {
      expect(photometrics, p).toContain(p);
    }
  });

  for (const entry of images) {
    it(`${entry.name}: ${entry.recipe}`, async () => {
      const img = await readDicom(readFileSync(entry.file), entry.file);
      const colour = entry.reference?.kind === 'rgb';
      expect(img.height).toBe(entry.rows);
      expect(img.width).toBe(entry.columns);
      expect(img.depth).toBe(entry.frames);
      expect(img.channels).toBe(colour ? 3 : 1);
      expect(img.photometric).toBe(entry.photometric);
      if (entry.transferSyntaxUID) expect(img.meta.transferSyntaxUID).toBe(entry.transferSyntaxUID);
      // dcmj2pnm writes the first frame only; colour files here are single-frame.
      const expected = expectedSamples(entry);
      expect(img.data.length).toBe(expected.length);
      const diff = maxAbsDiff(img.data, expected);
      table.push(`${entry.name} | ${img.meta.transferSyntax} | ${entry.photometric} | ${entry.bitsAllocated}/${entry.bitsStored}${entry.signed ? 's' : 'u'} | ${entry.frames} | ${diff / (colour ? 1 : Math.abs(entry.rescaleSlope))}`);
      const allowed = entry.tolerance * (colour ? 1 : Math.abs(entry.rescaleSlope));
      expect(diff, `max |medvlm - reference| for ${entry.name}`).toBeLessThanOrEqual(allowed);
    });
  }
});
