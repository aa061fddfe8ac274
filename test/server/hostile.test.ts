/**
 * Hostile and faulty requests against the real server, each followed by `/v1/health` still answering:
 * oversized bodies, a 2 GB Content-Length, truncated multipart, truncated and oversized DICOM, a JSON
 * bomb, a slow client, the concurrency limit, the per-request timeout, API keys, CORS, the request log.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBindSafety, isLoopbackHost } from '../../src/server/bind.js';
import { startServer } from '../../src/server/index.js';
import { ROOT } from '../cli/helpers.js';
import { form, startTestServer, type TestServer } from './helpers.js';

const PNG = readFileSync(join(ROOT, 'samples/pneumoniamnist-test-0000-pneumonia.png'));
const CORPUS = join(ROOT, 'test/.corpus/dicom');
const hasCorpus = existsSync(join(CORPUS, 'err_huge.dcm'));
if (!hasCorpus) console.warn(`DICOM hostile-request checks skipped: ${CORPUS} was not built (needs dcmtk and gdcm)`);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ maxUploadBytes: 1024 * 1024, concurrency: 1, queue: 0 });
  // warm the classifier so later checks measure the server, not the model load
  const r = await fetch(`${server.base}/v1/classify`, { method: 'POST', body: form(PNG, 'x.png', { labels: 'a,b' }) });
  expect(r.status).toBe(200);
}, 120_000);
afterAll(() => server?.close());

async function healthy(base = server.base): Promise<void> {
  const r = await fetch(`${base}/v1/health`);
  expect(r.status).toBe(200);
  expect(((await r.json()) as { status: string }).status).toBe('ok');
}

async function post(path: string, body: BodyInit, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.base}/v1/${path}`, { method: 'POST', body, headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { error?: { code: string; message: string } } };
}

/** Send raw bytes on a socket; resolve with what came back when the server closes or after `waitMs`. */
function rawRequest(head: string, body: Buffer, waitMs = 3000, base = server.base): Promise<{ text: string; closed: boolean; ms: number }> {
  const { hostname, port } = new URL(base);
  const t0 = Date.now();
  return new Promise((ok) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => {
      socket.write(head);
      socket.write(body);
    });
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      ok({ text: Buffer.concat(chunks).toString('latin1'), closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => done(true));
    socket.on('error', () => done(true));
  });
}

describe('sizes', () => {
  it('an oversized raw body → 413 E_HTTP_TOO_LARGE', async () => {
    const r = await post('classify?labels=a,b', new Uint8Array(2 * 1024 * 1024), { 'content-type': 'application/octet-stream' });
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe('E_HTTP_TOO_LARGE');
    await healthy();
  });

  it('an oversized multipart upload → 413', async () => {
    const r = await post('classify', form(new Uint8Array(1024 * 1024 + 10), 'big.png', { labels: 'a,b' }));
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe('E_HTTP_TOO_LARGE');
    await healthy();
  });

  it('a Content-Length of 2 GB → 413 at once, without reading the body', async () => {
    const head = `POST /v1/classify?labels=a,b HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${2 * 1024 ** 3}\r\n\r\n`;
    const r = await rawRequest(head, Buffer.alloc(1024));
    expect(r.text).toMatch(/^HTTP\/1\.1 413/);
    expect(r.text).toContain('E_HTTP_TOO_LARGE');
    expect(r.ms).toBeLessThan(2000);
    await healthy();
  });
});

