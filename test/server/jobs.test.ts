/**
 * `/v1/jobs`: classify a folder under --data-root; progress as server-sent events; the result equals
 * `medvlm classify --json` on the folder; a job survives its client disconnecting; a job can be cancelled.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { medvlm, ROOT } from '../cli/helpers.js';
import { startTestServer, type TestServer } from './helpers.js';

const TOP = mkdtempSync(join(tmpdir(), 'medvlm-jobs-'));
const DATA = join(TOP, 'data');
const SET = join(DATA, 'set');
const LABELS = 'chest x-ray,head CT,abdomen CT';
const SAMPLES = readdirSync(join(ROOT, 'samples')).filter((f) => /\.(png|jpg)$/.test(f));
let server: TestServer;

beforeAll(async () => {
  mkdirSync(SET, { recursive: true });
  for (const f of SAMPLES) copyFileSync(join(ROOT, 'samples', f), join(SET, f));
  copyFileSync(join(ROOT, 'samples', SAMPLES[0]), join(TOP, 'outside.png'));
  symlinkSync(join(TOP, 'outside.png'), join(SET, 'zz-link-out.png'));
  server = await startTestServer({ dataRoot: DATA });
  await fetch(`${server.base}/v1/classify?path=set/${SAMPLES[0]}&labels=a,b`, { method: 'POST' }); // warm
}, 120_000);
afterAll(async () => {
  await server?.close();
  rmSync(TOP, { recursive: true, force: true });
});

interface JobState {
  id: string;
  status: string;
  done: number;
  total: number;
  result?: Array<{ file: string; labels: unknown }>;
}

async function start(path: string): Promise<JobState> {
  const r = await fetch(`${server.base}/v1/jobs`, { method: 'POST', body: JSON.stringify({ kind: 'classify-folder', path, labels: LABELS }), headers: { 'content-type': 'application/json' } });
  expect(r.status).toBe(202);
  return (await r.json()) as JobState;
}

async function state(id: string): Promise<JobState> {
  return (await (await fetch(`${server.base}/v1/jobs/${id}`)).json()) as JobState;
}

async function until(id: string, done: (s: JobState) => boolean): Promise<JobState> {
  for (let i = 0; i < 600; i++) {
    const s = await state(id);
    if (done(s)) return s;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error('job did not finish');
}

describe('/v1/jobs', () => {
  it('streams progress and ends with the CLI classify result (links out of the root skipped)', async () => {
    const job = await start('set');
    expect(job.total).toBe(SAMPLES.length);
    const res = await fetch(`${server.base}/v1/jobs/${job.id}/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text(); // the stream ends with the job
    const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((m) => ({ event: m[1], data: JSON.parse(m[2]) as JobState }));
    expect(events[0].event).toBe('state');
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'done', done: SAMPLES.length } });
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data.done);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const final = await state(job.id);
    const cli = JSON.parse(medvlm(['classify', SET, '--labels', LABELS, '--json']).stdout) as Array<{ file: string; labels: unknown }>;
    const expected = cli.filter((r) => !r.file.endsWith('zz-link-out.png')).map((r) => ({ ...r, file: relative(DATA, r.file) }));
    expect(final.result).toEqual(expected);
  });

  it('survives its client disconnecting', async () => {
    const job = await start('set');
    const ac = new AbortController();
    const res = await fetch(`${server.base}/v1/jobs/${job.id}/events`, { signal: ac.signal });
    await res.body!.getReader().read(); // the first event
    ac.abort();
    const final = await until(job.id, (s) => s.status !== 'running');
    expect(final.status).toBe('done');
    expect(final.result).toHaveLength(SAMPLES.length);
  });

  it('can be cancelled', async () => {
    const job = await start('set');
    const cancelled = await (await fetch(`${server.base}/v1/jobs/${job.id}`, { method: 'DELETE' })).json();
    expect(cancelled).toMatchObject({ id: job.id });
    const final = await until(job.id, (s) => s.status !== 'running');
    expect(final.status).toBe('cancelled');
    expect(final.done).toBeLessThan(final.total);
    expect(final.result).toBeUndefined();
  });

  it('refuses folders out of the root and unknown jobs; the server stays up', async () => {
    const out = await fetch(`${server.base}/v1/jobs`, { method: 'POST', body: JSON.stringify({ path: '..', labels: LABELS }), headers: { 'content-type': 'application/json' } });
    expect(out.status).toBe(400);
    expect(((await out.json()) as { error: { option: string } }).error.option).toBe('path');
    expect((await fetch(`${server.base}/v1/jobs/nope`)).status).toBe(404);
    expect((await fetch(`${server.base}/v1/health`)).status).toBe(200);
  });
});
