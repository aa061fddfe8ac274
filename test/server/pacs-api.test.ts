/**
 * `/v1/pacs/…` against a real Orthanc (Debian's orthanc + orthanc-dicomweb, authentication on): the
 * server proxies QIDO-RS and WADO-RS on its own origin (the same studies, series and instances as the
 * DICOMweb client finds directly; instance bytes equal the uploaded files), analyses a series with the
 * same JSON as `medvlm pacs classify --json`, stores the SR once (a second request finds it stored),
 * and never shows the PACS address or credentials in an answer. Wrong PACS credentials are a typed error.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomwebClient } from '../../src/pacs/client.js';
import { str } from '../../src/pacs/dicom-json.js';
import { medvlm, ROOT } from '../cli/helpers.js';
import { buildDicomCorpus } from '../support/dicom-corpus.js';
import { orthancUnavailable, startOrthanc, type TestOrthanc } from '../support/orthanc.js';
import { buildPacsCorpus, type PacsCorpus } from '../support/pacs-corpus.js';
import { startTestServer, type TestServer } from './helpers.js';

const corpus = await buildDicomCorpus();
const skip = 'skipped' in corpus ? corpus.skipped : orthancUnavailable();
if (skip) console.warn(`PACS panel API tests skipped: ${skip}`);
const LABELS = 'CT scan,MRI scan,X-ray,photograph';

describe.skipIf(Boolean(skip))('/v1/pacs with Orthanc', () => {
  let orthanc: TestOrthanc;
  let work: string;
  let studies: PacsCorpus;
  let client: DicomwebClient;
  let server: TestServer;
  const get = async (path: string) => {
    const r = await fetch(`${server.base}${path}`);
    const text = await r.text();
    expect(text).not.toContain(orthanc.password);
    expect(text).not.toContain(orthanc.dicomWebUrl);
    return { status: r.status, body: JSON.parse(text) as Record<string, unknown> };
  };
  const post = async (body: Record<string, unknown>, base = server.base) => {
    const r = await fetch(`${base}/v1/pacs/classify`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await r.text();
    expect(text).not.toContain(orthanc.dicomWebUrl);
    return { status: r.status, body: JSON.parse(text) as Record<string, unknown> };
  };

  beforeAll(async () => {
    if ('skipped' in corpus) return;
    work = mkdtempSync(join(tmpdir(), 'medvlm-serve-pacs-'));
    studies = buildPacsCorpus(corpus, join(work, 'upload'));
    orthanc = await startOrthanc();
    client = new DicomwebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: orthanc.user, password: orthanc.password } });
    for (const s of [studies.multiFrame, studies.corrupt]) await client.store(s.files.map((f) => readFileSync(f.file)), s.studyUid);
    server = await startTestServer({ pacs: { url: orthanc.dicomWebUrl, client } });
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await client?.close();
    await orthanc?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('health says a PACS is configured; studies, series and instances as the client finds them', async () => {
    expect((await get('/v1/health')).body).toMatchObject({ pacs: true });
    const { status, body } = await get('/v1/pacs/studies');
    expect(status).toBe(200);
    const direct = await client.searchStudies();
    const rows = body.studies as Array<{ studyUid: string; patientId: string }>;
    expect(rows.map((s) => s.studyUid).sort()).toEqual(direct.map((d) => str(d, 'StudyInstanceUID')).sort());
    const byPatient = (await get(`/v1/pacs/studies?patientId=${studies.multiFrame.patientId}`)).body.studies as Array<{ studyUid: string }>;
    expect(byPatient.map((s) => s.studyUid)).toEqual([studies.multiFrame.studyUid]);

    const study = studies.corrupt;
    const series = (await get(`/v1/pacs/studies/${study.studyUid}/series`)).body.series as Array<{ seriesUid: string; instances: number }>;
    expect(series.map((s) => s.seriesUid).sort()).toEqual([...new Set(study.files.map((f) => f.seriesUid))].sort());
    const s0 = series[0];
    const instances = (await get(`/v1/pacs/studies/${study.studyUid}/series/${s0.seriesUid}/instances`)).body.instances as Array<{ sopInstanceUid: string }>;
    expect(instances.map((i) => i.sopInstanceUid).sort()).toEqual(study.files.filter((f) => f.seriesUid === s0.seriesUid).map((f) => f.sopInstanceUid).sort());
  });

  it('the PACS endpoints are in the OpenAPI document, which validates', async () => {
    const SwaggerParser = (await import('@apidevtools/swagger-parser')).default;
    const doc = (await (await fetch(`${server.base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    await SwaggerParser.validate(structuredClone(doc) as never);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/v1/pacs/')).sort()).toEqual(
      ['/v1/pacs/classify', '/v1/pacs/studies', '/v1/pacs/studies/{study}/series', '/v1/pacs/studies/{study}/series/{series}/instances', '/v1/pacs/studies/{study}/series/{series}/instances/{instance}'].sort(),
    );
  });

  it('one instance as DICOM bytes, equal to the uploaded file', async () => {
    const f = studies.multiFrame.files[0];
    const r = await fetch(`${server.base}/v1/pacs/studies/${f.studyUid}/series/${f.seriesUid}/instances/${f.sopInstanceUid}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/dicom');
    expect(Buffer.from(await r.arrayBuffer()).equals(readFileSync(f.file))).toBe(true);
  });

  it('analyses a series as medvlm pacs classify --json, stores the SR once', async () => {
    const f = studies.multiFrame.files[0];
    const conn = ['--url', orthanc.dicomWebUrl, '--user', orthanc.user, '--password-file', orthanc.passwordFile];
    const cli = medvlm(['pacs', 'classify', ...conn, '--study', f.studyUid, '--series', f.seriesUid, '--labels', LABELS, '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const expected = JSON.parse(cli.stdout) as { model: string; results: unknown[] };
    const first = await post({ study: f.studyUid, series: f.seriesUid, labels: LABELS, storeSr: true });
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual(expected.results);
    expect(first.body.model).toBe(expected.model);
    expect(first.body.notice).toMatch(/research use/i);
    const sr = first.body.sr as Array<{ status: string; srInstanceUid: string; srSeriesUid: string }>;
    expect(sr.map((x) => x.status)).toEqual(['stored']);
    const stored = await client.searchInstances({ studyUid: f.studyUid, seriesUid: sr[0].srSeriesUid });
    expect(stored.map((d) => str(d, 'SOPInstanceUID'))).toEqual([sr[0].srInstanceUid]);
    const again = await post({ study: f.studyUid, series: f.seriesUid, labels: LABELS, storeSr: true });
    expect((again.body.sr as Array<{ status: string }>).map((x) => x.status)).toEqual(['already-stored']);
  });

  it('a corrupt instance is reported, the others analysed', async () => {
    const r = await post({ study: studies.corrupt.studyUid, labels: LABELS });
    expect(r.status).toBe(200);
    const rows = r.body.results as Array<{ sopInstanceUid: string; error?: { code: string } }>;
    expect(rows.filter((x) => x.error).map((x) => x.sopInstanceUid).sort()).toEqual([...studies.corrupt.corruptUids].sort());
    expect(rows.filter((x) => !x.error).length).toBeGreaterThan(0);
  });

  it('bad UIDs are 400, an unknown study 404, without the PACS address', async () => {
    expect((await get('/v1/pacs/studies/..%2F..%2Fsystem/series')).status).toBe(400);
    const missing = await get('/v1/pacs/studies/1.2.3.4.5.6.7.8.9/series/1.2.3/instances/1.2.3.4');
    expect(missing.status).toBe(404);
    expect((missing.body.error as { code: string }).code).toBe('E_PACS_NOT_FOUND');
    expect((await get('/v1/pacs/studies?patientId=a%0ab')).status).toBe(400);
    expect((await post({ study: 'x', labels: LABELS })).status).toBe(400);
  });

  it('medvlm serve --pacs-url with the password from a file: the panel API works, no secret on the command line', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--no-web', '--pacs-url', orthanc.dicomWebUrl, '--pacs-user', orthanc.user, '--pacs-password-file', orthanc.passwordFile], {
      cwd: ROOT,
      env: { ...process.env, MEDVLM_OFFLINE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let err = '';
      const base = await new Promise<string>((ok, fail) => {
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /serving (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
          if (m) ok(m[1]);
        });
        child.on('exit', () => fail(new Error(`medvlm serve exited: ${err}`)));
      });
      expect((await (await fetch(`${base}/v1/health`)).json()) as Record<string, unknown>).toMatchObject({ pacs: true });
      const r = await fetch(`${base}/v1/pacs/studies?patientId=${studies.multiFrame.patientId}`);
      expect(r.status).toBe(200);
      expect(((await r.json()) as { studies: Array<{ studyUid: string }> }).studies.map((x) => x.studyUid)).toEqual([studies.multiFrame.studyUid]);
      expect(err).not.toContain(orthanc.password);
    } finally {
      child.kill('SIGTERM');
    }
  }, 120_000);

  it('wrong PACS credentials are a typed error (502 E_PACS_AUTH), the server stays up', async () => {
    const wrong = new DicomwebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: orthanc.user, password: 'not-the-password' }, retries: 0 });
    const other = await startTestServer({ pacs: { url: orthanc.dicomWebUrl, client: wrong } });
    try {
      const r = await fetch(`${other.base}/v1/pacs/studies`);
      const text = await r.text();
      expect(r.status).toBe(502);
      expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe('E_PACS_AUTH');
      expect(text).not.toContain(orthanc.dicomWebUrl);
      expect((await fetch(`${other.base}/v1/health`)).status).toBe(200);
    } finally {
      await other.close();
      await wrong.close();
    }
  });
});
