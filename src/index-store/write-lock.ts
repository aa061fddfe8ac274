/**
 * One writer at a time per index folder, across processes (and machines sharing the folder): an
 * advisory lock taken around every commit (`proper-lockfile`: an atomic `mkdir` of
 * `<index>/medvlm-write.lock` whose mtime the holder refreshes every second). A holder that dies —
 * SIGKILL included — stops refreshing it, and the lock counts as stale, and is taken over, 5 s later;
 * nothing is left stuck. Within one process, writers queue on a promise chain first, so the process
 * never contends with itself.
 */
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { MedvlmError } from '../core/errors.js';

/** Name of the lock (a directory) inside the index folder. */
export const WRITE_LOCK = 'medvlm-write.lock';

/** A lock not refreshed for this long belongs to a dead writer and is taken over. */
export const LOCK_STALE_MS = 5_000;

/** Default longest wait for the lock before giving up with E_INDEX_CONFLICT. */
export const DEFAULT_LOCK_WAIT_MS = 10 * 60_000;

const inProcess = new Map<string, Promise<unknown>>();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Run `fn` holding the index's write lock.
 * @throws MedvlmError E_INDEX_CONFLICT when another writer holds the lock for longer than `waitMs`.
 */
export async function withWriteLock<T>(dir: string, fn: () => Promise<T>, waitMs = DEFAULT_LOCK_WAIT_MS): Promise<T> {
  const key = resolve(dir);
  const previous = inProcess.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => lockedRun(key, fn, waitMs));
  inProcess.set(key, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(key) === run) inProcess.delete(key);
  }
}

async function lockedRun<T>(dir: string, fn: () => Promise<T>, waitMs: number): Promise<T> {
  let compromised: Error | undefined;
  const opts = {
    lockfilePath: join(dir, WRITE_LOCK),
    realpath: false,
    stale: LOCK_STALE_MS,
    update: 1_000,
    // the default throws from a timer and kills the process; the commit in flight finishes and the
    // next one takes the lock again
    onCompromised: (e: Error) => {
      compromised = e;
    },
  };
  const deadline = Date.now() + waitMs;
  let delay = 25;
  let release: (() => Promise<void>) | undefined;
  for (;;) {
    try {
      release = await lockfile.lock(dir, opts);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
      if (Date.now() >= deadline) {
        throw new MedvlmError(
          'E_INDEX_CONFLICT',
          `${dir}: another process has been writing to this index for more than ${Math.round(waitMs / 1000)} s (lock ${WRITE_LOCK}); try again when it has finished`,
          { file: dir },
        );
      }
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(1_000, delay * 2);
    }
  }
  try {
    return await fn();
  } finally {
    if (!compromised) await release().catch(() => undefined);
  }
}
