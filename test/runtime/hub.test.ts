/**
 * The hub path end to end against a local HTTP server that serves the tiny CLIP in the hub's URL
 * layout (`/<org>/<name>/resolve/main/<file>`): download into the cache with progress, then load
 * again offline from the cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadDualEncoder } from '../../src/models/registry.js';
import type { LoadProgress } from '../../src/runtime/engine.js';
import { cosine, syntheticImage, testModel } from '../models/fixtures.js';

let server: Server;
let endpoint: string;
const requested: string[] = [];
const cacheDir = mkdtempSync(join(tmpdir(), 'medvlm-hub-'));

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    requested.push(`${req.method} ${url} ${req.headers.range ?? ""}`);
    const m = /^\/medvlm-test\/tiny-clip\/resolve\/main\/(.+)$/.exec(url);
    const file = m ? join(testModel('clip'), m[1]) : '';
    if (!m || m[1].includes('..') || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const size = statSync(file).size;
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (range) {
      // transformers.js asks for `bytes=0-0` to learn a file's size, as the real hub allows.
      const [start, end] = [Number(range[1]), Math.min(Number(range[2]), size - 1)];
      res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}` });
      createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('hub models', () => {
  it('downloads into the cache with progress, then loads offline from the cache', async () => {
    const progress: LoadProgress[] = [];
    const online = await loadDualEncoder('medvlm-test/tiny-clip', { cacheDir, hubEndpoint: endpoint, onProgress: (p) => progress.push(p) });
    const cached = join(cacheDir, 'medvlm-test', 'tiny-clip');
    expect(online.info.location).toBe(cached);
    expect((online.info as { source?: string }).source).toBe('hub');
    expect(existsSync(join(cached, 'onnx', 'text_model.onnx'))).toBe(true);
    expect(online.info.fileHashes['onnx/vision_model.onnx']).toMatch(/^[0-9a-f]{64}$/);
    const files = new Set(progress.map((p) => p.file));
    expect(files).toContain('onnx/vision_model.onnx');
    const last = progress.filter((p) => p.file === 'onnx/vision_model.onnx').at(-1)!;
    expect(last.loaded).toBe(statSync(join(testModel('clip'), 'onnx/vision_model.onnx')).size);
    expect(last.total).toBe(last.loaded);
    const [a] = await online.encodeImages([syntheticImage()]);
    await online.dispose();

    // Each ONNX file is fetched once in full (plus a one-byte size probe).
    expect(requested.filter((r) => r.endsWith('onnx/vision_model.onnx '))).toHaveLength(1);
    const before = requested.length;
    const again: LoadProgress[] = [];
    const offline = await loadDualEncoder('medvlm-test/tiny-clip', { cacheDir, offline: true, onProgress: (p) => again.push(p) });
    expect(requested.length).toBe(before);
    expect(again).toEqual([]); // read from the cache: nothing downloaded, so no "downloading …" lines
    const [b] = await offline.encodeImages([syntheticImage()]);
    expect(cosine(a, b)).toBeGreaterThan(0.9999999);
    expect(offline.logitScale).toBeCloseTo(20, 4);
    await offline.dispose();
  });

  it('an unknown hub model → E_MODEL_NOT_FOUND', async () => {
    await expect(loadDualEncoder('medvlm-test/no-such-model', { cacheDir, hubEndpoint: endpoint })).rejects.toMatchObject({ code: 'E_MODEL_NOT_FOUND' });
  });
});
