/** Shared pieces of the work-queue tests: MedPix inputs, corrupt files, CLI processes, index comparison. */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { loadLance } from '../../src/index-store/lance.js';
import { CaseIndex } from '../../src/index-store/store.js';
import { openWorkQueue, queueStatus, type QueueStatus } from '../../src/queue/index.js';
import { SHARED_DATA } from '../eval/helpers.js';
import { startMedvlm, type AsyncCliRun, type RunningCli } from '../support/spawn-cli.js';

export const MANIFEST = join(SHARED_DATA, 'medpix2/manifest.jsonl');
export const HAVE_MEDPIX = existsSync(MANIFEST);

/** The first `n` MedPix 2.0 images of the manifest (absolute paths). */
export function medpixImages(n: number, skip = 0): string[] {
  const lines = readFileSync(MANIFEST, 'utf8').split('\n').filter((l) => l.trim());
  return lines
    .map((l) => resolve(SHARED_DATA, 'medpix2', (JSON.parse(l) as { image: string }).image))
    .filter((p) => existsSync(p))
    .slice(skip, skip + n);
}

/** Three files no reader accepts: an empty PNG, a DICOM preamble with garbage, a truncated JPEG. */
export function corruptFiles(dir: string, jpeg: string): string[] {
  const empty = join(dir, 'empty.png');
  writeFileSync(empty, '');
  const dcm = join(dir, 'garbage.dcm');
  writeFileSync(dcm, Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from('\x02\x00\x10\x00UI\xff\x7fnot really dicom', 'latin1')]));
  const cut = join(dir, 'truncated.jpg');
  copyFileSync(jpeg, cut);
  writeFileSync(cut, readFileSync(cut).subarray(0, 300));
  return [empty, dcm, cut];
}

/** Start `medvlm worker` on a queue. */
export function startWorker(url: string, name: string, extra: string[] = []): RunningCli {
  return startMedvlm(['worker', '--queue', url, '--queue-name', name, '--threads', '1', '--lock-ms', '3000', ...extra]);
}

/** SIGTERM the workers and wait for them (they finish their batch first). */
export async function stopAll(procs: RunningCli[]): Promise<AsyncCliRun[]> {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  return Promise.all(procs.map((p) => p.done));
}

/** The queue's status, read directly. */
export async function status(url: string, name: string): Promise<QueueStatus> {
  const wq = await openWorkQueue(url, name);
  try {
    return await queueStatus(wq);
  } finally {
    await wq.close();
  }
}

/** Poll until `pred` holds (or fail after `ms`). */
export async function until(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Snapshot {
  path: string;
  hash: string;
  rest: string;
  vector: Float32Array;
  texts: Map<string, Float32Array>;
}

/** Every entry of an index with its image vector and text vectors (text rows read from the table). */
export async function snapshot(dir: string): Promise<Map<string, Snapshot>> {
  const index = await CaseIndex.open(dir);
  const out = new Map<string, Snapshot>();
  try {
    for (const e of await index.entries({ withVectors: true })) {
      expect(out.has(e.path), `duplicate entry ${e.path}`).toBe(false);
      out.set(e.path, { path: e.path, hash: e.hash, rest: JSON.stringify({ m: e.metadata, t: e.texts, d: e.dicom, s: e.source }), vector: e.vector!, texts: new Map() });
    }
    expect(await index.count()).toBe(out.size);
  } finally {
    index.close();
  }
  const { lancedb } = await loadLance();
  const db = await lancedb.connect(dir);
  const table = await db.openTable('entries');
  const rows = (await table.query().where(`kind = 'text'`).select(['path', 'field', 'vector']).toArray()) as Array<{ path: string; field: string; vector: { toArray(): Float32Array } }>;
  for (const r of rows) {
    const s = out.get(r.path);
    expect(s, `text row without an image row: ${r.path}`).toBeDefined();
    expect(s!.texts.has(r.field), `duplicate text row ${r.path} ${r.field}`).toBe(false);
    s!.texts.set(r.field, Float32Array.from(r.vector.toArray()));
  }
  table.close();
  db.close();
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Two indexes hold the same entries: hash, metadata, texts, source, and every embedding within `tol`. Returns the largest difference. */
export async function expectSameIndex(a: string, b: string, tol = 1e-6): Promise<{ entries: number; texts: number; maxDiff: number }> {
  const sa = await snapshot(a);
  const sb = await snapshot(b);
  expect([...sb.keys()].sort()).toEqual([...sa.keys()].sort());
  let maxDiff = 0;
  let texts = 0;
  for (const [p, x] of sa) {
    const y = sb.get(p)!;
    expect(y.hash, p).toBe(x.hash);
    expect(y.rest, p).toBe(x.rest);
    maxDiff = Math.max(maxDiff, maxAbsDiff(x.vector, y.vector));
    expect([...y.texts.keys()].sort(), p).toEqual([...x.texts.keys()].sort());
    for (const [f, v] of x.texts) {
      maxDiff = Math.max(maxDiff, maxAbsDiff(v, y.texts.get(f)!));
      texts++;
    }
  }
  expect(maxDiff).toBeLessThanOrEqual(tol);
  return { entries: sa.size, texts, maxDiff };
}
