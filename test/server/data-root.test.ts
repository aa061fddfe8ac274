/** Image paths from HTTP: only under --data-root; `..`, absolute paths and symlinks out are refused; the server stays up. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../cli/helpers.js';
import { form, startTestServer, type TestServer } from './helpers.js';

const PNG = join(ROOT, 'samples/pneumoniamnist-test-0000-pneumonia.png');
const TOP = mkdtempSync(join(tmpdir(), 'medvlm-data-root-'));
const DATA = join(TOP, 'data');
let server: TestServer;
let plain: TestServer;

beforeAll(async () => {
  mkdirSync(join(DATA, 'sub'), { recursive: true });
  copyFileSync(PNG, join(DATA, 'x.png'));
  copyFileSync(PNG, join(TOP, 'outside.png'));
  writeFileSync(join(TOP, 'secret.txt'), 'not for HTTP');
  symlinkSync(join(TOP, 'outside.png'), join(DATA, 'link-out.png'));
  symlinkSync(TOP, join(DATA, 'sub', 'dir-out'));
  symlinkSync(join(DATA, 'x.png'), join(DATA, 'sub', 'link-in.png'));
  server = await startTestServer({ dataRoot: DATA });
  plain = await startTestServer();
}, 60_000);
afterAll(async () => {
  await server?.close();
  await plain?.close();
  rmSync(TOP, { recursive: true, force: true });
});

async function inspect(s: TestServer, path: string) {
  const res = await fetch(`${s.base}/v1/inspect?path=${encodeURIComponent(path)}`, { method: 'POST' });
  return { status: res.status, body: (await res.json()) as { file?: string; error?: { code: string; option?: string; message: string } } };
}

describe('--data-root', () => {
  it('reads an image under the root (and a link that stays inside), same answer as an upload', async () => {
    const upload = (await (await fetch(`${server.base}/v1/inspect`, { method: 'POST', body: form(readFileSync(PNG), 'x.png') })).json()) as Record<string, unknown>;
    const byPath = await inspect(server, 'x.png');
    expect(byPath.status).toBe(200);
    expect(byPath.body).toEqual(upload);
    expect((await inspect(server, 'sub/../x.png')).status).toBe(200);
    expect((await inspect(server, 'sub/link-in.png')).status).toBe(200);
  });

  it.each([
    ['../outside.png', /out of the server's data root/],
    ['../../../../../../etc/passwd', /out of the server's data root/],
    ['/etc/passwd', /relative/],
    ['link-out.png', /link that leads out/],
    ['sub/dir-out/secret.txt', /link that leads out/],
    ['sub', /not a regular file/],
  ])('%s → 400, option path', async (path, message) => {
    const r = await inspect(server, path);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'E_BAD_OPTION', option: 'path' });
    expect(r.body.error?.message).toMatch(message);
    expect(JSON.stringify(r.body)).not.toContain('not for HTTP');
    expect((await fetch(`${server.base}/v1/health`)).status).toBe(200);
  });

  it('a missing file → 404 E_FILE_NOT_FOUND; without --data-root paths are refused', async () => {
    const missing = await inspect(server, 'nope.png');
    expect(missing.status).toBe(404);
    expect(missing.body.error?.code).toBe('E_FILE_NOT_FOUND');
    const refused = await inspect(plain, 'x.png');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ option: 'path' });
    expect(refused.body.error?.message).toMatch(/--data-root/);
  });
});
