/**
 * `medvlm eval --queue`: the grid's cells run by two `medvlm worker --eval` processes give result files
 * identical to a local `medvlm eval` (everything but createdAt, node version and timings), written where
 * the local run writes them; a second queued run skips the existing results. MedPix 2.0 modality
 * (zero-shot) and retrieval with the bundled medvlm-tiny; skipped without redis-server or ../shared/data.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
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

  it('--image-batch: each cell becomes ⌈N/B⌉ image-batch jobs over the workers; the results equal a local run', async () => {
    const B = 32;
    const grid = ['--models', 'medvlm-tiny', '--datasets', 'medpix-modality,medpix-retrieval', '--tasks', 'zeroshot,fewshot,retrieval', '--seeds', '1', '--shots', '1,2', '--bootstrap', '50', '--data-root', SHARED_DATA];
    const cells = [...CELLS, 'medvlm-tiny/medpix-modality/fewshot.json'];
    const local = join(work, 'local-split');
    const l = await medvlmAsync(['eval', ...grid, '--out', local]);
    expect(l.code, l.stderr).toBe(0);
    const q = ['--queue', redis.url, '--queue-name', 'split'];
    const bad = await medvlmAsync(['eval', ...grid, '--out', join(work, 'bad'), ...q, '--image-batch', '24']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--image-batch 24: must be a positive multiple of --batch-size 16/);

    const workers = [0, 1].map(() => startMedvlm(['worker', '--eval', ...q, '--threads', '1']));
    const queued = join(work, 'queued-split');
    const r = await medvlmAsync(['eval', ...grid, '--out', queued, ...q, '--image-batch', String(B), '--json']);
    expect(r.code, r.stderr).toBe(0);
    for (const w of await stopAll(workers)) expect(w.code, w.stderr).toBe(0);
    for (const c of cells) expect(comparable(join(queued, c)), c).toEqual(comparable(join(local, c)));

    // every image came from the batches (the cell encoded none itself), and there were ⌈N/B⌉ batches per split
    const redisClient = new Redis(redis.port, '127.0.0.1');
    try {
      const events = await redisClient.xrange('medvlm-bull:split-eval:events', '-', '+');
      const done = events.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]]))).filter((e) => e.event === 'completed');
      // image-batch job ids are <cell job id>-<split>-<first image>
      const perCell = new Map<string, { test: number; train: number }>();
      for (const e of done) {
        const m = /^(eval-[0-9a-f]+)-(test|train)-\d+$/.exec(e.jobId as string);
        if (!m) continue;
        const c = perCell.get(m[1]) ?? { test: 0, train: 0 };
        c[m[2] as 'test' | 'train']++;
        perCell.set(m[1], c);
      }
      const images: Record<string, number> = {};
      for (const c of cells) {
        const res = JSON.parse(readFileSync(join(queued, c), 'utf8')) as { timings: { images: number; imagesEncoded: number; imagesFromCache: number } };
        const ref = JSON.parse(readFileSync(join(local, c), 'utf8')) as { timings: { images: number } };
        expect(res.timings.imagesEncoded, c).toBe(0);
        expect(res.timings.imagesFromCache, c).toBe(res.timings.images);
        expect(res.timings.images, c).toBe(ref.timings.images);
        images[c] = res.timings.images;
      }
      const [zs, ret, fs] = cells.map((c) => images[c]);
      const batches = (n: number): number => Math.ceil(n / B);
      const want = [`${batches(zs)}/0`, `${batches(ret)}/0`, `${batches(zs)}/${batches(fs - zs)}`].sort();
      expect([...perCell.values()].map((c) => `${c.test}/${c.train}`).sort()).toEqual(want);
      console.log(`split cells (test/train image-batch jobs of ${B}): ${want.join(', ')} for ${zs}, ${ret}, ${fs} images`);
    } finally {
      redisClient.disconnect();
    }
  }, 600_000);
});
