/**
 * `index add` on the work queue, as library calls: plan against the index (content hashes) and
 * enqueue batches for workers; optionally commit their results as they arrive (the single writer);
 * and the standalone committer. Surfaces print the summaries these return.
 */
import { resolve } from 'node:path';
import { MedvlmError } from '../core/errors.js';
import type { ManifestRecord } from '../index-store/manifest.js';
import { indexModelFrom, readMeta } from '../index-store/meta.js';
import { CaseIndex } from '../index-store/store.js';
import type { WhereFilter } from '../index-store/where.js';
import { loadDualEncoder, type LoadDualEncoderOptions } from '../models/registry.js';
import type { FileError } from '../tasks/batch.js';
import { modelForIndex } from '../tasks/case-index.js';
import { planIndexAdd } from '../tasks/index-batch.js';
import type { ViewOptions } from '../transforms/index.js';
import { runCommitter, type CommitSummary } from './committer.js';
import { enqueueItems, jobItemOf } from './enqueue.js';
import { openWorkQueue, publishModel, readModelRecord } from './work-queue.js';

/** Options of `enqueueIndexAdd`. */
export interface EnqueueIndexAddOptions {
  queue: string;
  queueName: string;
  model?: string;
  dtype?: 'fp32' | 'q8';
  load?: Omit<LoadDualEncoderOptions, 'dtype'>;
  manifest?: ManifestRecord[];
  where?: WhereFilter[];
  view?: ViewOptions;
  batchSize?: number;
  /** Also commit the workers' results into the index until everything is in. */
  wait?: boolean;
  commitSize?: number;
  ann?: 'auto' | boolean;
  onCommitted?: (done: number, total: number) => void;
  stop?: Promise<void>;
}

/** What `enqueueIndexAdd` did, as `medvlm index add --queue --json` prints it. */
export interface EnqueueIndexAddSummary {
  index: string;
  queue: string;
  queueName: string;
  model: string;
  enqueued: number;
  batches: number;
  unchanged: number;
  duplicates: Array<{ file: string; duplicateOf: string }>;
  filteredOut: number;
  committed?: number;
  commits?: number;
  annBuilt?: boolean;
  errors: FileError[];
}

/** Plan files against the index in `dir` and enqueue the work; with `wait`, commit it too. */
export async function enqueueIndexAdd(dir: string, files: string[], opts: EnqueueIndexAddOptions): Promise<EnqueueIndexAddSummary> {
  // the model is loaded here only for its identity (file hashes); workers do the encoding
  const choice = modelForIndex(dir, { ...(opts.model ? { model: opts.model } : {}), ...(opts.dtype ? { dtype: opts.dtype } : {}) }, false);
  const encoder = await loadDualEncoder(choice.model, { ...opts.load, dtype: choice.dtype });
  const model = indexModelFrom(encoder.info);
  await encoder.dispose();
  let existing = new Map<string, string>();
  if (readMeta(dir)) {
    const index = await CaseIndex.open(dir, { model });
    try {
      existing = await index.hashes();
    } finally {
      index.close();
    }
  }
  const plan = await planIndexAdd(existing, files, { ...(opts.manifest ? { manifest: opts.manifest } : {}), where: opts.where ?? [] });
  const wq = await openWorkQueue(opts.queue, opts.queueName);
  let committed: CommitSummary | undefined;
  let enqueued: Awaited<ReturnType<typeof enqueueItems>>;
  try {
    await publishModel(wq, model);
    enqueued = await enqueueItems(wq, model, plan.todo.map(jobItemOf), { ...(opts.batchSize ? { batchSize: opts.batchSize } : {}), ...(opts.view ? { view: opts.view } : {}) });
    if (opts.wait) {
      const index = await CaseIndex.open(dir, { create: true, model });
      try {
        committed = await runCommitter(wq, index, {
          ...(opts.commitSize ? { commitSize: opts.commitSize } : {}),
          ann: opts.ann ?? 'auto',
          onCommit: (n, failed) => opts.onCommitted?.(n + failed, plan.todo.length),
          ...(opts.stop ? { stop: opts.stop } : {}),
        });
      } finally {
        index.close();
      }
    }
  } finally {
    await wq.close();
  }
  return {
    index: resolve(dir),
    queue: wq.addr.display,
    queueName: wq.name,
    model: model.id,
    enqueued: enqueued.files,
    batches: enqueued.jobs,
    unchanged: plan.unchanged.length,
    duplicates: plan.duplicates,
    filteredOut: plan.filteredOut,
    ...(committed ? { committed: committed.committed, commits: committed.commits, annBuilt: committed.annBuilt } : {}),
    errors: [...plan.errors, ...(committed?.errors ?? [])],
  };
}

/** Options of `commitQueueToIndex`. */
export interface CommitQueueOptions {
  queue: string;
  queueName: string;
  follow?: boolean;
  commitSize?: number;
  leaseMs?: number;
  ann?: 'auto' | boolean;
  stop?: Promise<void>;
}

/** What the committer did, as `medvlm index commit --json` prints it. */
export interface CommitQueueSummary {
  index: string;
  queue: string;
  queueName: string;
  committed: number;
  commits: number;
  failed: number;
  commitMs: number;
  wallMs: number;
  annBuilt: boolean;
}

/** Run the single committer: the queue's encoded batches into the index in `dir` (created with the queue's model). */
export async function commitQueueToIndex(dir: string, opts: CommitQueueOptions): Promise<CommitQueueSummary> {
  const wq = await openWorkQueue(opts.queue, opts.queueName);
  try {
    const rec = await readModelRecord(wq);
    if (!rec) throw new MedvlmError('E_QUEUE_INVALID', `${wq.addr.display} queue ${wq.name}: no work was ever enqueued (run medvlm index add --queue first)`);
    const index = await CaseIndex.open(dir, { create: true, model: rec.model });
    let s: CommitSummary;
    try {
      s = await runCommitter(wq, index, {
        ...(opts.commitSize ? { commitSize: opts.commitSize } : {}),
        follow: Boolean(opts.follow),
        ...(opts.leaseMs ? { leaseMs: opts.leaseMs } : {}),
        ann: opts.ann ?? 'auto',
        ...(opts.stop ? { stop: opts.stop } : {}),
      });
    } finally {
      index.close();
    }
    return { index: resolve(dir), queue: wq.addr.display, queueName: wq.name, committed: s.committed, commits: s.commits, failed: s.errors.length, commitMs: Math.round(s.commitMs), wallMs: Math.round(s.wallMs), annBuilt: s.annBuilt };
  } finally {
    await wq.close();
  }
}
