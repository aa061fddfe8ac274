/**
 * `/v1/jobs` beyond classify: `index-folder` adds a folder under --data-root to the served index (the
 * search endpoint sees the new entries at once, and answers as `medvlm search --json` on that index;
 * a second run changes nothing), and `eval` runs the served model's evaluation grid on a real data set
 * with progress as server-sent events, reproducing the trainer's PyTorch reference accuracy, and can be
 * cancelled. The jobs are in the OpenAPI document.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { medvlm, ROOT } from '../cli/helpers.js';
import { SHARED_DATA } from '../eval/helpers.js';
import { startTestServer, type TestServer } from './helpers.js';

const TOP = mkdtempSync(join(tmpdir(), 'medvlm-jobs2-'));
const DATA = join(TOP, 'data');
const INDEX = join(TOP, 'index');
const SAMPLES = readdirSync(join(ROOT, 'samples')).filter((f) => /\.(png|jpg)$/.test(f));
const FIRST = SAMPLES.slice(0, 3);
const SECOND = SAMPLES.slice(3);
let server: TestServer;

interface JobState {
  id: string;
  kind: string;
  status: string;
  done: number;
  total: number;
  stage?: string;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

beforeAll(async () => {
  for (const [dir, files] of [['a', FIRST], ['b', SECOND]] as const) {
    mkdirSync(join(DATA, dir), { recursive: true });
    for (const f of files) copyFileSync(join(ROOT, 'samples', f), join(DATA, dir, f));
  }
  server = await startTestServer({ dataRoot: DATA, served: { index: INDEX } });
}, 120_000);
afterAll(async () => {
  await server?.close();
  rmSync(TOP, { recursive: true, force: true });
});

async function start(body: Record<string, unknown>, base = server.base): Promise<JobState> {
  const r = await fetch(`${base}/v1/jobs`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const state = (await r.json()) as JobState;
  expect(r.status, JSON.stringify(state)).toBe(202);
  return state;
}

/** Follow a job's events to its end; returns the events. */
async function follow(id: string, base = server.base): Promise<Array<{ event: string; data: JobState }>> {
  const text = await (await fetch(`${base}/v1/jobs/${id}/events`)).text();
  return [...text.matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((m) => ({ event: m[1], data: JSON.parse(m[2]) as JobState }));
}

const state = async (id: string, base = server.base) => (await (await fetch(`${base}/v1/jobs/${id}`)).json()) as JobState;

async function searchText(k: number): Promise<{ hits: Array<{ path: string }> } & Record<string, unknown>> {
  const r = await fetch(`${server.base}/v1/search`, { method: 'POST', body: JSON.stringify({ text: 'chest x-ray', k }), headers: { 'content-type': 'application/json' } });
  expect(r.status).toBe(200);
  return (await r.json()) as { hits: Array<{ path: string }> };
}

describe('/v1/jobs index-folder', () => {
  it('adds folders to the served index; search sees them at once and equals the CLI on that index', async () => {
    const a = await start({ kind: 'index-folder', path: 'a' });
    expect(a).toMatchObject({ kind: 'index-folder', total: FIRST.length });
    const events = await follow(a.id);
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'done', done: FIRST.length } });
    expect((await state(a.id)).result).toMatchObject({ added: FIRST.length, replaced: 0, unchanged: 0, errors: [] });
    expect((await searchText(20)).hits).toHaveLength(FIRST.length);

    const b = await start({ kind: 'index-folder', path: 'b' });
    await follow(b.id);
    expect((await state(b.id)).result).toMatchObject({ added: SECOND.length });
    const served = await searchText(20); // the pipeline reopened the index
    expect(served.hits).toHaveLength(SAMPLES.length);
    const cli = JSON.parse(medvlm(['search', '--index', INDEX, '--text', 'chest x-ray', '--k', '20', '--json']).stdout) as Record<string, unknown>;
    expect(served).toEqual(cli);

    const again = await start({ kind: 'index-folder', path: 'a' });
    await follow(again.id);
    expect((await state(again.id)).result).toMatchObject({ added: 0, unchanged: FIRST.length });
  });

  it('refuses a folder out of the data root', async () => {
    const r = await fetch(`${server.base}/v1/jobs`, { method: 'POST', body: JSON.stringify({ kind: 'index-folder', path: '../..' }), headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { option: string } }).error.option).toBe('path');
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${server.base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, { properties: { kind: { enum: string[] } } }> } };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events']));
    expect(Object.keys(doc.paths['/v1/jobs/{id}'])).toEqual(['get', 'delete']);
    expect(doc.components.schemas.JobState.properties.kind.enum).toEqual(['classify-folder', 'index-folder', 'eval']);
  });
});