describe('malformed bodies', () => {
  it('truncated multipart → 400 E_HTTP_BAD_REQUEST', async () => {
    const boundary = 'medvlmboundary';
    const full = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="labels"\r\n\r\na,b\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n`),
      PNG,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const cut = full.subarray(0, full.length - 200);
    const r = await post('classify', cut, { 'content-type': `multipart/form-data; boundary=${boundary}` });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('E_HTTP_BAD_REQUEST');
    await healthy();
  });

  it('a JSON bomb (100 000 levels of nesting) → 400 before parsing', async () => {
    const bomb = '{"text":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
    const r = await post('embed', bomb, { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('E_HTTP_BAD_REQUEST');
    expect(r.body.error?.message).toMatch(/nested deeper/);
    const broken = await post('embed', '{"text": "unterminated', { 'content-type': 'application/json' });
    expect(broken.status).toBe(400);
    await healthy();
  });

  it('an unsupported content type → 415; a path instead of a file is never read', async () => {
    const r = await post('inspect', 'hello', { 'content-type': 'text/html' });
    expect(r.status).toBe(415);
    const path = await post('inspect', form(undefined, '', { file: '/etc/passwd' }));
    expect(path.status).toBe(400);
    expect(path.body.error).toMatchObject({ code: 'E_BAD_OPTION' });
    await healthy();
  });
});

describe.skipIf(!hasCorpus)('hostile DICOM', () => {
  it('truncated pixel data → 4xx with its E_ code', async () => {
    const r = await post('classify', form(readFileSync(join(CORPUS, 'err_truncated_pixels.dcm')), 'cut.dcm', { labels: 'a,b' }));
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.body.error?.code).toMatch(/^E_(DICOM_INVALID|DECODE_FAILED)$/);
    await healthy();
  });

  it('a header declaring 60000×60000 → 413 E_IMAGE_TOO_LARGE before allocating', async () => {
    const r = await post('inspect', form(readFileSync(join(CORPUS, 'err_huge.dcm')), 'huge.dcm'));
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe('E_IMAGE_TOO_LARGE');
    await healthy();
  });

  it('a DICOM cut in half → 4xx', async () => {
    const whole = readFileSync(join(CORPUS, 'mf8_jpeg50.dcm'));
    const r = await post('inspect', form(whole.subarray(0, Math.floor(whole.length / 2)), 'half.dcm'));
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.body.error?.code).toMatch(/^E_[A-Z_]+$/);
    await healthy();
  });
});

describe('time and load', () => {
  it('a slow client holding a connection is cut off, and others are served meanwhile', async () => {
    const head = 'POST /v1/classify?labels=a,b HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n';
    const strict = await startTestServer({ idleTimeoutMs: 800, receiveTimeoutMs: 1500 });
    try {
      const slow = rawRequest(head, Buffer.alloc(10), 10_000, strict.base);
      await healthy(strict.base);
      const r = await slow;
      expect(r.closed).toBe(true);
      expect(r.ms).toBeLessThan(5000);
      await healthy(strict.base);
    } finally {
      await strict.close();
    }
  });

  it('a client that disconnects mid-upload does not keep its concurrency slot', async () => {
    const boundary = 'medvlmgone';
    const head = `POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 50000\r\n\r\n`;
    const part = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="labels"\r\n\r\na,b\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n\r\n`);
    await rawRequest(head, Buffer.concat([part, PNG.subarray(0, 1000)]), 300); // sends part of the body, then hangs up
    // concurrency 1, queue 0: a slot still held would answer 503 for ever
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      if (i) await new Promise((ok) => setTimeout(ok, 100));
      status = (await post('classify', form(PNG, 'x.png', { labels: 'a,b' }))).status;
    }
    expect(status).toBe(200);
    await healthy();
  });

  it('queued requests whose clients hang up do not keep their slots', async () => {
    const queued = await startTestServer({ concurrency: 1, queue: 8 });
    try {
      const f = new Response(form(PNG, 'x.png', { labels: 'a,b' }));
      const type = f.headers.get('content-type')!;
      const body = Buffer.from(await f.arrayBuffer());
      const head = `POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`;
      // whole bodies sent, then the clients give up while their requests wait (the first one loads the model)
      await Promise.all(Array.from({ length: 6 }, () => rawRequest(head, body, 50, queued.base)));
      const r = await fetch(`${queued.base}/v1/classify`, { method: 'POST', body: form(PNG, 'x.png', { labels: 'a,b' }) });
      expect(r.status).toBe(200);
      await healthy(queued.base);
    } finally {
      await queued.close();
    }
  }, 60_000);

  it('beyond the concurrency limit → 503 E_HTTP_BUSY with Retry-After', async () => {
    const all = await Promise.all(Array.from({ length: 6 }, () => post('classify', form(PNG, 'x.png', { labels: 'a,b' }))));
    const statuses = all.map((r) => r.status);
    expect(statuses).toContain(200);
    const busy = all.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const b of busy) {
      expect(b.body.error?.code).toBe('E_HTTP_BUSY');
      expect(b.headers.get('retry-after')).toBe('1');
    }
    await healthy();
  });

  it('a request over the time limit → 503 E_HTTP_TIMEOUT', async () => {
    const quick = await startTestServer({ requestTimeoutMs: 5 });
    try {
      const r = await fetch(`${quick.base}/v1/ask`, { method: 'POST', body: form(PNG, 'x.png', { question: 'Is this a chest x-ray?' }) });
      expect(r.status).toBe(503);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('E_HTTP_TIMEOUT');
      await healthy(quick.base);
    } finally {
      await quick.close();
    }
  });
});

