/**
 * Crash safety: `medvlm index add` killed with SIGKILL at random moments leaves an index that opens
 * and holds, for every entry, a complete and correct state (hash of the file's bytes, the file's own
 * embedding), never a half-written one; a later run completes it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseIndex } from '../../src/index-store/store.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { sha256File } from '../../src/runtime/hashing.js';
import { encodeImageInputs, isFileError } from '../../src/tasks/batch.js';
import { ROOT } from '../cli/helpers.js';
import { testModel } from '../models/fixtures.js';
import { pngSet } from './fixtures.js';
import { prng } from './synthetic.js';

const N = 300;
const CLIP = testModel('clip');
let work: string;
let files: string[];
const fresh = new Map<string, Float32Array>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'medvlm-crash-'));
  files = await pngSet('crash', N, 5);
  const encoder = await loadDualEncoder(CLIP);
  for (const r of await encodeImageInputs(encoder, files)) if (!isFileError(r)) fresh.set(r.file, r.embedding);
  await encoder.dispose();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Run `index add` and SIGKILL it `ms` after ingestion begins (or let it finish when ms is Infinity). */
function runAdd(ix: string, ms: number): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'index', 'add', join(ROOT, 'test/.corpus/search/crash'), '--index', ix, '--model', CLIP, '--batch-size', '4'], {
      cwd: ROOT,
      env: { ...process.env, MEDVLM_OFFLINE: '1' },
      stdio: 'ignore',
    });
    let killed = false;
    let timer: NodeJS.Timeout | undefined;
    // The delay counts from the moment the index description exists (ingestion has begun), so that the
    // kill lands inside `index add` however slow process start-up is on a loaded machine.
    const poll = Number.isFinite(ms)
      ? setInterval(() => {
          if (!existsSync(join(ix, 'medvlm-index.json'))) return;
          clearInterval(poll);
          timer = setTimeout(() => { killed = child.kill('SIGKILL'); }, ms);
        }, 10)
      : undefined;
    child.on('exit', (code) => {
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
      done({ killed, code });
    });
  });
}

async function checkConsistent(ix: string): Promise<number> {
  const index = await CaseIndex.open(ix);
  try {
    const entries = await index.entries({ withVectors: true });
    expect(new Set(entries.map((e) => e.path)).size).toBe(entries.length);
    expect(entries.length).toBeLessThanOrEqual(N);
    for (const e of entries) {
      expect(e.hash).toBe(await sha256File(e.path));
      const ref = fresh.get(e.path);
      expect(ref, e.path).toBeDefined();
      let maxDiff = 0;
      for (let i = 0; i < ref!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref![i] - e.vector![i]));
      expect(maxDiff).toBeLessThan(1e-5);
    }
    // the table's own row count agrees with what a full scan returns
    expect(await index.count()).toBe(entries.length);
    return entries.length;
  } finally {
    index.close();
  }
}

describe('index add survives SIGKILL', () => {
  it('opens after each kill with only complete, correct entries; a later run completes the index', async () => {
    const rand = prng(2024);
    const counts: number[] = [];
    let killedMidway = 0;
    for (let i = 0; i < 5; i++) {
      // a fresh index per kill: encoding and 75 commits of 300 images take ~5 s here
      const ix = join(work, `ix${i}`);
      const r = await runAdd(ix, Math.floor(rand() * 4000));
      let n = 0;
      try {
        n = await checkConsistent(ix);
      } catch (e) {
        // killed before the index description was written: no index yet is a valid old state
        if ((e as { code?: string }).code !== 'E_INDEX_NOT_FOUND') throw e;
      }
      counts.push(n);
      if (r.killed && n > 0 && n < N) killedMidway++;
      if (i < 2) {
        // kill the resumed run too, then let a last run finish: never fewer entries than before
        const again = await runAdd(ix, Math.floor(rand() * 2500));
        const m = await checkConsistent(ix);
        expect(m).toBeGreaterThanOrEqual(n);
        if (again.killed && m > 0 && m < N) killedMidway++;
        expect((await runAdd(ix, Infinity)).code).toBe(0);
        expect(await checkConsistent(ix)).toBe(N);
      }
    }
    console.log(`entries after SIGKILL of a fresh run: ${counts.join(', ')}; killed mid-ingest ${killedMidway} times`);
    expect(killedMidway).toBeGreaterThanOrEqual(2);
  }, 400_000);
});
