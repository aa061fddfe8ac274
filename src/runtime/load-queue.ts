/**
 * transformers.js keeps its settings (local/remote access, cache folder, hub host) in one global
 * `env` that every load sets and then reads while it fetches files: loads must run one at a time.
 * Every model loader (dual encoders, generators) goes through this one queue.
 */
let queue: Promise<unknown> = Promise.resolve();

/** Run `fn` after every load queued before it has settled. */
export function exclusiveLoad<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}
