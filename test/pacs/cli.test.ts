/** `medvlm pacs query|pull|classify` end to end against a real Orthanc, as a user runs them. */
import { existsSync, readdirSync, readFileSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomwebClient } from '../../src/pacs/client.js';
import { hasStackTrace, medvlm } from '../cli/helpers.js';
import { buildDicomCorpus } from '../support/dicom-corpus.js';
import { orthancUnavailable, startOrthanc, type TestOrthanc } from '../support/orthanc.js';
import { buildPacsCorpus, type PacsCorpus } from '../support/pacs-corpus.js';

const corpus = await buildDicomCorpus();
const skip = 'skipped' in corpus ? corpus.skipped : orthancUnavailable();
if (skip) console.warn(`PACS CLI tests skipped: ${skip}`);

interface Row {
  sopInstanceUid?: string;
  file?: string;
  labels: Array<{ label: string; score: number }>;
  error?: { code: string };
}

describe.skipIf(Boolean(skip))('medvlm pacs (CLI) with Orthanc', () => {
  let orthanc: TestOrthanc;
  let work: string;
  let studies: PacsCorpus;
  let conn: string[];

  beforeAll(async () => {
    if ('skipped' in corpus) return;
    work = mkdtempSync(join(tmpdir(), 'medvlm-pacs-cli-'));
    studies = buildPacsCorpus(corpus, join(work, 'upload'));
    orthanc = await startOrthanc();
    const client = new DicomwebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: orthanc.user, password: orthanc.password } });
    for (const s of [studies.multiFrame, studies.corrupt]) await client.store(s.files.map((f) => readFileSync(f.file)), s.studyUid);
    await client.close();
    conn = ['--url', orthanc.dicomWebUrl, '--user', orthanc.user, '--password-file', orthanc.passwordFile];
  });

  afterAll(async () => {
    await orthanc?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('query lists studies with filters; the password comes from a file or the environment', () => {
    const all = medvlm(['pacs', 'query', ...conn]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.trim().split('\n').map((l) => l.split('\t')[0]).sort()).toEqual([studies.multiFrame.studyUid, studies.corrupt.studyUid].sort());
    const byDate = medvlm(['pacs', 'query', '--url', orthanc.dicomWebUrl, '--study-date', '20240201-20240228', '--json'], {
      MEDVLM_PACS_USER: orthanc.user,
      MEDVLM_PACS_PASSWORD: orthanc.password,
    });
    expect(byDate.code, byDate.stderr).toBe(0);
    const json = JSON.parse(byDate.stdout) as Array<Record<string, { Value?: string[] }>>;
    expect(json.map((j) => j['0020000D'].Value?.[0])).toEqual([studies.multiFrame.studyUid]);
    const series = medvlm(['pacs', 'query', ...conn, '--level', 'instances', '--study', studies.corrupt.studyUid]);
    expect(series.stdout.trim().split('\n').length).toBe(studies.corrupt.files.length);
  });

  it('wrong credentials: one line, exit 6, no stack trace, no secret', () => {
    const r = medvlm(['pacs', 'query', '--url', orthanc.dicomWebUrl, '--user', orthanc.user], { MEDVLM_PACS_PASSWORD: 'not-the-password' });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/refused the credentials \(HTTP 401\).*\[E_PACS_AUTH\]/);
    expect(r.stderr.trim().split('\n').length).toBe(1);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stderr + r.stdout).not.toContain('not-the-password');
    const inUrl = medvlm(['pacs', 'query', '--url', orthanc.dicomWebUrl.replace('http://', `http://${orthanc.user}:x@`)]);
    expect(inUrl.code).toBe(2);
    expect(inUrl.stderr).toContain('must not contain credentials');
  });

  it('pull writes SOP-instance-named files and a rerun writes none; classify from the PACS equals classify on the files', () => {
    const out = join(work, 'pulled');
    const first = medvlm(['pacs', 'pull', ...conn, '--study', studies.multiFrame.studyUid, '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`${studies.multiFrame.files.length} written, 0 already present`);
    const again = medvlm(['pacs', 'pull', ...conn, '--study', studies.multiFrame.studyUid, '--out', out]);
    expect(again.stderr).toContain(`0 written, ${studies.multiFrame.files.length} already present`);
    const names = readdirSync(out, { recursive: true }).map(String).filter((f) => f.endsWith('.dcm')).map((f) => f.split('/').pop()).sort();
    expect(names).toEqual(studies.multiFrame.files.map((f) => `${f.sopInstanceUid}.dcm`).sort());

    const labels = 'CT scan,MRI scan,X-ray';
    const local = medvlm(['classify', out, '--labels', labels, '--json']);
    expect(local.code, local.stderr).toBe(0);
    const remote = medvlm(['pacs', 'classify', ...conn, '--study', studies.multiFrame.studyUid, '--labels', labels, '--json', '--store-sr']);
    expect(remote.code, remote.stderr).toBe(0);
    const localRows = JSON.parse(local.stdout) as Row[];
    const remoteOut = JSON.parse(remote.stdout) as { results: Row[]; sr: Array<{ status: string; references: number }> };
    expect(remoteOut.results.length).toBe(localRows.length);
    for (const r of remoteOut.results) {
      const l = localRows.find((x) => x.file!.endsWith(`${r.sopInstanceUid}.dcm`))!;
      expect(r.labels).toEqual(l.labels);
    }
    expect(remoteOut.sr).toEqual([expect.objectContaining({ status: 'stored', references: studies.multiFrame.files.length })]);
    const rerun = medvlm(['pacs', 'classify', ...conn, '--study', studies.multiFrame.studyUid, '--labels', labels, '--store-sr']);
    expect(rerun.stderr).toContain('already in the PACS');
  });

  it('classify --dry-run on a study with a corrupt instance: the others classified, the bad one reported, nothing stored', () => {
    const srDir = join(work, 'sr');
    const r = medvlm(['pacs', 'classify', ...conn, '--study', studies.corrupt.studyUid, '--labels', 'CT scan,MRI scan', '--store-sr', '--dry-run', '--sr-out', srDir]);
    expect(r.code).toBe(3);
    expect(r.stdout.trim().split('\n').filter((l) => !l.startsWith('#')).length).toBe(studies.corrupt.files.length - 1);
    expect(r.stderr).toContain(`pacs:${studies.corrupt.corruptUids[0]}`);
    expect(r.stderr).toContain('[E_DECODE_FAILED]');
    expect(r.stderr).toContain('would store');
    expect(readdirSync(srDir).length).toBe(1);
    const q = medvlm(['pacs', 'query', ...conn, '--level', 'series', '--study', studies.corrupt.studyUid, '--modality', 'SR']);
    expect(q.stdout.trim()).toBe('');
  });

  it('watch --once: a series classify --store-sr already did is not redone; the rest is analysed once', () => {
    const labels = 'CT scan,MRI scan,X-ray';
    const first = medvlm(['pacs', 'watch', ...conn, '--labels', labels, '--once', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const events = first.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; studyUid: string; sr?: { status: string } });
    expect(events.filter((e) => e.kind === 'already-done').map((e) => e.studyUid)).toEqual([studies.multiFrame.studyUid]);
    expect(events.filter((e) => e.kind === 'analysed')).toEqual([expect.objectContaining({ studyUid: studies.corrupt.studyUid, images: 3, failed: 1, sr: expect.objectContaining({ status: 'stored' }) })]);
    const second = medvlm(['pacs', 'watch', ...conn, '--labels', labels, '--once']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim().split('\n').map((l) => l.split('\t')[0])).toEqual(['already-done', 'already-done']);
    expect(second.stderr).toMatch(/watching via Orthanc \d+\.\d+\.\d+: change log at http:\/\/127\.0\.0\.1:\d+\/changes/);
    const qido = medvlm(['pacs', 'watch', ...conn, '--labels', labels, '--once', '--feed', 'qido']);
    expect(qido.code, qido.stderr).toBe(0);
    expect(qido.stderr).toMatch(/watching via QIDO-RS polling \(asked for\)/);
    expect(qido.stdout.trim().split('\n').map((l) => l.split('\t')[0])).toEqual(['already-done', 'already-done']);
  });

  it('draft-report --dry-run --sr-out: one draft per series with its sources and an SR file (dry run)', () => {
    const manifest = join(import.meta.dirname, '../../../shared/data/medpix2/manifest.jsonl');
    if (!existsSync(manifest)) return console.warn(`draft-report CLI check skipped: needs ${manifest}`);
    const cases = join(work, 'cases.jsonl');
    writeFileSync(cases, readFileSync(manifest, 'utf8').split('\n').slice(0, 30).join('\n') + '\n');
    const srDir = join(work, 'draft-sr');
    const r = medvlm(['pacs', 'draft-report', ...conn, '--study', studies.multiFrame.studyUid, '--corpus', cases, '--sentences', '2', '--json', '--store-sr', '--dry-run', '--sr-out', srDir]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { notice: string; drafts: Array<{ images: unknown[]; draft: { sentences: Array<{ source: { caseId: string } }> } }>; sr: Array<{ status: string; file: string }> };
    expect(j.notice).toMatch(/Research use only/);
    expect(j.drafts.length).toBe(1);
    expect(j.drafts[0].images.length).toBe(studies.multiFrame.files.length);
    expect(j.drafts[0].draft.sentences.length).toBe(2);
    expect(j.sr).toEqual([expect.objectContaining({ status: 'dry-run' })]);
    const dump = execFileSync('dsrdump', [j.sr[0].file], { encoding: 'utf8' });
    for (const s of j.drafts[0].draft.sentences) expect(dump).toContain(`"${s.source.caseId}"`);
  });

  it('index: PACS images into a similar-case index; a rerun adds nothing', () => {
    const dir = join(work, 'ix');
    const first = medvlm(['pacs', 'index', ...conn, '--study', studies.multiFrame.studyUid, '--index', dir, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as { added: string[] }).added.length).toBe(studies.multiFrame.files.length);
    const again = medvlm(['pacs', 'index', ...conn, '--study', studies.multiFrame.studyUid, '--index', dir]);
    expect(again.stderr).toContain(`0 added, ${studies.multiFrame.files.length} already in`);
  });

  it('a study the PACS does not have: E_PACS_NOT_FOUND, exit 6', () => {
    const r = medvlm(['pacs', 'pull', ...conn, '--study', '1.2.3.999', '--out', join(work, 'x')]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('[E_PACS_NOT_FOUND]');
  });
});
