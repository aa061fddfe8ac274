/**
 * LanceDB's errors, made fit for users: commit conflicts retried with backoff, and what remains turned
 * into typed errors (full disk, write conflict, other write failure) whose messages carry no Rust
 * source locations.
 */
import { MedvlmError, type ErrorCode } from '../core/errors.js';

/** ", /usr/local/cargo/registry/src/.../local.rs:133:40" and the like, appended by the native library. */
const RUST_LOCATION = /,?\s*\/[^\s,]*\.rs:\d+:\d+/g;

/** The user-facing part of a LanceDB error message: Rust locations and repeated causes removed. */
export function cleanLanceMessage(e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  const first = raw.split(/\s+Caused by:/)[0];
  const msg = first.replace(RUST_LOCATION, '').replace(/\s+/g, ' ').trim();
  return msg.length > 300 ? `${msg.slice(0, 297)}...` : msg;
}

/** True for the conflicts Lance itself calls retryable (a concurrent commit won the race). */
export function isCommitConflict(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /retryable commit conflict|commit conflict|preempted by concurrent transaction|incompatible transaction/i.test(msg);
}

/** True when the device holding the index is full. */
export function isDiskFull(e: unknown): boolean {
  if ((e as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC') return true;
  const msg = e instanceof Error ? e.message : String(e);
  return /no space left on device|os error 28|ENOSPC/i.test(msg);
}

/** A write to the index failed: E_DISK_FULL, E_INDEX_CONFLICT or E_INDEX_WRITE_FAILED. */
export class IndexWriteError extends MedvlmError {}

/** Typed error for a failed index write; `what` says what was being written. */
export function indexWriteError(e: unknown, dir: string, what: string): MedvlmError {
  if (e instanceof MedvlmError) return e;
  const code: ErrorCode = isDiskFull(e) ? 'E_DISK_FULL' : isCommitConflict(e) ? 'E_INDEX_CONFLICT' : 'E_INDEX_WRITE_FAILED';
  const why =
    code === 'E_DISK_FULL'
      ? 'no space left on the device holding the index; free space and run again (what was committed before stays readable)'
      : code === 'E_INDEX_CONFLICT'
        ? `another writer kept changing the index (${cleanLanceMessage(e)})`
        : cleanLanceMessage(e);
  return new IndexWriteError(code, `${dir}: ${what} failed: ${why}`, { file: dir, cause: e });
}

/** Options of `retryConflicts`. */
export interface RetryOptions {
  /** Tries in all (default 8). */
  attempts?: number;
  /** First back-off in ms, doubled each time up to `maxDelayMs`, with jitter (default 50). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each retry (e.g. to reload the latest table version). */
  beforeRetry?: () => Promise<void>;
}

/** Run `fn`, retrying LanceDB's retryable commit conflicts with exponential back-off and jitter. */
export async function retryConflicts<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 8);
  let delay = opts.baseDelayMs ?? 50;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts || !isCommitConflict(e)) throw e;
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      delay = Math.min(opts.maxDelayMs ?? 2_000, delay * 2);
      await opts.beforeRetry?.();
    }
  }
}
