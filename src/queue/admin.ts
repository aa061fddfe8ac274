/** `medvlm queue status | retry-failed | drain`: what the queue holds, and putting failures back. */
import type { IndexModel } from '../index-store/meta.js';
import { enqueueItems } from './enqueue.js';
import { readModelRecord, type FailedFile, type WorkQueue } from './work-queue.js';

/** A queue's state. */
export interface QueueStatus {
  queue: string;
  name: string;
  model: { id: string; dtype: string; embedDim: number } | null;
  /** Encode jobs (batches) by state; `completed` = encoded, awaiting the committer. */
  jobs: { waiting: number; active: number; delayed: number; completed: number; failed: number };
  /** Files workers could not read or decode, by error code. */
  failedFiles: Record<string, number>;
  /** Images written into the index by committers, in all. */
  committed: number;
  /** Batches (jobs) whose images were written into the index, in all. */
  committedJobs: number;
  /** Images committed per second between the first and the last commit (null before two commits). */
  commitRate: number | null;
  workers: number;
}

/** The queue's counts, failed files and rates. */
export async function queueStatus(wq: WorkQueue): Promise<QueueStatus> {
  const c = await wq.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
  const failedRaw = await wq.redis.hvals(wq.keys.failedFiles);
  const failedFiles: Record<string, number> = {};
  for (const v of failedRaw) {
    const code = (JSON.parse(v) as FailedFile).error.code;
    failedFiles[code] = (failedFiles[code] ?? 0) + 1;
  }
  const stats = await wq.redis.hgetall(wq.keys.stats);
  const committed = Number(stats.committed ?? 0);
  const first = Number(stats.firstCommitAt ?? 0);
  const last = Number(stats.lastCommitAt ?? 0);
  const rec = await readModelRecord(wq);
  const workers = await wq.queue.getWorkersCount().catch(() => 0);
  return {
    queue: wq.addr.display,
    name: wq.name,
    model: rec ? { id: rec.model.id, dtype: rec.model.dtype, embedDim: rec.model.embedDim } : null,
    jobs: { waiting: c.waiting + c.prioritized, active: c.active, delayed: c.delayed, completed: c.completed, failed: c.failed },
    failedFiles,
    committed,
    committedJobs: Number(stats.committedJobs ?? 0),
    commitRate: last > first ? committed / ((last - first) / 1000) : null,
    workers,
  };
}

/**
 * Put failures back: BullMQ's failed jobs are retried as they are, and the failed files are enqueued
 * again as new jobs (after, say, a codec was installed) and removed from the failed set.
 */
export async function retryFailed(wq: WorkQueue, model: IndexModel, batchSize = 16): Promise<{ jobs: number; files: number }> {
  const failedJobs = await wq.queue.getJobCounts('failed');
  if (failedJobs.failed > 0) await wq.queue.retryJobs({ state: 'failed' });
  const all = await wq.redis.hgetall(wq.keys.failedFiles);
  const items = Object.values(all).map((v) => (JSON.parse(v) as FailedFile).item);
  if (items.length) {
    await enqueueItems(wq, model, items, { batchSize, salt: `retry-${Date.now()}` });
    await wq.redis.hdel(wq.keys.failedFiles, ...Object.keys(all));
  }
  return { jobs: failedJobs.failed, files: items.length };
}

/** Remove jobs not yet started (waiting, delayed); jobs in flight and encoded ones are kept. */
export async function drainQueue(wq: WorkQueue): Promise<{ removed: number }> {
  const before = await wq.queue.getJobCounts('waiting', 'prioritized', 'delayed');
  await wq.queue.drain(true);
  return { removed: before.waiting + before.prioritized + before.delayed };
}

/** The failed files with their errors (for `queue status --json --files`). */
export async function failedFileList(wq: WorkQueue): Promise<Array<{ file: string; code: string; message: string }>> {
  const all = await wq.redis.hgetall(wq.keys.failedFiles);
  return Object.entries(all)
    .map(([file, v]) => {
      const f = JSON.parse(v) as FailedFile;
      return { file, code: f.error.code, message: f.error.message };
    })
    .sort((a, b) => (a.file < b.file ? -1 : 1));
}
