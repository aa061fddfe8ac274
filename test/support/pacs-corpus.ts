/**
 * Studies for the PACS tests, made from the DICOM reference corpus (test/support/dicom-corpus.ts): every
 * Part 10 image file of the corpus gets its own SOP instance UID (the corpus reuses UIDs across transfer
 * syntaxes) with dcmtk's dcmodify, which keeps each file's transfer syntax and pixel encoding.
 *
 * - `syntaxes`: all single-frame images, one series per transfer syntax (a multi-series study);
 * - `multiFrame`: the multi-frame files, one series;
 * - `corrupt`: three good files and one whose JPEG stream is corrupt (Orthanc accepts it: only the
 *   decoder notices).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CorpusEntry, DicomCorpus } from './dicom-corpus.js';

/** One file prepared for upload. */
export interface PacsFile {
  file: string;
  source: string;
  sopInstanceUid: string;
  seriesUid: string;
  studyUid: string;
  transferSyntaxUID: string;
  frames: number;
}

/** One study prepared for upload. */
export interface PacsStudy {
  studyUid: string;
  patientId: string;
  studyDate: string;
  accession: string;
  files: PacsFile[];
  /** SOP instance UIDs that cannot be decoded (the corrupt study). */
  corruptUids: string[];
}

/** The three test studies. */
export interface PacsCorpus {
  syntaxes: PacsStudy;
  multiFrame: PacsStudy;
  corrupt: PacsStudy;
}

const ROOT = '1.2.826.0.1.3680043.10.1234.77';

function modify(file: string, tags: Record<string, string>): void {
  const args = ['-nb'];
  for (const [tag, value] of Object.entries(tags)) args.push('-i', `(${tag})=${value}`);
  execFileSync('dcmodify', [...args, file], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeStudy(
  dir: string,
  n: number,
  meta: { patientId: string; studyDate: string; accession: string },
  groups: Array<{ entries: CorpusEntry[] }>,
): PacsStudy {
  const studyUid = `${ROOT}.${n}`;
  const files: PacsFile[] = [];
  groups.forEach((g, s) => {
    const seriesUid = `${studyUid}.${s + 1}`;
    g.entries.forEach((e, i) => {
      const sopInstanceUid = `${seriesUid}.${i + 1}`;
      const file = join(dir, `${sopInstanceUid}.dcm`);
      copyFileSync(e.file, file);
      modify(file, {
        '0020,000d': studyUid,
        '0020,000e': seriesUid,
        '0008,0018': sopInstanceUid,
        '0010,0020': meta.patientId,
        '0008,0020': meta.studyDate,
        '0008,0050': meta.accession,
        '0020,0011': String(s + 1),
        '0020,0013': String(i + 1),
      });
      files.push({ file, source: e.name, sopInstanceUid, seriesUid, studyUid, transferSyntaxUID: e.transferSyntaxUID, frames: e.frames });
    });
  });
  return { studyUid, ...meta, files, corruptUids: [] };
}

/** Build the test studies into `dir` (dcmtk's dcmodify must be on PATH). */
export function buildPacsCorpus(corpus: DicomCorpus, dir: string): PacsCorpus {
  mkdirSync(dir, { recursive: true });
  const images = corpus.files.filter((f) => !f.expectError && f.transferSyntaxUID !== '');
  const single = images.filter((f) => f.frames <= 1);
  const bySyntax = new Map<string, CorpusEntry[]>();
  for (const f of single) bySyntax.set(f.transferSyntaxUID, [...(bySyntax.get(f.transferSyntaxUID) ?? []), f]);
  const syntaxes = makeStudy(dir, 1, { patientId: 'PACS-A', studyDate: '20240115', accession: 'ACC-A1' }, [...bySyntax.values()].map((entries) => ({ entries })));
  const multiFrame = makeStudy(dir, 2, { patientId: 'PACS-B', studyDate: '20240220', accession: 'ACC-B1' }, [{ entries: images.filter((f) => f.frames > 1) }]);
  const good = single.filter((f) => f.transferSyntaxUID === '1.2.840.10008.1.2.1').slice(0, 3);
  const bad = corpus.files.find((f) => f.name === 'err_corrupt_jpeg.dcm');
  if (!bad || good.length < 3) throw new Error('DICOM corpus lacks err_corrupt_jpeg.dcm or three explicit-VR files');
  const corrupt = makeStudy(dir, 3, { patientId: 'PACS-A', studyDate: '20240301', accession: 'ACC-C1' }, [{ entries: [...good, bad] }]);
  corrupt.corruptUids = [corrupt.files[corrupt.files.length - 1].sopInstanceUid];
  return { syntaxes, multiFrame, corrupt };
}
