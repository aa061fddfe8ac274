/**
 * Round trip against a real Orthanc (Debian's orthanc + orthanc-dicomweb): STOW-RS upload of the DICOM
 * corpus (every transfer syntax, a multi-series, a multi-frame and a corrupt study) → QIDO-RS (same sets
 * as Orthanc's own REST API) → WADO-RS pull (bytes equal the uploaded files; resumable) → classify from
 * the PACS (scores equal classifying the pulled files) → SR stored with STOW-RS, read back, checked with
 * dcmtk's dsrdump/dcmdump and dicom3tools' dciodvfy.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacsError } from '../../src/core/errors.js';
import type { DualEncoder } from '../../src/models/capabilities.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { classifyStudy, type SeriesScores } from '../../src/pacs/classify.js';
import { DicomwebClient } from '../../src/pacs/client.js';
import { str } from '../../src/pacs/dicom-json.js';
import { instancePath, pullStudy } from '../../src/pacs/pull.js';
import { storeSeriesSr } from '../../src/pacs/store-results.js';
import { classifyInputs, type ClassifyResult } from '../../src/tasks/zero-shot.js';
import { loadTemplates } from '../../src/tasks/templates-files.js';
import { isFileError } from '../../src/tasks/batch.js';
import { buildDicomCorpus } from '../support/dicom-corpus.js';
import { orthancUnavailable, startOrthanc, type TestOrthanc } from '../support/orthanc.js';
import { buildPacsCorpus, type PacsCorpus, type PacsStudy } from '../support/pacs-corpus.js';

const corpus = await buildDicomCorpus();
const hasDciodvfy = spawnSync('dciodvfy', [], { stdio: 'ignore' }).error === undefined;
const hasPdftotext = spawnSync('pdftotext', ['-v'], { stdio: 'ignore' }).error === undefined;
if (!hasPdftotext) console.warn('PACS round trip: pdftotext (Debian package poppler-utils) not installed; the PDF rendition test is skipped');
const skip = 'skipped' in corpus ? corpus.skipped : orthancUnavailable();
if (skip) console.warn(`PACS round trip skipped: ${skip}`);
if (!hasDciodvfy) console.warn('PACS round trip: dciodvfy (Debian package dicom3tools) not installed; the SR is checked with dcmtk only');

const LABELS = ['CT scan', 'MRI scan', 'X-ray', 'photograph'];

describe.skipIf(Boolean(skip))('PACS round trip with Orthanc', () => {
  let orthanc: TestOrthanc;
  let work: string;
  let studies: PacsCorpus;
  let client: DicomwebClient;
  let encoder: DualEncoder;
  const all = (): PacsStudy[] => [studies.syntaxes, studies.multiFrame, studies.corrupt];

  beforeAll(async () => {
    if ('skipped' in corpus) return;
    work = mkdtempSync(join(tmpdir(), 'medvlm-pacs-'));
    studies = buildPacsCorpus(corpus, join(work, 'upload'));
    orthanc = await startOrthanc();
    client = new DicomwebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: orthanc.user, password: orthanc.password }, backoffMs: 50 });
    for (const s of all()) {
      const r = await client.store(s.files.map((f) => readFileSync(f.file)), s.studyUid);
      expect(r.failed).toEqual([]);
      expect(r.stored.sort()).toEqual(s.files.map((f) => f.sopInstanceUid).sort());
    }
    encoder = await loadDualEncoder('medvlm-tiny', { offline: true, threads: 1 });
  });

  afterAll(async () => {
    await encoder?.dispose();
    await client?.close();
    await orthanc?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('uploaded every transfer syntax of the corpus', () => {
    const syntaxes = new Set(studies.syntaxes.files.map((f) => f.transferSyntaxUID));
    // explicit/implicit/big-endian/deflated, RLE, JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000
    expect(syntaxes.size).toBeGreaterThanOrEqual(12);
    expect(studies.multiFrame.files.every((f) => f.frames > 1)).toBe(true);
  });

  it('QIDO-RS filters give the same sets as Orthanc\'s REST API', async () => {
    type Found = Array<{ MainDicomTags: Record<string, string> }>;
    const restStudies = async (query: Record<string, string>) =>
      (await orthanc.rest<Found>('/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Study', Query: query, Expand: true }) }))
        .map((s) => s.MainDicomTags.StudyInstanceUID)
        .sort();
    const cases: Array<[Parameters<DicomwebClient['searchStudies']>[0], Record<string, string>]> = [
      [{}, {}],
      [{ patientId: 'PACS-A' }, { PatientID: 'PACS-A' }],
      [{ patientId: 'PACS-*' }, { PatientID: 'PACS-*' }],
      [{ studyDate: '20240201-20240331' }, { StudyDate: '20240201-20240331' }],
      [{ studyDate: '-20240131' }, { StudyDate: '-20240131' }],
      [{ accession: 'ACC-B1' }, { AccessionNumber: 'ACC-B1' }],
      [{ modality: 'CT' }, { ModalitiesInStudy: 'CT' }],
    ];
    for (const [filters, query] of cases) {
      const qido = (await client.searchStudies(filters)).map((j) => str(j, 'StudyInstanceUID')).sort();
      expect(qido, JSON.stringify(filters)).toEqual(await restStudies(query));
    }
    // the filters really select: not every case is "everything"
    expect((await client.searchStudies({ patientId: 'PACS-A' })).length).toBe(2);
    expect((await client.searchStudies({ accession: 'ACC-B1' })).length).toBe(1);

    // series and instances of the multi-series study
    const restSeries = (await orthanc.rest<Found>('/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Series', Query: { StudyInstanceUID: studies.syntaxes.studyUid }, Expand: true }) }))
      .map((s) => s.MainDicomTags.SeriesInstanceUID)
      .sort();
    const series = (await client.searchSeries({ studyUid: studies.syntaxes.studyUid })).map((j) => str(j, 'SeriesInstanceUID')).sort();
    expect(series).toEqual(restSeries);
    expect(series.length).toBe(new Set(studies.syntaxes.files.map((f) => f.seriesUid)).size);
    // Modality at series level: the most common one, compared with the unfiltered answer and with Orthanc's REST API
    const all = await client.searchSeries({ studyUid: studies.syntaxes.studyUid });
    const counts = new Map<string, number>();
    for (const j of all) counts.set(str(j, 'Modality'), (counts.get(str(j, 'Modality')) ?? 0) + 1);
    const [modality] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
    const filtered = (await client.searchSeries({ studyUid: studies.syntaxes.studyUid, modality })).map((j) => str(j, 'SeriesInstanceUID')).sort();
    const restFiltered = (await orthanc.rest<Found>('/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Series', Query: { StudyInstanceUID: studies.syntaxes.studyUid, Modality: modality }, Expand: true }) }))
      .map((s) => s.MainDicomTags.SeriesInstanceUID)
      .sort();
    expect(filtered).toEqual(restFiltered);
    expect(filtered).toEqual(all.filter((j) => str(j, 'Modality') === modality).map((j) => str(j, 'SeriesInstanceUID')).sort());
    if (counts.size > 1) expect(filtered.length).toBeLessThan(series.length);
    const instances = (await client.searchInstances({ studyUid: studies.syntaxes.studyUid })).map((j) => str(j, 'SOPInstanceUID')).sort();
    expect(instances).toEqual(studies.syntaxes.files.map((f) => f.sopInstanceUid).sort());
  });

  it('pull writes every instance with the uploaded bytes, and a rerun writes nothing new', async () => {
    const out = join(work, 'pull');
    for (const s of all()) {
      const r = await pullStudy(client, { studyUid: s.studyUid, outDir: out });
      expect(r.failed).toEqual([]);
      expect(r.written.length).toBe(s.files.length);
      for (const f of s.files) {
        const got = readFileSync(instancePath(out, f.seriesUid, f.sopInstanceUid));
        expect(got.equals(readFileSync(f.file)), f.source).toBe(true);
      }
    }
    const again = await pullStudy(client, { studyUid: studies.syntaxes.studyUid, outDir: out });
    expect(again.written).toEqual([]);
    expect(again.skipped.length).toBe(studies.syntaxes.files.length);
    const files = readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.dcm'));
    expect(files.length).toBe(all().reduce((n, s) => n + s.files.length, 0));
  });

  let analysed: SeriesScores[];

  it('classify from the PACS gives the scores of classifying the same files from disk', async () => {
    const templates = loadTemplates('medical');
    analysed = [];
    for (const s of [studies.syntaxes, studies.multiFrame]) analysed.push(...(await classifyStudy(client, encoder, { studyUid: s.studyUid, labels: LABELS, templates, batchSize: 8 })));
    const files = [...studies.syntaxes.files, ...studies.multiFrame.files];
    const local = await classifyInputs(encoder, files.map((f) => f.file), { labels: LABELS, templates, batchSize: 8 });
    const byFile = new Map(local.filter((r): r is ClassifyResult => !isFileError(r)).map((r) => [r.file, r]));
    const fromPacs = analysed.flatMap((s) => s.results);
    expect(analysed.flatMap((s) => s.failed)).toEqual([]);
    expect(fromPacs.length).toBe(files.length);
    let maxDiff = 0;
    for (const r of fromPacs) {
      const f = files.find((x) => x.sopInstanceUid === r.instance.sopInstanceUid)!;
      const ref = byFile.get(f.file)!;
      expect(r.labels.map((l) => l.label)).toEqual(ref.labels.map((l) => l.label));
      r.labels.forEach((l, i) => (maxDiff = Math.max(maxDiff, Math.abs(l.score - ref.labels[i].score))));
      expect(r.sha256).toBe(execFileSync('sha256sum', [f.file], { encoding: 'utf8' }).split(' ')[0]);
    }
    expect(maxDiff).toBeLessThan(1e-6);
    // the multi-frame files were analysed at their middle frame
    const mf = analysed.find((s) => s.studyUid === studies.multiFrame.studyUid)!;
    expect(mf.results.every((r) => r.frame === Math.floor((studies.multiFrame.files.find((f) => f.sopInstanceUid === r.instance.sopInstanceUid)!.frames) / 2) + 1)).toBe(true);
  });

  it('stores one SR per series that dsrdump/dciodvfy accept, with the labels, scores, model and references; never twice', async () => {
    const templates = 'medical';
    const series = analysed.find((s) => s.studyUid === studies.syntaxes.studyUid && s.results.length >= 3)!;
    const outcome = await storeSeriesSr(client, series, { model: encoder.info, labels: LABELS, templates });
    expect(outcome.status).toBe('stored');
    const again = await storeSeriesSr(client, series, { model: encoder.info, labels: LABELS, templates });
    expect(again.status).toBe('already-stored');
    const srInstances = await client.searchInstances({ studyUid: series.studyUid, modality: 'SR' });
    expect(srInstances.map((j) => str(j, 'SOPInstanceUID'))).toEqual([outcome.srInstanceUid]);

    const bytes = await client.retrieveInstance(series.studyUid, outcome.srSeriesUid, outcome.srInstanceUid);
    const file = join(work, 'sr.dcm');
    writeFileSync(file, bytes);
    const dump = execFileSync('dsrdump', ['-Ei', '+Pl', file], { encoding: 'utf8' });
    expect(dump).toContain('Comprehensive SR Document');
    expect(dump).toContain(`"${encoder.info.id} (${encoder.info.dtype})"`);
    expect(dump).toContain('Research use only');
    for (const [name, sha] of Object.entries(encoder.info.fileHashes)) expect(dump).toContain(`${name} sha256:${sha.slice(0, 10)}`);
    for (const r of series.results) {
      for (const l of r.labels) expect(dump).toContain(`"${l.score.toFixed(6)}"`);
    }
    for (const l of LABELS) expect(dump).toContain(`="${l}"`);
    // references: every analysed instance, in the evidence sequence and in IMAGE items (dcmdump, independent of dcmjs)
    const refs = execFileSync('dcmdump', ['+P', '0008,1155', '+U8', file], { encoding: 'utf8' })
      .split('\n')
      .map((l) => /\[([0-9.]+)\]/.exec(l)?.[1])
      .filter((x): x is string => Boolean(x));
    const analysedUids = series.results.map((r) => r.instance.sopInstanceUid).sort();
    expect([...new Set(refs)].sort()).toEqual(analysedUids);
    expect(refs.length).toBe(2 * analysedUids.length);
    const studyOfSr = execFileSync('dcmdump', ['+P', '0020,000d', file], { encoding: 'utf8' });
    expect(studyOfSr).toContain(series.studyUid);
    if (hasDciodvfy) {
      const v = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
      const text = `${v.stdout}${v.stderr}`;
      expect(text).toContain('ComprehensiveSR');
      expect(text.split('\n').filter((l) => /^Error/.test(l))).toEqual([]);
    }

    // The multi-frame series: frame numbers only for multi-frame SOP classes (dciodvfy checks that too)
    const mf = analysed.find((s) => s.studyUid === studies.multiFrame.studyUid)!;
    const mfSr = await storeSeriesSr(client, mf, { model: encoder.info, labels: LABELS, templates });
    expect(mfSr.status).toBe('stored');
    const mfFile = join(work, 'sr-mf.dcm');
    writeFileSync(mfFile, await client.retrieveInstance(mf.studyUid, mfSr.srSeriesUid, mfSr.srInstanceUid));
    const frames = execFileSync('dcmdump', ['+P', '0008,1160', mfFile], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('(0008,1160)'));
    // Multi-frame Grayscale Byte SC (mf8_*) and Enhanced CT (gdcmconv's JPEG 2000 copy); the CT Image Storage files are not multi-frame classes
    const mfClass = mf.results.filter((r) => ['1.2.840.10008.5.1.4.1.1.7.2', '1.2.840.10008.5.1.4.1.1.2.1'].includes(r.instance.sopClassUid));
    expect(mfClass.length).toBeGreaterThan(0);
    expect(frames.length).toBe(mfClass.length);
    if (hasDciodvfy) {
      const v = spawnSync('dciodvfy', [mfFile], { encoding: 'utf8' });
      expect(`${v.stdout}${v.stderr}`.split('\n').filter((l) => /^Error/.test(l))).toEqual([]);
    }
  });

  it.skipIf(!hasPdftotext)('stores a PDF rendition of the SR that Orthanc serves as a document (/instances/{id}/pdf), with the SR\'s content; never twice', async () => {
    const templates = 'medical';
    const series = analysed.find((s) => s.studyUid === studies.syntaxes.studyUid && s.results.length >= 3)!;
    const outcome = await storeSeriesSr(client, series, { model: encoder.info, labels: LABELS, templates, pdf: true });
    expect(outcome.pdf?.status).toBe('stored');
    const again = await storeSeriesSr(client, series, { model: encoder.info, labels: LABELS, templates, pdf: true });
    expect(again.pdf?.status).toBe('already-stored');
    const docs = await client.searchInstances({ studyUid: series.studyUid, modality: 'DOC' });
    expect(docs.map((j) => str(j, 'SOPInstanceUID'))).toEqual([outcome.pdf!.sopInstanceUid]);
    // Orthanc's own route behind Orthanc Explorer's "Preview the instance": the embedded PDF
    const [orthancId] = (await orthanc.rest<Array<{ ID: string }>>(`/tools/lookup`, { method: 'POST', body: outcome.pdf!.sopInstanceUid })).map((x) => x.ID);
    const res = await fetch(`${orthanc.httpUrl}/instances/${orthancId}/pdf`, { headers: { authorization: `Basic ${Buffer.from(`${orthanc.user}:${orthanc.password}`).toString('base64')}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const pdfFile = join(work, 'sr.pdf');
    writeFileSync(pdfFile, new Uint8Array(await res.arrayBuffer()));
    // poppler's pdftotext reads the document independently of pdfkit
    const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
    expect(text).toContain('Zero-shot image classification (research use)');
    expect(text).toContain('Research use only');
    expect(text).toContain(`${encoder.info.id} (${encoder.info.dtype})`);
    for (const r of series.results) {
      expect(text).toContain(r.instance.sopInstanceUid);
      for (const l of r.labels) expect(text).toContain(String(Number(l.score.toFixed(6))));
    }
    const dcm = join(work, 'sr-pdf.dcm');
    writeFileSync(dcm, await client.retrieveInstance(series.studyUid, str(docs[0], 'SeriesInstanceUID'), outcome.pdf!.sopInstanceUid));
    const dump = execFileSync('dcmdump', ['+P', '0042,0012', '+P', '0020,000d', '+P', '0008,1155', dcm], { encoding: 'utf8' });
    expect(dump).toContain('application/pdf');
    expect(dump).toContain(series.studyUid);
    expect(dump).toContain(outcome.srInstanceUid);
    if (hasDciodvfy) {
      const v = spawnSync('dciodvfy', [dcm], { encoding: 'utf8' });
      expect(`${v.stdout}${v.stderr}`.split('\n').filter((l) => /^Error/.test(l))).toEqual([]);
    }
  }, 120_000);

  it('a study with one corrupt instance: the others are analysed, the bad one is reported', async () => {
    const [series] = await classifyStudy(client, encoder, { studyUid: studies.corrupt.studyUid, labels: LABELS });
    expect(series.results.length).toBe(studies.corrupt.files.length - 1);
    expect(series.failed.map((f) => f.instance.sopInstanceUid)).toEqual(studies.corrupt.corruptUids);
    expect(series.failed[0].error.code).toBe('E_DECODE_FAILED');
    expect(series.failed[0].error.message).toContain(`pacs:${studies.corrupt.corruptUids[0]}`);
    const sr = await storeSeriesSr(client, series, { model: encoder.info, labels: LABELS, templates: 'medical', dryRun: true, srOut: join(work, 'sr-dry') });
    expect(sr.status).toBe('dry-run');
    expect(execFileSync('dsrdump', [sr.file!], { encoding: 'utf8' })).toContain('Image not analysed');
    expect((await client.searchInstances({ studyUid: studies.corrupt.studyUid, modality: 'SR' })).length).toBe(0);
  });

  it('a study UID the server does not have: E_PACS_NOT_FOUND, one request, no retry', async () => {
    const before = client.http.stats.requests;
    await expect(pullStudy(client, { studyUid: '1.2.3.4.5.404', outDir: join(work, 'none') })).rejects.toMatchObject({ code: 'E_PACS_NOT_FOUND' });
    await expect(client.retrieveInstance('1.2.3.4.5.404', '1.2.3', '1.2.3.4')).rejects.toMatchObject({ code: 'E_PACS_NOT_FOUND' });
    expect(client.http.stats.requests - before).toBe(2);
  });

  it('wrong credentials: E_PACS_AUTH after one request (no retry storm)', async () => {
    const bad = new DicomwebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: orthanc.user, password: 'wrong' }, retries: 5 });
    try {
      const err = await bad.searchStudies().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PacsError);
      expect(err).toMatchObject({ code: 'E_PACS_AUTH', status: 401 });
      expect((err as Error).message).not.toContain('wrong');
      await expect(bad.retrieveInstance(studies.syntaxes.studyUid, studies.syntaxes.files[0].seriesUid, studies.syntaxes.files[0].sopInstanceUid)).rejects.toMatchObject({ code: 'E_PACS_AUTH' });
      expect(bad.http.stats).toEqual({ requests: 2, retries: 0 });
    } finally {
      await bad.close();
    }
  });

  it('Orthanc stopped mid-pull: the pull fails with E_PACS_UNREACHABLE, a rerun after restart completes without duplicates', async () => {
    const out = join(work, 'pull-fault');
    const study = studies.syntaxes;
    // the study now also holds the SR stored above
    const onServer = (await client.searchInstances({ studyUid: study.studyUid })).length;
    const flaky = new DicomwebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: orthanc.user, password: orthanc.password }, retries: 2, backoffMs: 50 });
    let stopping: Promise<void> | undefined;
    try {
      const err = await pullStudy(flaky, {
        studyUid: study.studyUid,
        outDir: out,
        concurrency: 2,
        onProgress: (done) => {
          // killed at once (a graceful SIGTERM lets a fast pull finish first): the rest of the pull must fail
          if (done === 10) stopping = orthanc.stop('SIGKILL');
        },
      }).catch((e: unknown) => e);
      await stopping;
      expect(err).toMatchObject({ code: 'E_PACS_UNREACHABLE' });
      const partial = readdirSync(out, { recursive: true }).map(String);
      expect(partial.filter((f) => f.includes('.partial-'))).toEqual([]);
      const first = partial.filter((f) => f.endsWith('.dcm')).length;
      expect(first).toBeGreaterThanOrEqual(10);
      expect(first).toBeLessThan(onServer);
      await orthanc.start();
      const r = await pullStudy(flaky, { studyUid: study.studyUid, outDir: out });
      expect(r.failed).toEqual([]);
      expect(r.skipped.length).toBe(first);
      expect(r.written.length).toBe(onServer - first);
      const files = readdirSync(out, { recursive: true }).map(String).filter((f) => f.endsWith('.dcm'));
      expect(files.length).toBe(onServer);
      for (const f of study.files) expect(readFileSync(instancePath(out, f.seriesUid, f.sopInstanceUid)).equals(readFileSync(f.file))).toBe(true);
    } finally {
      await stopping;
      await orthanc.start();
      await flaky.close();
    }
  });
});
