/**
 * HTTP for remote models: a concurrency limit, a request budget, a timeout per attempt, and
 * retries with exponential backoff on 429 / 5xx / network errors that honour `Retry-After`
 * (bounded). Time goes through an injectable `Clock`, so tests check waits without sleeping.
 */
import { RemoteError, type ErrorCode } from '../../core/errors.js';

/** Time source and sleeper (tests inject a recording one). */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Real time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal!.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** Retry and limit settings. */
export interface HttpPolicy {
  /** Per attempt, from sending to the end of the body (ms; default 120 000). */
  timeoutMs: number;
  /** Retries after the first attempt (default 4). */
  maxRetries: number;
  /** First backoff (ms; default 1000), doubled per retry, with ±20 % jitter. */
  baseDelayMs: number;
  /** Longest backoff (ms; default 30 000). */
  maxDelayMs: number;
  /** Longest `Retry-After` medvlm waits (ms; default 60 000); a longer one fails the call. */
  maxRetryAfterMs: number;
  /** Requests in flight at once (default 4). */
  concurrency: number;
  /** HTTP attempts allowed for the generator's lifetime, retries included (default unlimited). */
  requestBudget: number;
}

/** Defaults of `HttpPolicy`. */
export const DEFAULT_HTTP_POLICY: HttpPolicy = {
  timeoutMs: 120_000,
  maxRetries: 4,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
  concurrency: 4,
  requestBudget: Number.POSITIVE_INFINITY,
};