describe('access', () => {
  it('binds loopback by default; another host needs API keys or --insecure', async () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('10.0.0.5')).toBe(false);
    expect(() => checkBindSafety('0.0.0.0', { hasApiKeys: false, insecure: false })).toThrow(/--api-key-file/);
    expect(() => checkBindSafety('0.0.0.0', { hasApiKeys: true, insecure: false })).not.toThrow();
    expect(() => checkBindSafety('0.0.0.0', { hasApiKeys: false, insecure: true })).not.toThrow();
    await expect(startServer({ host: '0.0.0.0', port: 0, web: false })).rejects.toMatchObject({ code: 'E_BAD_OPTION', option: 'host' });
  });

  it('on a non-loopback bind: a missing or wrong key → 401, the right key → 200, health open', async () => {
    const key = 'k'.repeat(12) + '-0123456789abcdef';
    const keyed = await startTestServer({ apiKeys: [key] }, '0.0.0.0');
    const base = keyed.base.replace('0.0.0.0', '127.0.0.1');
    try {
      const missing = await fetch(`${base}/v1/models`);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('E_HTTP_UNAUTHORIZED');
      expect((await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${key}x` } })).status).toBe(401);
      expect((await fetch(`${base}/v1/models`, { headers: { authorization: 'Bearer ' } })).status).toBe(401);
      expect((await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
      expect((await fetch(`${base}/v1/models`, { headers: { 'x-api-key': key } })).status).toBe(200);
      await healthy(base);
    } finally {
      await keyed.close();
    }
  });

  it('CORS is off: no Access-Control-Allow-Origin, preflight not granted', async () => {
    const pre = await fetch(`${server.base}/v1/classify`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${server.base}/v1/health`, { headers: { origin: 'https://evil.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    expect(get.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('the request log has ids, routes, sizes and timings, and no file name, option value or content', async () => {
    const before = server.log.length;
    const r = await post('classify', form(PNG, 'DOE^JOHN_MRN-4455.png', { labels: 'pneumothorax-secret,normal' }));
    expect(r.status).toBe(200);
    const lines = server.log.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    const request = lines.find((l) => l.msg === 'request' && l.route === '/v1/classify');
    expect(request).toMatchObject({ method: 'POST', status: 200, reqId: expect.any(String) });
    expect(request!.bytesIn).toBeGreaterThan(PNG.length);
    expect(request!.ms).toEqual(expect.any(Number));
    const text = server.log.join('\n');
    for (const secret of ['DOE', 'JOHN', '4455', 'pneumothorax-secret', 'labels=']) expect(text).not.toContain(secret);
  });
});
