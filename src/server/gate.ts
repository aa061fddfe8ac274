/** A concurrency limit with a bounded wait queue: beyond it, requests are refused at once with a retry hint. */
import { HttpError } from './http-errors.js';

/** Runs at most `concurrency` jobs at a time; at most `queue` more wait; the rest get E_HTTP_BUSY (503, Retry-After). */
export class ConcurrencyGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly queue: number,
    private readonly retryAfterSeconds = 1,
  ) {}

  /** Jobs running now and waiting now. */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  /** Run `job` when a slot is free. @throws HttpError E_HTTP_BUSY when the queue is full */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.queue) {
        throw new HttpError('E_HTTP_BUSY', `the server is busy (${this.active} running, ${this.waiting.length} waiting); retry later`, { retryAfter: this.retryAfterSeconds });
      }
      await new Promise<void>((ok) => this.waiting.push(ok));
    } else {
      this.active++;
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes to the next waiter
      else this.active--;
    }
  }
}

/** Reject with E_HTTP_TIMEOUT (503) if `work` takes longer than `ms` (the work itself runs on; its answer is dropped). */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HttpError('E_HTTP_TIMEOUT', `the request took longer than ${ms} ms`, { retryAfter: 1 })), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
