/**
 * `medvlm pacs draft-report` against a real Orthanc: the series draft equals the draft made from the same
 * files on disk, and its SR (stored once) carries the text, each sentence's source and the image references
 * (checked with dcmtk and dciodvfy).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DualEncoder } from '../../src/models/capabilities.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { DicomwebClient } from '../../src/pacs/client.js';
import { corpusIdentity, draftStudyReports } from '../../src/pacs/draft.js';
import { storeDraftSr } from '../../src/pacs/store-results.js';
import { indexStudy, instanceKey } from '../../src/pacs/index-study.js';
import { CaseIndex } from '../../src/index-store/store.js';
import { indexModelFrom } from '../../src/index-store/meta.js';
import { draftFromEmbedding, type DraftCorpus } from '../../src/tasks/draft-report.js';
import { readTextCorpus } from '../../src/tasks/draft-corpus.js';
import { encodeImageInputs, isFileError, type EncodedImage } from '../../src/tasks/batch.js';
import { meanNormalised } from '../../src/core/vectors.js';
import { buildDicomCorpus } from '../support/dicom-corpus.js';
import { orthancUnavailable, startOrthanc, type TestOrthanc } from '../support/orthanc.js';
import { buildPacsCorpus, type PacsCorpus } from '../support/pacs-corpus.js';

const MANIFEST = resolve(import.meta.dirname, '../../../shared/data/medpix2/manifest.jsonl');
const corpus = await buildDicomCorpus();
const skip = 'skipped' in corpus ? corpus.skipped : orthancUnavailable() ?? (existsSync(MANIFEST) ? undefined : `needs ${MANIFEST}`);
if (skip) console.warn(`PACS draft-report test skipped: ${skip}`);
const hasDciodvfy = spawnSync('dciodvfy', [], { stdio: 'ignore' }).error === undefined;

describe.skipIf(Boolean(skip))('PACS draft-report and index with Orthanc', () => {
  let orthanc: TestOrthanc;
  let work: string;
  let studies: PacsCorpus;
  let client: DicomwebClient;
  let encoder: DualEncoder;
  let jsonl: string;
  let cases: DraftCorpus;

  beforeAll(async () => {
    if ('skipped' in corpus) return;
    work = mkdtempSync(join(tmpdir(), 'medvlm-pacs-draft-'));
    studies = buildPacsCorpus(corpus, join(work, 'upload'));
    orthanc = await startOrthanc();
    client = new DicomwebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: orthanc.user, password: orthanc.password } });
    await client.store(studies.multiFrame.files.map((f) => readFileSync(f.file)), studies.multiFrame.studyUid);
    encoder = await loadDualEncoder('medvlm-tiny', { offline: true, threads: 1 });
    // 40 MedPix cases (texts only: retrieval image -> text)
    jsonl = join(work, 'cases.jsonl');
    writeFileSync(jsonl, readFileSync(MANIFEST, 'utf8').split('\n').slice(0, 40).join('\n') + '\n');
    cases = { records: readTextCorpus(jsonl) };
  });

  afterAll(async () => {
    await encoder?.dispose();
    await client?.close();
    await orthanc?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('drafts one report per series, equal to the draft from the same files on disk; the SR holds it with provenance', async () => {
    const opts = { k: 4, maxSentences: 3 };
    const [series] = await draftStudyReports(client, encoder, cases, { studyUid: studies.multiFrame.studyUid, draft: opts });
    expect(series.images.length).toBe(studies.multiFrame.files.length);
    expect(series.draft!.sentences.length).toBeGreaterThan(0);

    const ordered = [...studies.multiFrame.files].sort((a, b) => a.sopInstanceUid.localeCompare(b.sopInstanceUid, 'en', { numeric: true }));
    const local = (await encodeImageInputs(encoder, ordered.map((f) => f.file))).filter((r): r is EncodedImage => !isFileError(r));
    const ref = await draftFromEmbedding(encoder, cases, `pacs:series:${series.seriesUid}`, meanNormalised(local.map((r) => r.embedding)), opts);
    expect(series.draft!.text).toBe(ref.text);
    expect(series.draft!.sentences.map((s) => s.source)).toEqual(ref.sentences.map((s) => s.source));
    series.draft!.sentences.forEach((s, i) => expect(Math.abs(s.score - ref.sentences[i].score)).toBeLessThan(1e-5));

    const settings = JSON.stringify(opts);
    const stored = await storeDraftSr(client, series, { model: encoder.info, corpus: corpusIdentity(jsonl), settings });
    expect(stored.status).toBe('stored');
    expect((await storeDraftSr(client, series, { model: encoder.info, corpus: corpusIdentity(jsonl), settings })).status).toBe('already-stored');
    const file = join(work, 'draft-sr.dcm');
    writeFileSync(file, await client.retrieveInstance(series.studyUid, stored.srSeriesUid, stored.srInstanceUid));
    const dump = execFileSync('dsrdump', ['+Pl', file], { encoding: 'utf8' });
    expect(dump).toContain('Draft report from similar cases (research use)');
    expect(dump).toContain('Research use only');
    expect(dump).toContain(`cases.jsonl sha256:`);
    for (const s of series.draft!.sentences) {
      expect(dump).toContain(`"${s.text.replace(/\s+/g, ' ').trim().slice(0, 30)}`);
      expect(dump).toContain(`"Source case")="${s.source.caseId}"`);
    }
    const refs = execFileSync('dcmdump', ['+P', '0008,1155', file], { encoding: 'utf8' }).split('\n').map((l) => /\[([0-9.]+)\]/.exec(l)?.[1]).filter(Boolean);
    expect(refs.length).toBe(2 * series.images.length);
    expect(new Set(refs)).toEqual(new Set(series.images.map((i) => i.sopInstanceUid)));
    if (hasDciodvfy) {
      const v = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
      expect(`${v.stdout}${v.stderr}`.split('\n').filter((l) => /^Error/.test(l))).toEqual([]);
    }
  });

  it('index: PACS images land in a similar-case index keyed by their WADO-RS address; a rerun retrieves nothing', async () => {
    const dir = join(work, 'ix');
    const index = await CaseIndex.open(dir, { create: true, model: indexModelFrom(encoder.info) });
    try {
      const study = studies.multiFrame;
      const first = await indexStudy(client, encoder, index, { studyUid: study.studyUid });
      expect(first.failed).toEqual([]);
      expect(first.added.sort()).toEqual(study.files.map((f) => instanceKey(client, f)).sort());
      expect(first.added.every((k) => k.startsWith(`${orthanc.dicomWebUrl}/studies/`) && !k.includes(orthanc.password))).toBe(true);
      const before = client.http.stats.requests;
      const again = await indexStudy(client, encoder, index, { studyUid: study.studyUid });
      expect(again.added).toEqual([]);
      expect(again.skipped.length).toBe(study.files.length);
      // QIDO only (series + one instance list, twice: listing and embedStudy), no WADO-RS retrieval
      expect(client.http.stats.requests - before).toBe(4);
      // searching with the same image from disk finds its PACS entry at the top (lossless copies of the same
      // pixels in other transfer syntaxes tie with it)
      const f = study.files[3];
      const [local] = (await encodeImageInputs(encoder, [f.file])) as EncodedImage[];
      const hits = await index.search(local.embedding, { k: study.files.length, exact: true });
      const hit = hits.find((h) => h.path === instanceKey(client, f))!;
      expect(hit.similarity).toBeGreaterThan(0.9999);
      expect(hits[0].similarity - hit.similarity).toBeLessThan(1e-6);
      expect(hit.dicom).toEqual({ studyUid: f.studyUid, seriesUid: f.seriesUid, sopUid: f.sopInstanceUid });
    } finally {
      index.close();
    }
  });
});
