/**
 * The DICOMweb transport without Orthanc: credentials from files/environment only, URL checks, multipart
 * framing, and retry behaviour against a real local HTTP server that answers 503/401/404 on purpose.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { authorizationHeader, resolveAuth } from '../../src/pacs/auth.js';
import { DicomwebClient } from '../../src/pacs/client.js';
import { parseServerUrl, PacsHttp } from '../../src/pacs/http.js';
import { buildMultipartRelated, parseMultipartRelated } from '../../src/pacs/multipart.js';

describe('credentials', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'medvlm-auth-'));
    writeFileSync(join(dir, 'pw'), 's3cret:with:colons\nignored second line\n');
    writeFileSync(join(dir, 'token'), '  tok-123  \n');
    writeFileSync(join(dir, 'empty'), '\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads basic and bearer credentials from files or the environment', () => {
    expect(resolveAuth({ user: 'ann', passwordFile: join(dir, 'pw'), env: {} })).toEqual({ kind: 'basic', user: 'ann', password: 's3cret:with:colons' });
    expect(resolveAuth({ env: { MEDVLM_PACS_USER: 'bob', MEDVLM_PACS_PASSWORD: 'pw' } })).toEqual({ kind: 'basic', user: 'bob', password: 'pw' });
    expect(resolveAuth({ tokenFile: join(dir, 'token'), env: {} })).toEqual({ kind: 'bearer', token: 'tok-123' });
    expect(resolveAuth({ env: { MEDVLM_PACS_TOKEN: 'abc' } })).toEqual({ kind: 'bearer', token: 'abc' });
    expect(resolveAuth({ env: {} })).toEqual({ kind: 'none' });
    expect(authorizationHeader({ kind: 'basic', user: 'ann', password: 'pw' })).toBe(`Basic ${Buffer.from('ann:pw').toString('base64')}`);
    expect(authorizationHeader({ kind: 'bearer', token: 't' })).toBe('Bearer t');
  });

  it('refuses incomplete or contradictory credentials with E_BAD_OPTION', () => {
    expect(() => resolveAuth({ user: 'ann', env: {} })).toThrow(expect.objectContaining({ code: 'E_BAD_OPTION' }));
    expect(() => resolveAuth({ user: 'ann', passwordFile: join(dir, 'empty'), env: {} })).toThrow(/empty/);
    expect(() => resolveAuth({ user: 'ann', passwordFile: join(dir, 'missing'), env: {} })).toThrow(/cannot read/);
    expect(() => resolveAuth({ user: 'ann', tokenFile: join(dir, 'token'), env: {} })).toThrow(/not both/);
  });

  it('refuses URLs that carry credentials or other schemes', () => {
    expect(() => parseServerUrl('http://u:p@127.0.0.1:8042/dicom-web')).toThrow(expect.objectContaining({ code: 'E_BAD_OPTION' }));
    expect(() => parseServerUrl('ftp://127.0.0.1/')).toThrow(/scheme/);
    expect(() => parseServerUrl('not a url')).toThrow(/not a valid URL/);
    expect(parseServerUrl('https://pacs.example/dicom-web///').pathname).toBe('/dicom-web');
  });

  it('maps PACS error codes to exit code 6', () => {
    for (const code of ['E_PACS_AUTH', 'E_PACS_NOT_FOUND', 'E_PACS_UNREACHABLE', 'E_PACS_PROTOCOL', 'E_PACS_REJECTED'] as const) expect(exitCodeFor(code)).toBe(6);
  });
});

describe('multipart/related', () => {
  it('parses what it builds, byte for byte, including parts that contain CRLF and boundary-like bytes', () => {
    const parts = [new Uint8Array([0, 1, 2, 13, 10, 45, 45, 13, 10]), new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff), new Uint8Array(0)];
    const { contentType, body } = buildMultipartRelated(parts);
    expect(contentType).toMatch(/^multipart\/related; type="application\/dicom"; boundary=medvlm-[0-9a-f]{32}$/);
    const back = parseMultipartRelated(contentType, body, 'test');
    expect(back.map((p) => p.contentType)).toEqual(['application/dicom', 'application/dicom', 'application/dicom']);
    back.forEach((p, i) => expect(Buffer.from(p.bytes).equals(Buffer.from(parts[i]))).toBe(true));
  });

  it('parses a quoted boundary and rejects non-multipart or truncated bodies with E_PACS_PROTOCOL', () => {
    const body = Buffer.from('--b"x\r\nContent-Type: application/dicom\r\n\r\nABC\r\n--b"x--\r\n'.replace(/"/g, ''), 'latin1');
    expect(parseMultipartRelated('multipart/related; type="application/dicom"; boundary="bx"', body, 't').map((p) => Buffer.from(p.bytes).toString())).toEqual(['ABC']);
    expect(() => parseMultipartRelated('application/json', body, 't')).toThrow(expect.objectContaining({ code: 'E_PACS_PROTOCOL' }));
    expect(() => parseMultipartRelated('multipart/related; boundary=bx', body.subarray(0, 30), 't')).toThrow(expect.objectContaining({ code: 'E_PACS_PROTOCOL' }));
  });
});

describe('retries', () => {
  let server: Server;
  let url: string;
  const hits: Record<string, number> = {};
  const authSeen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '';
      hits[path] = (hits[path] ?? 0) + 1;
      authSeen.push(req.headers.authorization ?? '');
      if (path.startsWith('/dw/flaky')) {
        if (hits[path] < 3) return res.writeHead(503).end('busy');
        return res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
      }
      if (path.startsWith('/dw/down')) return res.writeHead(502).end();
      if (path.startsWith('/dw/auth')) return res.writeHead(401).end();
      if (path.startsWith('/dw/gone')) return res.writeHead(404).end();
      if (path.startsWith('/dw/bad')) return res.writeHead(400).end('bad query: StudyDate');
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/dw`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('retries 5xx with backoff and succeeds; gives up after the bounded number of tries', async () => {
    const http = new PacsHttp({ url, retries: 3, backoffMs: 5, auth: { kind: 'bearer', token: 'tkn' } });
    try {
      const res = await http.send({ path: '/flaky' });
      expect(res.status).toBe(200);
      expect(hits['/dw/flaky']).toBe(3);
      expect(http.stats).toEqual({ requests: 3, retries: 2 });
      expect(authSeen.at(-1)).toBe('Bearer tkn');
      await expect(http.send({ path: '/down' })).rejects.toMatchObject({ code: 'E_PACS_UNREACHABLE', message: expect.stringContaining('HTTP 502 after 4 tries') });
      expect(hits['/dw/down']).toBe(4);
    } finally {
      await http.close();
    }
  });

  it('never retries 401, 404 or other 4xx', async () => {
    const http = new PacsHttp({ url, retries: 5, backoffMs: 5 });
    try {
      await expect(http.send({ path: '/auth' })).rejects.toMatchObject({ code: 'E_PACS_AUTH', status: 401 });
      await expect(http.send({ path: '/gone' })).rejects.toMatchObject({ code: 'E_PACS_NOT_FOUND' });
      await expect(http.send({ path: '/bad' })).rejects.toMatchObject({ code: 'E_PACS_REJECTED', message: expect.stringContaining('bad query') });
      expect([hits['/dw/auth'], hits['/dw/gone'], hits['/dw/bad']]).toEqual([1, 1, 1]);
      expect(http.stats.retries).toBe(0);
    } finally {
      await http.close();
    }
  });

  it('a server that is not listening: E_PACS_UNREACHABLE after the retries', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const addr = closed.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    await new Promise<void>((r) => closed.close(() => r()));
    const client = new DicomwebClient({ url: `http://127.0.0.1:${port}/dicom-web`, retries: 2, backoffMs: 5 });
    try {
      await expect(client.searchStudies()).rejects.toMatchObject({ code: 'E_PACS_UNREACHABLE', message: expect.stringContaining('ECONNREFUSED after 3 tries') });
      expect(client.http.stats.requests).toBe(3);
    } finally {
      await client.close();
    }
  });

  it('refuses a UID that is not a UID before sending anything', async () => {
    const client = new DicomwebClient({ url, retries: 0 });
    try {
      await expect(client.retrieveInstance('1.2.3/../../x', '1.2', '1.2')).rejects.toMatchObject({ code: 'E_PACS_PROTOCOL' });
      expect(client.http.stats.requests).toBe(0);
    } finally {
      await client.close();
    }
  });
});

const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).error === undefined;
if (!hasOpenssl) console.warn('PACS TLS test skipped: openssl is not installed');

describe.skipIf(!hasOpenssl)('TLS', () => {
  let dir: string;
  let server: ReturnType<typeof createHttpsServer>;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medvlm-tls-'));
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' });
    if (r.status !== 0) throw new Error('openssl could not make a test certificate');
    server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    const addr = server.address();
    url = `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/dicom-web`;
  });
  afterAll(async () => {
    await new Promise<void>((ok) => server.close(() => ok()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a self-signed certificate (one request, no retry) and accepts it with --ca-file', async () => {
    const strict = new DicomwebClient({ url, retries: 3, backoffMs: 5 });
    try {
      await expect(strict.searchStudies()).rejects.toMatchObject({ code: 'E_PACS_UNREACHABLE', message: expect.stringContaining('--ca-file') });
      expect(strict.http.stats.requests).toBe(1);
    } finally {
      await strict.close();
    }
    const trusted = new DicomwebClient({ url, caFile: join(dir, 'cert.pem') });
    try {
      expect(await trusted.searchStudies()).toEqual([]);
    } finally {
      await trusted.close();
    }
  });
});
