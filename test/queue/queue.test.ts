/**
 * The work queue end to end, with real processes: Debian's redis-server (test/support/redis.ts),
 * `medvlm index add --queue`, several `medvlm worker` processes and `medvlm index commit`, on real
 * MedPix 2.0 images with their captions and findings and the bundled medvlm-tiny. Faults: a worker
 * SIGKILLed mid-batch, the committer SIGKILLed and restarted, Redis restarted mid-run, a worker with
 * other weights, corrupt files. Every time the index ends with each input once; where a reference is
 * run, it equals entry for entry a single-process `index add` of the same inputs.
 * Image count: MEDVLM_QUEUE_TEST_IMAGES (default 160; run with 2000 by hand for the check).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseIndex } from '../../src/index-store/store.js';
import { hasStackTrace } from '../cli/helpers.js';
import { testModel } from '../models/fixtures.js';
import { redisAvailable, startRedis, type TestRedis } from '../support/redis.js';
import { medvlmAsync, startMedvlm } from '../support/spawn-cli.js';
import { corruptFiles, expectSameIndex, HAVE_MEDPIX, MANIFEST, medpixImages, snapshot, startWorker, status, stopAll, until } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const N = Number(process.env.MEDVLM_QUEUE_TEST_IMAGES ?? 160);
const redisCheck = redisAvailable();
const ready = redisCheck.ok && HAVE_MEDPIX;
if (!redisCheck.ok) console.warn(`work-queue tests skipped: ${redisCheck.reason}`);
else if (!HAVE_MEDPIX) console.warn(`work-queue tests skipped: needs ${MANIFEST} (../shared/data)`);

let redis: TestRedis;
let work: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'medvlm-queue-'));
  if (ready) redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
  rmSync(work, { recursive: true, force: true });
});

const q = (name: string): string[] => ['--queue', redis.url, '--queue-name', name];

function enqueue(name: string, ix: string, files: string[], extra: string[] = []): ReturnType<typeof medvlmAsync> {
  return medvlmAsync(['index', 'add', ...files, '--text-from', MANIFEST, '--index', ix, '--batch-size', '8', ...q(name), '--json', ...extra]);
}

describe.skipIf(!ready)('work queue (BullMQ on redis-server)', () => {
  it(`3 workers + committer index ${N} MedPix images (+3 corrupt files) exactly as a single-process index add`, async () => {
    const images = medpixImages(N);
    const bad = corruptFiles(work, images[0]);
    const inputs = [...images.slice(0, 5), ...bad, ...images.slice(5)];
    const ref = join(work, 'ref');
    const t0 = Date.now();
    const single = await medvlmAsync(['index', 'add', ...inputs, '--text-from', MANIFEST, '--index', ref, '--batch-size', '8', '--json', '--threads', '1']);
    const singleMs = Date.now() - t0;
    expect(single.code, single.stderr).toBe(3); // the corrupt files
    const singleErrors = (JSON.parse(single.stdout) as { errors: Array<{ file: string; error: { code: string } }> }).errors;

    const ix = join(work, 'queued');
    const t1 = Date.now();
    const enq = await enqueue('equal', ix, inputs);
    expect(enq.code, enq.stderr).toBe(0);
    expect(JSON.parse(enq.stdout)).toMatchObject({ enqueued: N + 3, batches: Math.ceil((N + 3) / 8) });
    // enqueuing the same inputs again names the same jobs: nothing new
    const again = await enqueue('equal', ix, inputs);
    expect(JSON.parse(again.stdout)).toMatchObject({ enqueued: N + 3 });
    expect((await status(redis.url, 'equal')).jobs.waiting).toBe(Math.ceil((N + 3) / 8));

    const workers = [0, 1, 2].map(() => startWorker(redis.url, 'equal'));
    const commit = await medvlmAsync(['index', 'commit', '--index', ix, ...q('equal'), '--commit-size', '64', '--json']);
    const queuedMs = Date.now() - t1;
    const ends = await stopAll(workers);
    for (const w of ends) expect(w.code, w.stderr).toBe(0);
    expect(commit.code, commit.stderr).toBe(0);
    expect(JSON.parse(commit.stdout)).toMatchObject({ committed: N, failed: 3 });

    const cmp = await expectSameIndex(ref, ix, 1e-6);
    expect(cmp.entries).toBe(N);
    console.log(`queue equality: ${cmp.entries} entries, ${cmp.texts} texts, max |embedding diff| ${cmp.maxDiff}; single process ${singleMs} ms, enqueue + 3 workers + committer ${queuedMs} ms`);

    // the corrupt files: in the failed set with the codes the single-process run gave, never retried
    const s = await status(redis.url, 'equal');
    expect(s.jobs).toMatchObject({ waiting: 0, active: 0, completed: 0, failed: 0 });
    const codes: Record<string, number> = {};
    for (const e of singleErrors) codes[e.error.code] = (codes[e.error.code] ?? 0) + 1;
    expect(s.failedFiles).toEqual(codes);
    expect(s.committed).toBe(N);
    const listed = await medvlmAsync(['queue', 'status', ...q('equal'), '--files', '--json']);
    const files = (JSON.parse(listed.stdout) as { failedFileList: Array<{ file: string; code: string }> }).failedFileList;
    expect(files.map((f) => f.file).sort()).toEqual([...bad].sort());
    expect(files.map((f) => f.code).sort()).toEqual(singleErrors.map((e) => e.error.code).sort());
  }, 600_000);

  it('a worker SIGKILLed mid-batch: its batch is recovered as stalled and committed once', async () => {
    const images = medpixImages(64, 400);
    const ix = join(work, 'killed-worker');
    expect((await enqueue('kill-worker', ix, images, ['--batch-size', '16'])).code).toBe(0);
    const victim = startWorker(redis.url, 'kill-worker');
    await until(async () => (await status(redis.url, 'kill-worker')).jobs.active > 0, 60_000, 'the first worker to take a batch');
    victim.child.kill('SIGKILL');
    expect((await victim.done).signal).toBe('SIGKILL');
    const s = await status(redis.url, 'kill-worker');
    expect(s.jobs.active + s.jobs.completed).toBeGreaterThan(0);
    const rescuer = startWorker(redis.url, 'kill-worker');
    const commit = await medvlmAsync(['index', 'commit', '--index', ix, ...q('kill-worker'), '--json']);
    await stopAll([rescuer]);
    expect(commit.code, commit.stderr).toBe(0);
    const snap = await snapshot(ix);
    expect([...snap.keys()].sort()).toEqual([...images].sort());
    const end = await status(redis.url, 'kill-worker');
    expect(end.committed).toBe(images.length); // each image committed once: no batch done twice
    expect(end.jobs.failed).toBe(0);
  }, 300_000);

  it('the committer SIGKILLed and restarted: the index is readable in between and ends complete', async () => {
    const images = medpixImages(96, 500);
    const ix = join(work, 'killed-committer');
    expect((await enqueue('kill-committer', ix, images)).code).toBe(0);
    const workers = [startWorker(redis.url, 'kill-committer'), startWorker(redis.url, 'kill-committer')];
    const first = startMedvlm(['index', 'commit', '--index', ix, ...q('kill-committer'), '--commit-size', '8', '--lease-ms', '2000']);
    await until(async () => (await status(redis.url, 'kill-committer')).committed > 0, 120_000, 'a first commit');
    first.child.kill('SIGKILL');
    await first.done;
    const index = await CaseIndex.open(ix);
    const midway = await index.count();
    index.close();
    expect(midway).toBeGreaterThan(0);
    const second = await medvlmAsync(['index', 'commit', '--index', ix, ...q('kill-committer'), '--lease-ms', '2000', '--json']);
    await stopAll(workers);
    expect(second.code, second.stderr).toBe(0);
    const snap = await snapshot(ix);
    expect([...snap.keys()].sort()).toEqual([...images].sort());
    console.log(`committer killed with ${midway} of ${images.length} committed; restart committed the rest`);
  }, 300_000);

  it('Redis restarted mid-run (append-only file): the run completes with every image once', async () => {
    const own = await startRedis();
    try {
      const images = medpixImages(96, 600);
      const ix = join(work, 'redis-restart');
      const args = ['--queue', own.url, '--queue-name', 'restart'];
      expect((await medvlmAsync(['index', 'add', ...images, '--text-from', MANIFEST, '--index', ix, '--batch-size', '8', ...args])).code).toBe(0);
      const workers = [startWorker(own.url, 'restart'), startWorker(own.url, 'restart')];
      const commit = startMedvlm(['index', 'commit', '--index', ix, ...args, '--commit-size', '8', '--json']);
      await until(async () => (await status(own.url, 'restart')).committed > 0, 120_000, 'a first commit');
      await own.restart();
      const r = await commit.done;
      await stopAll(workers);
      expect(r.code, r.stderr).toBe(0);
      const snap = await snapshot(ix);
      expect([...snap.keys()].sort()).toEqual([...images].sort());
      expect((await status(own.url, 'restart')).committed).toBeGreaterThanOrEqual(images.length);
    } finally {
      await own.dispose();
    }
  }, 300_000);

  it('a worker with other weights is refused with E_QUEUE_MODEL_MISMATCH, one line, before taking any batch', async () => {
    const ix = join(work, 'mismatch');
    expect((await enqueue('mismatch', ix, medpixImages(8))).code).toBe(0);
    const r = await medvlmAsync(['worker', ...q('mismatch'), '--model', testModel('clip')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/E_QUEUE_MODEL_MISMATCH/);
    expect(r.stderr).toMatch(/other weights than the queue's medvlm-tiny/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect((await status(redis.url, 'mismatch')).jobs.waiting).toBe(1);
    // and a password in the URL is refused before anything connects
    const pw = await medvlmAsync(['queue', 'status', '--queue', `redis://user:secret@127.0.0.1:${redis.port}`]);
    expect(pw.code).toBe(2);
    expect(pw.stderr).toMatch(/MEDVLM_QUEUE_PASSWORD/);
    expect(pw.stderr).not.toContain('secret');
  }, 120_000);

  it('drain drops batches not started; index add --wait commits as workers finish; retry-failed enqueues failed files again', async () => {
    const images = medpixImages(16, 700);
    const [, dcm] = corruptFiles(work, images[0]);
    const inputs = [...images, dcm];
    const ix = join(work, 'admin');
    expect((await enqueue('admin', ix, inputs)).code).toBe(0);
    const drained = await medvlmAsync(['queue', 'drain', ...q('admin'), '--json']);
    expect(JSON.parse(drained.stdout)).toEqual({ removed: 3 });
    expect((await status(redis.url, 'admin')).jobs.waiting).toBe(0);

    const worker = startWorker(redis.url, 'admin');
    const waited = await enqueue('admin', ix, inputs, ['--wait']);
    expect(waited.code, waited.stderr).toBe(3); // the corrupt file
    const summary = JSON.parse(waited.stdout) as { committed: number; errors: Array<{ file: string; error: { code: string } }> };
    expect(summary.committed).toBe(16);
    expect(summary.errors.map((e) => e.file)).toEqual([dcm]);
    expect((await snapshot(ix)).size).toBe(16);

    const retried = await medvlmAsync(['queue', 'retry-failed', ...q('admin'), '--json']);
    expect(JSON.parse(retried.stdout)).toEqual({ jobs: 0, files: 1 });
    const commit = await medvlmAsync(['index', 'commit', '--index', ix, ...q('admin'), '--json']);
    await stopAll([worker]);
    expect(JSON.parse(commit.stdout)).toMatchObject({ committed: 0, failed: 1 });
    const s = await status(redis.url, 'admin');
    expect(s.failedFiles).toEqual({ [summary.errors[0].error.code]: 1 });
    expect(s.jobs).toMatchObject({ waiting: 0, active: 0, completed: 0, failed: 0 });
  }, 180_000);

  it('queue status --watch: plain lines with counts, rates and ETA when stdout is not a terminal; a bar on a terminal', async () => {
    const images = medpixImages(48, 800);
    const ix = join(work, 'watch');
    expect((await enqueue('watch', ix, images)).code).toBe(0); // 6 batches of 8
    const watch = startMedvlm(['queue', 'status', ...q('watch'), '--watch', '--interval', '0.3']);
    // the worker starts once the watch is reading, so the watch sees the run in progress even on a loaded machine
    let watching = false;
    watch.child.stdout!.once('data', () => (watching = true));
    await until(async () => watching, 60_000, 'the first queue status --watch line');
    const worker = startWorker(redis.url, 'watch');
    const commit = await medvlmAsync(['index', 'commit', '--index', ix, ...q('watch'), '--commit-size', '8', '--json']);
    expect(commit.code, commit.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 1_000));
    const [w] = await stopAll([watch]);
    await stopAll([worker]);
    expect(w.code, w.stderr).toBe(0);
    const lines = w.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    const re = /^\S+Z batches done (\d+)\/(\d+) \(waiting \d+, active \d+, delayed \d+, encoded awaiting commit \d+, failed \d+\) \| committed (\d+) images, 0 files failed \| (\?|[\d.]+) batches\/s, (\?|[\d.]+) images\/s committed \| workers \d+ \| ETA (\S+)$/;
    const parsed = lines.map((l) => {
      const m = re.exec(l);
      expect(m, l).not.toBeNull();
      return { done: Number(m![1]), total: Number(m![2]), committed: Number(m![3]), rate: m![5], eta: m![6] };
    });
    for (let i = 1; i < parsed.length; i++) expect(parsed[i].committed).toBeGreaterThanOrEqual(parsed[i - 1].committed);
    const last = parsed[parsed.length - 1];
    expect(last).toMatchObject({ done: 6, total: 6, committed: 48, eta: '0s' });
    expect(parsed.some((p) => p.rate !== '?' && Number(p.rate) > 0)).toBe(true);
    expect(parsed.some((p) => p.done > 0 && p.done < 6 && /^\d+(s|m\d\ds)$/.test(p.eta))).toBe(true);

    // on a terminal (util-linux script gives it a pseudo-terminal): a progress bar, no plain lines
    const tty = spawnSync('script', ['-qec', `${process.execPath} --import tsx src/cli/main.ts queue status --queue ${redis.url} --queue-name watch --watch --interval 0.3 --until-done`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, MEDVLM_OFFLINE: '1' } });
    if (tty.error && (tty.error as NodeJS.ErrnoException).code === 'ENOENT') console.warn('queue status --watch on a terminal not checked: script (util-linux) not installed');
    else {
      expect(tty.stdout).toMatch(/watch \[[█░]+\] 6\/6 batches \| waiting 0 active 0 awaiting commit 0 failed 0 \| [\d.?]+ images\/s committed \| ETA 0s/);
      expect(tty.stdout).not.toMatch(/batches done/);
    }
  }, 180_000);
});
