/**
 * The single committer: collects finished jobs' embeddings and writes them into the index in large
 * commits (new paths appended, known paths replaced, under the index's write lock), then removes the
 * jobs. Delivery is at least once (a committer killed between its commit and the job removal commits
 * the same entries again on restart), the effect exactly once: entries are keyed by path, so a repeat
 * replaces rows with identical ones and adds none. One committer per queue is enforced with a lease in
 * Redis that a killed committer stops renewing; a restarted one waits for it to lapse.
 */
import { hostname } from 'node:os';
import type { Job } from 'bullmq';
import { MedvlmError } from '../core/errors.js';
import type { CaseIndex, IndexEntry } from '../index-store/store.js';
import type { FileError } from '../tasks/batch.js';
import { entryFromWire, type EncodeJobData, type EncodeJobResult } from './jobs.js';
import { pendingJobs, type WorkQueue } from './work-queue.js';

/** Options of `runCommitter`. */
export interface CommitterOptions {
  /** Images per commit, at most (default 2,048). */
  commitSize?: number;
  /** Keep running when the queue is empty (default: return once nothing is pending). */
  follow?: boolean;
  /** How often to look for finished jobs when there are none (default 250 ms). */
  pollMs?: number;
  /** Lease length; renewed at a third of it (default 15 s). */
  leaseMs?: number;
  /** Compact and refresh the scalar indexes every this many commits (default 50), so lookups stay fast. */
  optimizeEvery?: number;
  /** Build/refresh the ANN index at the end (as `index add --ann`). */
  ann?: 'auto' | boolean;
  /** After each commit: images committed so far by this run, and files failed so far. */
  onCommit?: (committed: number, failed: number) => void;
  /** Stop (after the current commit) when this resolves. */
  stop?: Promise<void>;
}

/** What a committer run did. */
export interface CommitSummary {
  committed: number;
  commits: number;
  /** Files the workers could not read or decode (also in the queue's failed set). */
  errors: FileError[];
  /** Milliseconds inside index commits, and from first to last commit. */
  commitMs: number;
  wallMs: number;
  annBuilt: boolean;
}

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Commit finished jobs into `index` until nothing is pending (or, with `follow`, until `stop`).
 * @throws MedvlmError (E_DISK_FULL, E_INDEX_CONFLICT, ...) when a commit fails: the jobs of that commit
 * stay in the queue, so a later run commits them.
 */
export async function runCommitter(wq: WorkQueue, index: CaseIndex, opts: CommitterOptions = {}): Promise<CommitSummary> {
  const leaseMs = opts.leaseMs ?? 15_000;
  const token = `${hostname()}:${process.pid}:${Date.now()}`;
  await acquireLease(wq, token, leaseMs);
  let leaseLost = false;
  const renew = setInterval(() => {
    wq.redis.eval(RENEW, 1, wq.keys.committer, token, String(leaseMs)).then(
      (ok) => {
        if (!ok) leaseLost = true;
      },
      () => undefined,
    );
  }, Math.max(500, Math.round(leaseMs / 3)));
  let stopped = false;
  void opts.stop?.then(() => (stopped = true));
  const summary: CommitSummary = { committed: 0, commits: 0, errors: [], commitMs: 0, wallMs: 0, annBuilt: false };
  const commitSize = Math.max(1, opts.commitSize ?? 2_048);
  const t0 = performance.now();
  try {
    for (;;) {
      if (leaseLost) throw new MedvlmError('E_QUEUE_INVALID', `${wq.addr.display} queue ${wq.name}: another committer took over (this one's lease lapsed); stopping`);
      const jobs = await finishedJobs(wq, commitSize);
      if (jobs.length === 0) {
        if (stopped || (!opts.follow && (await pendingJobs(wq)) === 0)) break;
        await sleep(opts.pollMs ?? 250);
        continue;
      }
      const byPath = new Map<string, IndexEntry>();
      for (const job of jobs) {
        const items = new Map(job.data.items.map((it) => [it.path, it]));
        for (const w of job.returnvalue.entries) byPath.set(w.path, entryFromWire(items.get(w.path) ?? { path: w.path, hash: w.hash }, w));
        summary.errors.push(...job.returnvalue.errors);
      }
      const entries = [...byPath.values()];
      const t = performance.now();
      await index.commitEntries(entries);
      summary.commitMs += performance.now() - t;
      summary.commits++;
      summary.committed += entries.length;
      // only now are the jobs done for good; a crash before this line commits them again (same rows)
      const pipe = wq.redis.pipeline();
      pipe.hincrby(wq.keys.stats, 'committed', entries.length);
      pipe.hincrby(wq.keys.stats, 'committedJobs', jobs.length);
      pipe.hset(wq.keys.stats, 'lastCommitAt', String(Date.now()));
      pipe.hsetnx(wq.keys.stats, 'firstCommitAt', String(Date.now()));
      await pipe.exec();
      await Promise.all(jobs.map((j) => j.remove()));
      opts.onCommit?.(summary.committed, summary.errors.length);
      if (summary.commits % Math.max(1, opts.optimizeEvery ?? 50) === 0) await index.optimize({ ann: false });
      if (stopped) break;
    }
    if (summary.committed > 0) summary.annBuilt = (await index.optimize({ ann: opts.ann ?? 'auto' })).annBuilt;
  } finally {
    clearInterval(renew);
    await wq.redis.eval(RELEASE, 1, wq.keys.committer, token).catch(() => undefined);
  }
  summary.wallMs = performance.now() - t0;
  return summary;
}

/** Finished jobs, oldest first, holding up to `images` files in all (at least one job). */
async function finishedJobs(wq: WorkQueue, images: number): Promise<Array<Job<EncodeJobData, EncodeJobResult>>> {
  const out: Array<Job<EncodeJobData, EncodeJobResult>> = [];
  let n = 0;
  for (let start = 0; n < images; start += 100) {
    const page = (await wq.queue.getJobs(['completed'], start, start + 99, true)) as Array<Job<EncodeJobData, EncodeJobResult> | undefined>;
    if (page.length === 0) break;
    for (const j of page) {
      if (!j) continue;
      j.returnvalue ??= { entries: [], errors: [] };
      if (out.length > 0 && n + j.returnvalue.entries.length > images) return out;
      out.push(j);
      n += j.returnvalue.entries.length;
    }
    if (page.length < 100) break;
  }
  return out;
}

/** Take the committer lease, waiting for a previous holder's to lapse (a killed committer's does). */
async function acquireLease(wq: WorkQueue, token: string, leaseMs: number): Promise<void> {
  const deadline = Date.now() + 4 * leaseMs;
  while (!(await wq.redis.set(wq.keys.committer, token, 'PX', leaseMs, 'NX'))) {
    if (Date.now() > deadline) {
      const holder = await wq.redis.get(wq.keys.committer);
      throw new MedvlmError('E_QUEUE_INVALID', `${wq.addr.display} queue ${wq.name}: another committer is running (${holder ?? 'unknown'}); one committer per queue`);
    }
    await sleep(250);
  }
}
