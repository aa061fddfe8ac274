/** Put planned files on the queue in batches, one job per batch, with ids that make re-enqueuing a no-op. */
import type { IndexModel } from '../index-store/meta.js';
import type { PlannedFile } from '../tasks/index-batch.js';
import type { ViewOptions } from '../transforms/index.js';
import { batchJobId, modelKey, type JobItem } from './jobs.js';
import type { WorkQueue } from './work-queue.js';

/** Options of `enqueueFiles`. */
export interface EnqueueOptions {
  /** Files per job (default 16). */
  batchSize?: number;
  view?: ViewOptions;
  /** Tries of a batch whose model call fails (default 3), with exponential back-off from 1 s. */
  attempts?: number;
  /** Salt for the job ids (retry-failed uses one so that a retried file is a new job). */
  salt?: string;
}

/** What was enqueued. */
export interface EnqueueResult {
  files: number;
  jobs: number;
  jobIds: string[];
}

/** A planned file as a job item. */
export function jobItemOf(p: PlannedFile): JobItem {
  return { path: p.path, hash: p.hash, ...(p.record ? { texts: p.record.texts, metadata: p.record.metadata, source: p.record.raw } : {}) };
}

/** Enqueue `items` (already hashed) for `model`. Jobs that already exist (same id) are not added again. */
export async function enqueueItems(wq: WorkQueue, model: IndexModel, items: JobItem[], opts: EnqueueOptions = {}): Promise<EnqueueResult> {
  const key = modelKey(model.fileHashes);
  const size = Math.max(1, opts.batchSize ?? 16);
  const jobs = [];
  for (let i = 0; i < items.length; i += size) {
    const batch = items.slice(i, i + size);
    const id = batchJobId(opts.salt ? `${key}:${opts.salt}` : key, opts.view, batch);
    jobs.push({
      name: 'encode',
      data: { items: batch, model: key, ...(opts.view ? { view: opts.view } : {}) },
      opts: { jobId: id, attempts: opts.attempts ?? 3, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: false, removeOnFail: false },
    });
  }
  for (let i = 0; i < jobs.length; i += 500) await wq.queue.addBulk(jobs.slice(i, i + 500));
  return { files: items.length, jobs: jobs.length, jobIds: jobs.map((j) => j.opts.jobId) };
}
