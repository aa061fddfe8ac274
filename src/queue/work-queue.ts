/**
 * A handle on one work queue: the BullMQ queue of encode jobs plus medvlm's records beside it (the
 * model every worker must load, the files that failed, counters).
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { MedvlmError } from '../core/errors.js';
import type { IndexModel } from '../index-store/meta.js';
import { bullConnection, connectRedis, parseQueueUrl, type QueueAddress } from './connection.js';
import type { JobItem } from './jobs.js';
import { modelKey } from './jobs.js';
import { BULL_PREFIX, DEFAULT_QUEUE_NAME, queueKeys } from './keys.js';

/** The model a queue's jobs were made for. */
export interface QueueModelRecord {
  model: IndexModel;
  /** `modelKey(model.fileHashes)`. */
  key: string;
  createdAt: string;
}

/** A file a worker could not read or decode, kept in the queue's failed set. */
export interface FailedFile {
  item: JobItem;
  error: { code: string; message: string };
  jobId: string;
  at: string;
}

/** An open work queue. */
export interface WorkQueue {
  addr: QueueAddress;
  name: string;
  /** Jobs carry `EncodeJobData` and return `EncodeJobResult`. */
  queue: Queue;
  /** medvlm's own connection (records, counters). */
  redis: Redis;
  keys: ReturnType<typeof queueKeys>;
  close(): Promise<void>;
}

/**
 * Connect to the queue `name` at `url`.
 * @throws E_BAD_OPTION for a bad URL, E_QUEUE_UNREACHABLE when Redis does not answer.
 */
export async function openWorkQueue(url: string, name = DEFAULT_QUEUE_NAME): Promise<WorkQueue> {
  const addr = parseQueueUrl(url);
  const redis = await connectRedis(addr);
  const queue = new Queue(name, { connection: bullConnection(addr), prefix: BULL_PREFIX });
  queue.on('error', () => {}); // reconnects on its own; callers see failures as rejected commands
  return {
    addr,
    name,
    queue,
    redis,
    keys: queueKeys(name),
    close: async () => {
      await queue.close();
      redis.disconnect();
    },
  };
}

/** The queue's model record, if one was published. */
export async function readModelRecord(wq: WorkQueue): Promise<QueueModelRecord | undefined> {
  const raw = await wq.redis.get(wq.keys.model);
  return raw ? (JSON.parse(raw) as QueueModelRecord) : undefined;
}

/** Jobs not yet committed (waiting, delayed, active, or done and awaiting the committer). */
export async function pendingJobs(wq: WorkQueue): Promise<number> {
  const c = await wq.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

/**
 * Record the model this queue's jobs are for. A queue serves one model at a time: publishing another
 * while jobs of the first are pending is refused.
 * @throws MedvlmError E_QUEUE_MODEL_MISMATCH naming both models.
 */
export async function publishModel(wq: WorkQueue, model: IndexModel): Promise<QueueModelRecord> {
  const rec: QueueModelRecord = { model, key: modelKey(model.fileHashes), createdAt: new Date().toISOString() };
  if (await wq.redis.set(wq.keys.model, JSON.stringify(rec), 'NX')) return rec;
  const existing = (await readModelRecord(wq))!;
  if (existing.key === rec.key) return existing;
  if ((await pendingJobs(wq)) === 0) {
    await wq.redis.set(wq.keys.model, JSON.stringify(rec));
    return rec;
  }
  throw new MedvlmError(
    'E_QUEUE_MODEL_MISMATCH',
    `${wq.addr.display} queue ${wq.name}: holds pending work for model ${existing.model.id} (${existing.model.dtype}, ${existing.model.embedDim}-d), not ${model.id} with other weights; let it finish, drain it, or use another --queue-name`,
  );
}

/**
 * Refuse a worker whose model weights differ from the queue's.
 * @throws MedvlmError E_QUEUE_MODEL_MISMATCH.
 */
export function assertWorkerModel(wq: WorkQueue, rec: QueueModelRecord, model: IndexModel): void {
  if (modelKey(model.fileHashes) === rec.key && model.embedDim === rec.model.embedDim) return;
  const files = Object.keys({ ...rec.model.fileHashes, ...model.fileHashes })
    .filter((f) => rec.model.fileHashes[f] !== model.fileHashes[f])
    .slice(0, 3);
  throw new MedvlmError(
    'E_QUEUE_MODEL_MISMATCH',
    `${wq.addr.display} queue ${wq.name}: this worker's model ${model.id} (${model.dtype}, ${model.embedDim}-d) has other weights than the queue's ${rec.model.id} (${rec.model.dtype}, ${rec.model.embedDim}-d)` +
      `${files.length ? ` (differs in ${files.join(', ')})` : ''}; start the worker with the queue's model files`,
  );
}
