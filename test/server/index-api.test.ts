/**
 * `/v1/search` and `/v1/draft-report` with `--index`: a small index of the bundled samples with
 * captions, built by the CLI; the server's answers equal `medvlm search --json` and
 * `medvlm draft-report --json` for the same queries.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { medvlm, ROOT } from '../cli/helpers.js';
import { form, startTestServer, type TestServer } from './helpers.js';

const DIR = mkdtempSync(join(tmpdir(), 'medvlm-serve-index-'));
const INDEX = join(DIR, 'index');
const CAPTIONS: Record<string, string> = {
  'vqarad-chest-xray-1.jpg': 'Frontal chest radiograph. The lungs are clear. No pleural effusion.',
  'vqarad-chest-xray-2.jpg': 'Chest x-ray with a right lower lobe opacity. Heart size is normal.',
  'vqarad-head-ct-1.jpg': 'Axial CT of the head without contrast. No acute haemorrhage.',
  'vqarad-head-mr-1.jpg': 'Axial MR image of the brain. Ventricles are normal in size.',
  'vqarad-abdomen-ct-1.jpg': 'Axial CT of the abdomen. The liver enhances normally.',
  'vqarad-abdomen-ct-2.jpg': 'Abdominal CT with a low-density lesion in the liver.',
};
const QUERY = join(ROOT, 'samples/pneumoniamnist-test-0000-pneumonia.png');

let server: TestServer;
beforeAll(async () => {
  const lines = Object.entries(CAPTIONS).map(([image, caption]) => {
    copyFileSync(join(ROOT, 'samples', image), join(DIR, image));
    return JSON.stringify({ image, caption });
  });
  writeFileSync(join(DIR, 'manifest.jsonl'), lines.join('\n') + '\n');
  const r = medvlm(['index', 'add', '--index', INDEX, '--text-from', join(DIR, 'manifest.jsonl')]);
  expect(r.code, r.stderr).toBe(0);
  server = await startTestServer({ served: { index: INDEX } });
}, 300_000);
afterAll(async () => {
  await server?.close();
  rmSync(DIR, { recursive: true, force: true });
});

function cliJson(args: string[]): Record<string, unknown> {
  const r = medvlm([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

async function post(path: string, body: BodyInit, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.base}/v1/${path}`, { method: 'POST', body, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('index endpoints equal the CLI --json', () => {
  it('search by text', async () => {
    const cli = cliJson(['search', '--index', INDEX, '--text', 'CT of the liver', '--k', '3']);
    const r = await post('search', JSON.stringify({ text: 'CT of the liver', k: 3 }), { 'content-type': 'application/json' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual(cli);
    expect((r.body.hits as unknown[]).length).toBe(3);
  });

  it('search by image, texts as the target', async () => {
    const cli = cliJson(['search', '--index', INDEX, '--image', QUERY, '--target', 'text', '--k', '4']);
    const r = await post('search', form(readFileSync(QUERY), 'q.png', { target: 'text', k: '4' }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ...cli, query: { ...(cli.query as object), image: 'q.png' } });
  });

  it('draft-report, each sentence with its source', async () => {
    const cli = cliJson(['draft-report', QUERY, '--corpus', INDEX]);
    const r = await post('draft-report', form(readFileSync(QUERY), 'q.png'));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ...cli, image: 'q.png' });
    expect((r.body.sentences as Array<{ source: { path: string } }>).every((s) => s.source.path.length > 0)).toBe(true);
  });

  it('/v1/health says an index is served', async () => {
    expect(await (await fetch(`${server.base}/v1/health`)).json()).toMatchObject({ index: true });
  });
});
