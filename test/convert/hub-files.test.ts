/**
 * fetchHubFiles against a loopback HTTP server that answers like the hub's `resolve/main` URLs:
 * the first present checkpoint name of a group is downloaded into the cache layout with progress,
 * absent optional files (404) are skipped, a second call needs no network, and a repository without
 * any checkpoint is E_MODEL_NOT_FOUND.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fetchHubFiles } from '../../src/runtime/hub-files.js';
import { resolveRuntimeSettings } from '../../src/runtime/env.js';
import { MedvlmError } from '../../src/core/errors.js';
import { tempDir } from './helpers.js';

const FILES: Record<string, string> = {
  '/org/model/resolve/main/open_clip_pytorch_model.bin': 'x'.repeat(100_000),
  '/org/model/resolve/main/vocab.txt': '[PAD]\n[UNK]\n[CLS]\n[SEP]\n',
};
let server: Server;
let endpoint = '';
const requests: string[] = [];
const root = tempDir('hub');

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = FILES[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => {
  server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('fetchHubFiles (loopback hub)', () => {
  it('downloads the first present file of each group and the optional files the hub has, into the cache layout', async () => {
    const settings = resolveRuntimeSettings({ cacheDir: root, hubEndpoint: endpoint, offline: false });
    const progress: number[] = [];
    const folder = await fetchHubFiles('org/model', { oneOf: [['open_clip_model.safetensors', 'open_clip_pytorch_model.bin']], optional: ['vocab.txt', 'tokenizer.json'] }, settings, (p) => progress.push(p.loaded));
    expect(folder).toBe(join(root, 'org', 'model'));
    expect(readFileSync(join(folder, 'open_clip_pytorch_model.bin'), 'utf8')).toHaveLength(100_000);
    expect(readFileSync(join(folder, 'vocab.txt'), 'utf8')).toMatch(/\[CLS\]/);
    expect(existsSync(join(folder, 'tokenizer.json'))).toBe(false);
    expect(Math.max(...progress)).toBe(100_000); // per-file byte counts: the checkpoint, then vocab.txt
    expect(progress.at(-1)).toBe(24);
    const before = requests.length;
    await fetchHubFiles('org/model', { oneOf: [['open_clip_model.safetensors', 'open_clip_pytorch_model.bin']], optional: [] }, { ...settings, offline: true });
    expect(requests.length).toBe(before);
  });

  it('a repository without any of the files is E_MODEL_NOT_FOUND', async () => {
    const settings = resolveRuntimeSettings({ cacheDir: root, hubEndpoint: endpoint, offline: false });
    await expect(fetchHubFiles('org/empty', { oneOf: [['a.bin', 'b.bin']], optional: [] }, settings)).rejects.toMatchObject({ code: 'E_MODEL_NOT_FOUND' });
    await expect(fetchHubFiles('org/empty', { oneOf: [['a.bin']], optional: [] }, { ...settings, offline: true })).rejects.toBeInstanceOf(MedvlmError);
  });
});
