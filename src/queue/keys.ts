/** Names of the queue and of medvlm's own Redis keys beside BullMQ's (all under `medvlm:<queue>:`). */

/** Default queue name; `--queue-name` runs several independent queues on one Redis. */
export const DEFAULT_QUEUE_NAME = 'medvlm-index';

/** BullMQ's key prefix for medvlm's queues. */
export const BULL_PREFIX = 'medvlm-bull';

/** medvlm's own keys for queue `name`. */
export function queueKeys(name: string): {
  /** JSON `QueueModelRecord`: the model every worker must load. */
  model: string;
  /** Hash path → JSON `FailedFile`: files that could not be read or decoded. */
  failedFiles: string;
  /** Hash of counters: enqueued, committed, failedFiles and timestamps. */
  stats: string;
  /** The committer's lease (one committer per queue). */
  committer: string;
} {
  const base = `medvlm:${name}:`;
  return { model: `${base}model`, failedFiles: `${base}failed-files`, stats: `${base}stats`, committer: `${base}committer` };
}