/** Statuses worth retrying: rate limit, timeouts and server errors (529: Anthropic "overloaded"). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * `Retry-After` (seconds or an HTTP date) or `retry-after-ms` in ms; undefined when absent or
 * unreadable.
 */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const v = headers.get('retry-after');
  if (v === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.ceil(Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Counts requests against the budget and limits how many run at once. */
export class RequestGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** HTTP attempts started so far. */
  attempts = 0;

  constructor(
    readonly concurrency: number,
    readonly budget: number,
  ) {}

  /** Wait for a free slot. */
  async acquire(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  /** Free a slot (hands it straight to the next waiter). */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  /** Count one attempt, or E_REMOTE_BUDGET when the budget is spent (checked before sending). */
  spend(what: string): void {
    if (this.attempts >= this.budget) {
      throw new RemoteError('E_REMOTE_BUDGET', `${what}: the request budget of ${this.budget} is spent (raise the requestBudget option; CLI --request-budget)`, {
        attempts: this.attempts,
      });
    }
    this.attempts++;
  }

  /** Requests waiting for a slot (for tests and progress). */
  get queued(): number {
    return this.waiting.length;
  }
}

/** One request as sent (the key is inside `headers`; nothing here is ever logged). */
export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A successful response and the attempts it took. The caller reads the body before `done()`. */
export interface HttpOutcome {
  response: Response;
  attempts: number;
  /** Abort signal of this attempt (fires on timeout while the body is read). */
  signal: AbortSignal;
  /** Clear the timeout and free the concurrency slot. */
  done(): void;
}

/** Turns a failed response into a typed error (provider-specific message extraction). */
export type ErrorReader = (status: number, body: string) => { message: string; type?: string; auth?: boolean };

/** Context for `sendWithRetries`. */
export interface SendContext {
  /** Label for messages, e.g. `openai 127.0.0.1:8000`. */
  what: string;
  policy: HttpPolicy;
  gate: RequestGate;
  clock: Clock;
  readError: ErrorReader;
  /** Removes secrets from any text that goes into an error message. */
  redact: (text: string) => string;
  /** [0, 1) source for jitter (default Math.random). */
  random?: () => number;
  fetchImpl?: typeof fetch;
  signal?: AbortSignal;
}

function codeForStatus(status: number, auth: boolean): ErrorCode {
  if (auth || status === 401 || status === 403) return 'E_REMOTE_AUTH';
  if (status === 429) return 'E_REMOTE_RATE_LIMIT';
  if (isRetryableStatus(status)) return 'E_REMOTE_FAILED';
  return 'E_REMOTE_REJECTED';
}

function backoffMs(retry: number, policy: HttpPolicy, random: () => number): number {
  const base = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * POST with retries. Returns the first 2xx response (its body unread, the slot still held until
 * `done()`); throws a RemoteError with a stable code otherwise.
 */
export async function sendWithRetries(req: HttpRequest, ctx: SendContext): Promise<HttpOutcome> {
  const fetchImpl = ctx.fetchImpl ?? fetch;
  const random = ctx.random ?? Math.random;
  let attempts = 0;
  for (let retry = 0; ; retry++) {
    if (ctx.signal?.aborted) throw new RemoteError('E_REMOTE_FAILED', `${ctx.what}: cancelled`, { attempts });
    ctx.gate.spend(ctx.what);
    attempts++;
    await ctx.gate.acquire();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timeout')), ctx.policy.timeoutMs);
    const onOuterAbort = (): void => controller.abort(ctx.signal!.reason);
    ctx.signal?.addEventListener('abort', onOuterAbort, { once: true });
    let released = false;
    const done = (): void => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onOuterAbort);
      ctx.gate.release();
    };
    let wait: number | undefined;
    let failure: RemoteError;
    try {
      // Redirects are never followed: the image may go only to the host the model id names.
      const response = await fetchImpl(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: controller.signal, redirect: 'manual' });
      if (response.ok) return { response, attempts, signal: controller.signal, done };
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel().catch(() => undefined);
        done();
        throw new RemoteError(
          'E_REMOTE_REJECTED',
          ctx.redact(`${ctx.what}: HTTP ${response.status} redirect${response.headers.get('location') ? ` to ${safeLocation(response.headers.get('location')!)}` : ''} not followed: medvlm sends images only to the URL in the model id`),
          { status: response.status, attempts },
        );
      }
      const body = await response.text().catch(() => '');
      done();
      const { message, type, auth } = ctx.readError(response.status, body);
      const code = codeForStatus(response.status, Boolean(auth));
      failure = new RemoteError(code, ctx.redact(`${ctx.what}: HTTP ${response.status}${type ? ` ${type}` : ''}: ${message}`), {
        status: response.status,
        attempts,
      });
      if (code === 'E_REMOTE_AUTH' || !isRetryableStatus(response.status)) throw failure;
      wait = retryAfterMs(response.headers, ctx.clock.now());
      if (wait !== undefined && wait > ctx.policy.maxRetryAfterMs) {
        throw new RemoteError(
          code,
          ctx.redact(`${ctx.what}: HTTP ${response.status}: the server asks to wait ${Math.ceil(wait / 1000)} s, more than the ${Math.ceil(ctx.policy.maxRetryAfterMs / 1000)} s medvlm waits`),
          { status: response.status, attempts },
        );
      }
    } catch (e) {
      done();
      if (e instanceof RemoteError) throw e;
      if (ctx.signal?.aborted) throw new RemoteError('E_REMOTE_FAILED', `${ctx.what}: cancelled`, { attempts, cause: e });
      const timedOut = controller.signal.aborted;
      const reason = timedOut ? `no response within ${ctx.policy.timeoutMs} ms` : networkReason(e);
      failure = new RemoteError(timedOut ? 'E_REMOTE_TIMEOUT' : 'E_REMOTE_FAILED', ctx.redact(`${ctx.what}: ${reason}`), { attempts, cause: e });
    }
    if (retry >= ctx.policy.maxRetries) {
      throw new RemoteError(failure.code, `${failure.message} (after ${attempts} attempts)`, { status: failure.status, attempts });
    }
    await ctx.clock.sleep(wait ?? backoffMs(retry, ctx.policy, random), ctx.signal);
  }
}

/** Origin of a redirect target, for messages (no path or query, which may carry tokens). */
function safeLocation(location: string): string {
  try {
    return new URL(location).origin;
  } catch {
    return 'another location';
  }
}

function networkReason(e: unknown): string {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    const err = cur as { code?: string; message?: string; cause?: unknown };
    if (err.code) return `cannot connect (${err.code})`;
    cur = err.cause;
  }
  return `request failed (${e instanceof Error ? e.message : String(e)})`;
}
