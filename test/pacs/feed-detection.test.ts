/**
 * `pacs watch` chooses its feed: a DICOMweb server that is not Orthanc (here a minimal one of our own that
 * answers QIDO-RS and 404 elsewhere) is polled with QIDO-RS, with the reason; `--feed orthanc` forced on
 * it is a typed error. (Orthanc itself is detected in watch.test.ts against a real Orthanc.)
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DualEncoder } from '../../src/models/capabilities.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { DicomwebClient } from '../../src/pacs/client.js';
import { orthancRootOf } from '../../src/pacs/orthanc-changes.js';
import { watchPacs, type WatchEvent } from '../../src/pacs/watch.js';

let server: Server;
let base: string;
let encoder: DualEncoder;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    if (req.url?.startsWith('/dicom-web/studies')) {
      res.writeHead(200, { 'content-type': 'application/dicom+json' });
      res.end('[]');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  encoder = await loadDualEncoder('medvlm-tiny', { offline: true, threads: 1 });
});
afterAll(async () => {
  await encoder?.dispose();
  await new Promise((r) => server?.close(r));
});

describe('pacs watch feed detection', () => {
  it("finds Orthanc's REST root only beside a /dicom-web root", () => {
    expect(orthancRootOf(new URL('http://pacs:8042/dicom-web'))).toBe('http://pacs:8042');
    expect(orthancRootOf(new URL('https://h/orthanc/dicom-web/'))).toBe('https://h/orthanc');
    expect(orthancRootOf(new URL('https://h/wado/rs'))).toBeUndefined();
  });

  it('a server that is not Orthanc is polled with QIDO-RS, saying why; --feed orthanc on it is refused', async () => {
    const client = new DicomwebClient({ url: `${base}/dicom-web`, retries: 0 });
    try {
      const events: WatchEvent[] = [];
      await watchPacs(client, encoder, { labels: ['a', 'b'], intervalMs: 10, maxPolls: 2, onEvent: (e) => events.push(e) });
      const feed = events.filter((e) => e.kind === 'feed');
      expect(feed).toHaveLength(1);
      expect(feed[0]).toMatchObject({ feed: 'qido', detail: expect.stringMatching(/not Orthanc: .*\/system: not found \(HTTP 404\)/) });
      expect(events.filter((e) => e.kind === 'poll')).toHaveLength(2);
      expect(seen.filter((u) => u.startsWith('/system'))).toHaveLength(1); // detected once, not per poll
      await expect(watchPacs(client, encoder, { feed: 'orthanc-changes', labels: ['a', 'b'], intervalMs: 10, maxPolls: 1 })).rejects.toMatchObject({ code: 'E_PACS_PROTOCOL', message: expect.stringMatching(/--feed orthanc: .*HTTP 404/) });
    } finally {
      await client.close();
    }
  });
});
