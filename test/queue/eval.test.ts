/**
 * `medvlm eval --queue`: the grid's cells run by two `medvlm worker --eval` processes give result files
 * identical to a local `medvlm eval` (everything but createdAt, node version and timings), written where
 * the local run writes them; a second queued run skips the existing results. MedPix 2.0 modality
 * (zero-shot) and retrieval with the bundled medvlm-tiny; skipped without redis-server or ../shared/data.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DATA } from '../eval/helpers.js';
import { redisAvailable, startRedis, type TestRedis } from '../support/redis.js';
import { medvlmAsync, startMedvlm } from '../support/spawn-cli.js';
import { stopAll } from './helpers.js';

const redisCheck = redisAvailable();
const ready = redisCheck.ok && existsSync(join(SHARED_DATA, 'medpix2/manifest.jsonl'));
if (!ready) console.warn(`queued eval test skipped: ${redisCheck.ok ? 'needs ../shared/data/medpix2' : redisCheck.reason}`);

let redis: TestRedis;
let work: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'medvlm-queue-eval-'));
  if (ready) redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
  rmSync(work, { recursive: true, force: true });
});

const GRID = ['--models', 'medvlm-tiny', '--datasets', 'medpix-modality,medpix-retrieval', '--tasks', 'zeroshot,retrieval', '--bootstrap', '50', '--data-root', SHARED_DATA];
const CELLS = ['medvlm-tiny/medpix-modality/zeroshot.json', 'medvlm-tiny/medpix-retrieval/retrieval.json'];

function comparable(file: string): Record<string, unknown> {
  const v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  delete v.createdAt;
  delete v.node;
  delete v.timings;
  return v;
}

describe.skipIf(!ready)('medvlm eval --queue', () => {
  it('two eval workers produce the result files of a local run; a second run skips them', async () => {
    const local = join(work, 'local');
    const queued = join(work, 'queued');
    const l = await medvlmAsync(['eval', ...GRID, '--out', local]);
    expect(l.code, l.stderr).toBe(0);
    const workers = [0, 1].map(() => startMedvlm(['worker', '--eval', '--queue', redis.url, '--threads', '1']));
    const q = await medvlmAsync(['eval', ...GRID, '--out', queued, '--queue', redis.url, '--json']);
    expect(q.code, q.stderr).toBe(0);
    const summary = JSON.parse(q.stdout) as { written: string[]; skipped: unknown[]; failed: unknown[] };
    expect(summary.written.sort()).toEqual(CELLS.map((c) => join(queued, c)).sort());
    expect(summary.failed).toEqual([]);
    for (const c of CELLS) expect(comparable(join(queued, c)), c).toEqual(comparable(join(local, c)));
    const again = await medvlmAsync(['eval', ...GRID, '--out', queued, '--queue', redis.url, '--json']);
    expect((JSON.parse(again.stdout) as { written: string[] }).written).toEqual([]);
    expect(again.stderr).toMatch(/result exists/);
    for (const w of await stopAll(workers)) expect(w.code, w.stderr).toBe(0);
  }, 300_000);
});
