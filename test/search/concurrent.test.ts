/**
 * Two `medvlm index add` runs on one index at once (a user and a nightly job), as real CLI processes:
 * both exit 0 and the index holds the union of their inputs, each image once with the hash of its
 * bytes. Without the write lock one run failed every time (LanceDB "Retryable commit conflict" or a
 * merge-insert reading files that the other run's compaction had removed, with images missing).
 * Real MedPix 2.0 images and captions with the bundled medvlm-tiny; skipped without ../shared/data.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseIndex } from '../../src/index-store/store.js';
import { sha256File } from '../../src/runtime/hashing.js';
import { hasStackTrace } from '../cli/helpers.js';
import { SHARED_DATA } from '../eval/helpers.js';
import { medvlmAsync, type AsyncCliRun } from '../support/spawn-cli.js';

const MANIFEST = join(SHARED_DATA, 'medpix2/manifest.jsonl');
const ready = existsSync(MANIFEST);
if (!ready) console.warn(`concurrent index add test skipped: needs ${MANIFEST} (../shared/data)`);

let work: string;
let images: string[];
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'medvlm-concurrent-'));
  if (!ready) return;
  const lines = readFileSync(MANIFEST, 'utf8').split('\n').filter((l) => l.trim());
  images = lines.map((l) => resolve(SHARED_DATA, 'medpix2', (JSON.parse(l) as { image: string }).image)).filter((p) => existsSync(p));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function add(ix: string, files: string[]): Promise<AsyncCliRun> {
  return medvlmAsync(['index', 'add', ...files, '--text-from', MANIFEST, '--index', ix, '--batch-size', '8', '--json']);
}

async function expectUnion(ix: string, files: string[]): Promise<void> {
  const index = await CaseIndex.open(ix);
  try {
    const entries = await index.entries();
    const want = [...new Set(files)].sort();
    expect(entries.map((e) => e.path)).toEqual(want);
    expect(new Set(entries.map((e) => e.hash)).size).toBe(entries.length);
    for (const e of entries) expect(e.hash).toBe(await sha256File(e.path));
    expect(await index.count()).toBe(want.length);
    // text rows: one per manifest text of each image, none twice
    const stats = await index.stats();
    expect(stats.entries).toBe(want.length);
    expect(stats.texts).toBeGreaterThan(0);
  } finally {
    index.close();
  }
}

function expectClean(r: AsyncCliRun): void {
  expect(r.stderr, r.stderr).not.toMatch(/unexpected error|\.rs:\d+/);
  expect(hasStackTrace(r.stderr)).toBe(false);
  expect(r.code, r.stderr).toBe(0);
}

describe.skipIf(!ready)('two index add runs on one index at once', () => {
  it('both exit 0 creating a new index together, and again with overlapping inputs: the index is the union, no duplicates', async () => {
    const ix = join(work, 'ix');
    const a = images.slice(0, 120);
    const b = images.slice(120, 240);
    const [ra, rb] = await Promise.all([add(ix, a), add(ix, b)]);
    expectClean(ra);
    expectClean(rb);
    expect((JSON.parse(ra.stdout) as { added: number }).added).toBe(120);
    expect((JSON.parse(rb.stdout) as { added: number }).added).toBe(120);
    await expectUnion(ix, [...a, ...b]);

    // second round on the now existing index: 60 paths in both runs (both may write them; stored once)
    const c = images.slice(240, 360);
    const d = images.slice(300, 420);
    const [rc, rd] = await Promise.all([add(ix, c), add(ix, d)]);
    expectClean(rc);
    expectClean(rd);
    await expectUnion(ix, [...a, ...b, ...c, ...d]);
  }, 240_000);
});