const REF_FILE = join(ROOT, 'models/medvlm-tiny/metrics-python.json');
const hasData = existsSync(join(SHARED_DATA, 'pneumoniamnist')) && existsSync(REF_FILE);
if (!hasData) console.warn('eval job test skipped: needs ../shared/data/pneumoniamnist and models/medvlm-tiny/metrics-python.json');

describe.skipIf(!hasData)('/v1/jobs eval on the real PneumoniaMNIST test split', () => {
  let evalServer: TestServer;
  beforeAll(async () => {
    evalServer = await startTestServer({ dataRoot: SHARED_DATA });
  });
  afterAll(async () => evalServer?.close());

  it('streams progress and reproduces the PyTorch reference accuracy', async () => {
    const job = await start({ kind: 'eval', datasets: 'pneumoniamnist', tasks: 'zeroshot' }, evalServer.base);
    const events = await follow(job.id, evalServer.base);
    const progress = events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)!.data).toMatchObject({ done: 624, total: 624, stage: 'pneumoniamnist/zeroshot (1/1)' });
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'done' } });
    const result = (await state(job.id, evalServer.base)).result as { cells: Array<{ metrics: { accuracy: { value: number } } }>; failed: unknown[] };
    expect(result.failed).toEqual([]);
    const ref = JSON.parse(readFileSync(REF_FILE, 'utf8')) as { pneumoniamnist_test: { acc: { value: number } } };
    expect(Math.abs(result.cells[0].metrics.accuracy.value - ref.pneumoniamnist_test.acc.value)).toBeLessThanOrEqual(1 / 624 + 1e-9);
  }, 300_000);

  it('one at a time, and can be cancelled (embeddings of the first run are cached, so cancel at once)', async () => {
    const job = await start({ kind: 'eval', datasets: 'pneumoniamnist', tasks: 'zeroshot' }, evalServer.base);
    // one job that loads its own model at a time: a second is refused with Retry-After
    const second = await fetch(`${evalServer.base}/v1/jobs`, { method: 'POST', body: JSON.stringify({ kind: 'eval', datasets: 'pneumoniamnist' }), headers: { 'content-type': 'application/json' } });
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('10');
    await fetch(`${evalServer.base}/v1/jobs/${job.id}`, { method: 'DELETE' });
    const events = await follow(job.id, evalServer.base);
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'cancelled' } });
    const final = await state(job.id, evalServer.base);
    expect(final.status).toBe('cancelled');
    expect(final.result).toBeUndefined();
  }, 300_000);

  it('stops mid-embedding when cancelled (a fresh server: nothing cached)', async () => {
    const fresh = await startTestServer({ dataRoot: SHARED_DATA });
    try {
      const job = await start({ kind: 'eval', datasets: 'pneumoniamnist', tasks: 'zeroshot' }, fresh.base);
      const res = await fetch(`${fresh.base}/v1/jobs/${job.id}/events`);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let seen = '';
      while (!seen.includes('event: progress')) seen += (await reader.read()).value ?? '';
      await fetch(`${fresh.base}/v1/jobs/${job.id}`, { method: 'DELETE' });
      while (!(await reader.read()).done);
      const final = await state(job.id, fresh.base);
      expect(final.status).toBe('cancelled');
      expect(final.done).toBeLessThan(624);
      expect(final.result).toBeUndefined();
    } finally {
      await fresh.close();
    }
  }, 300_000);

  it('refuses unknown data sets and tasks', async () => {
    for (const [body, option] of [[{ kind: 'eval', datasets: '../../etc' }, 'datasets'], [{ kind: 'eval', datasets: 'pneumoniamnist', tasks: 'train' }, 'tasks']] as const) {
      const r = await fetch(`${evalServer.base}/v1/jobs`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { option: string } }).error.option).toBe(option);
    }
  });
});
