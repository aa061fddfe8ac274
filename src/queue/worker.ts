/**
 * An encode worker: takes batches from the queue, encodes them with a model whose weights match the
 * queue's, and hands the embeddings back as the job's return value (the committer writes them).
 * Files that cannot be read or decoded go to the queue's failed set with their error code and are not
 * retried; a batch whose model call fails is retried by BullMQ with back-off (3 attempts) and then
 * lands in BullMQ's failed set. A worker killed mid-batch loses its job lock; BullMQ hands the job to
 * another worker as stalled.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, Worker } from 'bullmq';
import type { IndexModel } from '../index-store/meta.js';
import type { DualEncoder } from '../models/capabilities.js';
import { bullConnection } from './connection.js';
import { encodeJob } from './encode.js';
import { modelKey, type EncodeJobData, type EncodeJobResult } from './jobs.js';
import { BULL_PREFIX } from './keys.js';
import type { FailedFile, WorkQueue } from './work-queue.js';

/** Options of `startEncodeWorker`. */
export interface EncodeWorkerOptions {
  /** Jobs in flight at once in this process (default 1; 2 overlaps file reading with the model). */
  concurrency?: number;
  /** A job whose lock is not renewed for this long counts as stalled and is redone (default 30 s). */
  lockMs?: number;
  /** Called after each job with the number of files it held. */
  onJobDone?: (files: number, failed: number) => void;
}

/** A running worker. `close` lets jobs in flight finish, then disconnects. */
export interface RunningWorker {
  worker: Worker<EncodeJobData, EncodeJobResult>;
  close(): Promise<void>;
}

/** Start consuming `wq` with `encoder` (whose weights the caller checked against the queue's). */
export function startEncodeWorker(wq: WorkQueue, encoder: DualEncoder, model: IndexModel, opts: EncodeWorkerOptions = {}): RunningWorker {
  const ownKey = modelKey(model.fileHashes);
  const lockMs = opts.lockMs ?? 30_000;
  const worker = new Worker<EncodeJobData, EncodeJobResult>(
    wq.name,
    async (job) => {
      if (job.data.model !== ownKey) throw new UnrecoverableError(`job ${job.id} was made for another model (${job.data.model.slice(0, 12)}), this worker has ${ownKey.slice(0, 12)}`);
      const result = await encodeJob(encoder, job.data);
      if (result.errors.length) {
        const byPath = new Map(job.data.items.map((it) => [it.path, it]));
        const at = new Date().toISOString();
        const fields = result.errors.flatMap((e) => [e.file, JSON.stringify({ item: byPath.get(e.file) ?? { path: e.file, hash: '' }, error: e.error, jobId: String(job.id), at } satisfies FailedFile)]);
        await wq.redis.hset(wq.keys.failedFiles, ...fields);
      }
      opts.onJobDone?.(job.data.items.length, result.errors.length);
      return result;
    },
    {
      connection: bullConnection(wq.addr),
      prefix: BULL_PREFIX,
      concurrency: Math.max(1, opts.concurrency ?? 1),
      lockDuration: lockMs,
      stalledInterval: Math.max(1_000, Math.round(lockMs / 2)),
      maxStalledCount: 2,
      name: `${hostname()}:${process.pid}`,
    },
  );
  worker.on('error', () => {}); // connection errors: ioredis reconnects; jobs are redone if their lock lapses
  return {
    worker,
    close: async () => {
      await worker.close();
    },
  };
}
