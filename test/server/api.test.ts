/**
 * The HTTP API against the real server (medvlm-tiny) on a random loopback port: every answer equals
 * the CLI's `--json` for the same image, answers validate against the shared result schemas, and the
 * OpenAPI document validates as OpenAPI 3.1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_SCHEMAS } from '../../src/tasks/schemas.js';
import { inlineSchema } from '../../src/server/routes.js';
import { medvlm, ROOT } from '../cli/helpers.js';
import { form, startTestServer, type TestServer } from './helpers.js';

const CHEST = join(ROOT, 'samples/vqarad-chest-xray-1.jpg');
const PNG = join(ROOT, 'samples/pneumoniamnist-test-0000-pneumonia.png');
const LABELS = 'chest x-ray,head CT,abdomen CT';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ concurrency: 2 });
}, 120_000);
afterAll(() => server?.close());

const ajv = new Ajv({ strict: false });
const valid = (name: keyof typeof RESULT_SCHEMAS, value: unknown) => {
  const check = ajv.compile(inlineSchema(RESULT_SCHEMAS[name]));
  expect(check(value), JSON.stringify(check.errors)).toBe(true);
};

async function post(path: string, body: FormData | Uint8Array | string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.base}/v1/${path}`, { method: 'POST', body: body as BodyInit, headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

function cliJson(args: string[]): unknown {
  const r = medvlm([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('answers equal the CLI --json', () => {
  it('classify (multipart, and raw bytes with options in the query string)', async () => {
    const cli = cliJson(['classify', CHEST, '--labels', LABELS]) as Array<{ file: string; labels: unknown }>;
    const multipart = await post('classify', form(readFileSync(CHEST), 'vqarad-chest-xray-1.jpg', { labels: LABELS }));
    expect(multipart.status).toBe(200);
    valid('ClassifyResult', multipart.body);
    expect(multipart.body).toEqual({ ...cli[0], file: 'vqarad-chest-xray-1.jpg' });
    const raw = await post(`classify?labels=${encodeURIComponent(LABELS)}&name=chest.jpg`, readFileSync(CHEST), { 'content-type': 'image/jpeg' });
    expect(raw.status).toBe(200);
    expect(raw.body).toEqual({ ...cli[0], file: 'chest.jpg' });
  });

  it('classify with a window and top, as the CLI flags', async () => {
    const cli = cliJson(['classify', PNG, '--labels', LABELS, '--window', 'p1,99', '--top', '2']) as Array<{ file: string }>;
    const r = await post('classify', form(readFileSync(PNG), 'x.png', { labels: LABELS, window: 'p1,99', top: '2' }));
    expect(r.body).toEqual({ ...cli[0], file: 'x.png' });
    expect((r.body.labels as unknown[]).length).toBe(2);
  });

  it('inspect', async () => {
    const cli = cliJson(['inspect', PNG]) as Record<string, unknown>;
    const r = await post('inspect', form(readFileSync(PNG), 'x.png'));
    expect(r.status).toBe(200);
    valid('InspectResult', r.body);
    expect(r.body).toEqual({ ...cli, file: 'x.png' });
  });

  it('ask', async () => {
    const q = 'Is this a chest x-ray?';
    const cli = cliJson(['ask', CHEST, q]) as Record<string, unknown>;
    const r = await post('ask', form(readFileSync(CHEST), 'c.jpg', { question: q }));
    expect(r.status).toBe(200);
    valid('AskOutput', r.body);
    expect(r.body).toEqual({ ...cli, image: 'c.jpg' });
  });

  it('embed (image and text)', async () => {
    const r = await post('embed', form(readFileSync(PNG), 'x.png'));
    expect(r.status).toBe(200);
    valid('EmbeddingRow', r.body);
    const t = await post('embed', JSON.stringify({ text: 'chest x-ray' }), { 'content-type': 'application/json' });
    valid('EmbeddingRow', t.body);
    expect(t.body.kind).toBe('text');
    const lines = medvlm(['embed', PNG]).stdout.trim().split('\n');
    const cli = JSON.parse(lines[0]) as { embedding: number[] };
    const emb = r.body.embedding as number[];
    expect(emb.length).toBe(cli.embedding.length);
    expect(Math.max(...emb.map((v, i) => Math.abs(v - cli.embedding[i])))).toBeLessThan(1e-6);
  });
});

describe('errors', () => {
  it('options: 400 with a stable code and the option named; unknown endpoint 404', async () => {
    const noLabels = await post('classify', form(readFileSync(PNG), 'x.png'));
    expect(noLabels.status).toBe(400);
    expect(noLabels.body).toEqual({ error: { code: 'E_BAD_OPTION', message: 'labels: is required', option: 'labels' } });
    const template = await post('classify', form(readFileSync(PNG), 'x.png', { labels: 'a,b', templates: '/etc/passwd' }));
    expect(template.status).toBe(400);
    expect(template.body.error).toMatchObject({ code: 'E_BAD_OPTION', option: 'templates' });
    const noFile = await post('inspect', form(undefined, '', {}));
    expect(noFile.body.error).toMatchObject({ code: 'E_BAD_OPTION', option: 'file' });
    const missing = await fetch(`${server.base}/v1/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('E_HTTP_NOT_FOUND');
    // index endpoints exist only with --index
    expect((await post('search', JSON.stringify({ text: 'x' }), { 'content-type': 'application/json' })).status).toBe(404);
  });

  it('an unreadable image: 4xx with its E_ code, no stack trace', async () => {
    const r = await post('classify', form(new TextEncoder().encode('not an image at all'), 'x.png', { labels: 'a,b' }));
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.body.error).toMatchObject({ code: 'E_FORMAT_UNKNOWN' });
    expect(JSON.stringify(r.body)).not.toMatch(/\n\s+at /);
  });
});

describe('documents', () => {
  it('/openapi.json validates as OpenAPI 3.1 and lists every endpoint', async () => {
    const doc = (await (await fetch(`${server.base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(doc) as never);
    expect(Object.keys(doc.paths).sort()).toEqual(['/v1/ask', '/v1/classify', '/v1/embed', '/v1/health', '/v1/inspect', '/v1/map', '/v1/models', '/v1/segment', '/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events'].sort());
  });

  it('/v1/health and /v1/models', async () => {
    const h = (await (await fetch(`${server.base}/v1/health`)).json()) as Record<string, unknown>;
    expect(h).toMatchObject({ status: 'ok', index: false });
    expect(h.loaded).toEqual(expect.arrayContaining(['zero-shot-image-classification']));
    const models = (await (await fetch(`${server.base}/v1/models`)).json()) as Array<{ id: string }>;
    expect(models).toEqual(cliJson(['models']));
  });
});
