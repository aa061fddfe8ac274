/**
 * Progress of a queue from successive `queueStatus` samples (`medvlm queue status --watch`): batches
 * finished (committed, encoded awaiting commit, or failed) against those still to do, the rates over a
 * sliding window, and the time left at the current batch rate.
 */
import type { QueueStatus } from './admin.js';

/** One progress reading. */
export interface QueueProgress {
  /** Batches done: committed, encoded and awaiting the committer, or failed for good. */
  finishedBatches: number;
  /** Batches still to encode: waiting, active or delayed (retry back-off). */
  pendingBatches: number;
  /** Batches finished per second over the window (null until two samples apart in time). */
  batchRate: number | null;
  /** Images committed per second over the window. */
  commitRate: number | null;
  /** Seconds until every pending batch is encoded at `batchRate` (0 when none is pending, null when unknown). */
  etaSeconds: number | null;
}

/** Keeps the samples of the last `windowMs` and turns each new status into a `QueueProgress`. */
export class QueueProgressTracker {
  private readonly samples: Array<{ at: number; finished: number; committed: number }> = [];

  constructor(private readonly windowMs = 30_000) {}

  /** Add the status read at `atMs` and return the progress. */
  sample(s: QueueStatus, atMs: number): QueueProgress {
    const finishedBatches = s.committedJobs + s.jobs.completed + s.jobs.failed;
    const pendingBatches = s.jobs.waiting + s.jobs.active + s.jobs.delayed;
    this.samples.push({ at: atMs, finished: finishedBatches, committed: s.committed });
    while (this.samples.length > 2 && atMs - this.samples[1].at >= this.windowMs) this.samples.shift();
    const first = this.samples[0];
    const dt = (atMs - first.at) / 1000;
    const batchRate = dt > 0 ? Math.max(0, finishedBatches - first.finished) / dt : null;
    const commitRate = dt > 0 ? Math.max(0, s.committed - first.committed) / dt : null;
    const etaSeconds = pendingBatches === 0 ? 0 : batchRate ? pendingBatches / batchRate : null;
    return { finishedBatches, pendingBatches, batchRate, commitRate, etaSeconds };
  }
}

/** `1h02m`, `3m05s`, `42s`, or `?`. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** One plain line for logs: counts, rates and ETA. */
export function progressLine(s: QueueStatus, p: QueueProgress, at: Date): string {
  const rate = (v: number | null, unit: string): string => (v === null ? `? ${unit}/s` : `${v.toFixed(1)} ${unit}/s`);
  const failedFiles = Object.values(s.failedFiles).reduce((a, b) => a + b, 0);
  return (
    `${at.toISOString()} batches done ${p.finishedBatches}/${p.finishedBatches + p.pendingBatches} ` +
    `(waiting ${s.jobs.waiting}, active ${s.jobs.active}, delayed ${s.jobs.delayed}, encoded awaiting commit ${s.jobs.completed}, failed ${s.jobs.failed}) | ` +
    `committed ${s.committed} images, ${failedFiles} files failed | ${rate(p.batchRate, 'batches')}, ${rate(p.commitRate, 'images')} committed | workers ${s.workers} | ETA ${formatEta(p.etaSeconds)}`
  );
}
