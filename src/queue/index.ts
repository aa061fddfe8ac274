/**
 * Distribution of index work over many processes and machines on BullMQ (Redis): enqueue batches,
 * encode them in workers, write them with one committer. See docs/scale.md.
 */
export { parseQueueUrl, type QueueAddress } from './connection.js';
export { DEFAULT_QUEUE_NAME } from './keys.js';
export { openWorkQueue, publishModel, readModelRecord, assertWorkerModel, pendingJobs, type WorkQueue, type QueueModelRecord, type FailedFile } from './work-queue.js';
export { enqueueItems, jobItemOf, type EnqueueOptions, type EnqueueResult } from './enqueue.js';
export { startEncodeWorker, type EncodeWorkerOptions, type RunningWorker } from './worker.js';
export { runCommitter, type CommitterOptions, type CommitSummary } from './committer.js';
export { queueStatus, retryFailed, drainQueue, failedFileList, type QueueStatus } from './admin.js';
export { enqueueIndexAdd, commitQueueToIndex, type EnqueueIndexAddOptions, type EnqueueIndexAddSummary, type CommitQueueOptions, type CommitQueueSummary } from './index-add.js';
export { QueueProgressTracker, formatEta, progressLine, type QueueProgress } from './progress.js';
