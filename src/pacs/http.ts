/**
 * HTTP transport for DICOMweb: one undici Agent per server (keep-alive, TLS verification always on, an
 * optional extra CA bundle), timeouts, and bounded retries with exponential backoff on network errors
 * and 5xx/429/408 answers. 401/403/404 and other 4xx are never retried: they become typed errors at once.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { OptionError, PacsError } from '../core/errors.js';
import { authorizationHeader, type PacsAuth } from './auth.js';

/** Options of a `PacsHttp` transport. */
export interface PacsHttpOptions {
  /** DICOMweb root, e.g. `http://127.0.0.1:8042/dicom-web`. Must not contain credentials. */
  url: string;
  auth?: PacsAuth;
  /** PEM file of extra trusted CA certificates (added to Node's built-in roots). */
  caFile?: string;
  /** Milliseconds to wait for response headers, and between body chunks (default 30 000). */
  timeoutMs?: number;
  /** Retries after the first try for retryable failures (default 3). */
  retries?: number;
  /** First backoff delay in ms; doubles per retry, capped at `maxBackoffMs` (default 250). */
  backoffMs?: number;
  /** Longest backoff delay in ms (default 4 000). */
  maxBackoffMs?: number;
}

/** Counters a caller (or a test) can read: every request sent, and how many were retries. */
export interface PacsHttpStats {
  requests: number;
  retries: number;
}

/** One request. `path` is relative to the DICOMweb root and already URL-encoded. */
export interface PacsRequest {
  method?: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

/** A successful (2xx) response with its body fully read. */
export interface PacsResponse {
  status: number;
  contentType: string;
  body: Uint8Array;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);
const TLS_CODE = /^(CERT_|ERR_TLS_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;

/** Check and normalise a DICOMweb root URL (no trailing slash). */
export function parseServerUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OptionError('E_BAD_OPTION', `--url ${url}: not a valid URL (expected e.g. http://127.0.0.1:8042/dicom-web)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new OptionError('E_BAD_OPTION', `--url: unsupported scheme ${u.protocol} (expected http: or https:)`);
  }
  if (u.username || u.password) {
    throw new OptionError(
      'E_BAD_OPTION',
      '--url must not contain credentials (they would be visible in the process list); use --user with --password-file, --token-file, or MEDVLM_PACS_* variables',
    );
  }
  u.pathname = u.pathname.replace(/\/+$/, '');
  u.search = '';
  u.hash = '';
  return u;
}

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** HTTP transport to one DICOMweb server. Call `close()` when done. */
export class PacsHttp {
  readonly base: URL;
  readonly stats: PacsHttpStats = { requests: 0, retries: 0 };
  private readonly auth: string | undefined;
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly opts: PacsHttpOptions) {
    this.base = parseServerUrl(opts.url);
    this.auth = opts.auth ? authorizationHeader(opts.auth) : undefined;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retries = Math.max(0, opts.retries ?? 3);
    this.backoffMs = opts.backoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 4_000;
    let ca: string[] | undefined;
    if (opts.caFile) {
      try {
        ca = [...rootCertificates, readFileSync(opts.caFile, 'utf8')];
      } catch (e) {
        throw new OptionError('E_BAD_OPTION', `--ca-file ${opts.caFile}: cannot read the file`, { file: opts.caFile, cause: e });
      }
    }
    this.agent = new Agent({
      connect: { rejectUnauthorized: true, ...(ca ? { ca } : {}) },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 1_000,
    });
  }

  /** A transport to another root on the same server (e.g. Orthanc's REST API beside its DICOMweb root), with the same credentials, CA bundle, timeouts and retries. */
  at(url: string): PacsHttp {
    return new PacsHttp({ ...this.opts, url });
  }

  /** Where a path lands, without credentials (for messages). */
  describe(path: string): string {
    return `${this.base.origin}${this.base.pathname.replace(/\/$/, '')}${path}`;
  }

  /**
   * Send a request and read the whole body, retrying network errors and 5xx/429/408 with backoff.
   * @throws PacsError E_PACS_AUTH (401/403), E_PACS_NOT_FOUND (404), E_PACS_REJECTED (other 4xx),
   *   E_PACS_UNREACHABLE (network, TLS, timeout or 5xx after the last retry).
   */
  async send(req: PacsRequest): Promise<PacsResponse> {
    const url = new URL(this.base.href);
    url.pathname = `${this.base.pathname.replace(/\/$/, '')}${req.path}`; // a root at "/" must not give "//path"
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.append(k, v);
    const where = this.describe(req.path);
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    if (this.auth) headers.authorization = this.auth;
    let lastProblem = '';
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        const delay = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1));
        await sleep(delay * (0.75 + Math.random() * 0.5));
      }
      this.stats.requests++;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { method: req.method ?? 'GET', headers, body: req.body, dispatcher: this.agent });
      } catch (e) {
        const code = errorCode(e) ?? 'error';
        if (TLS_CODE.test(code)) {
          throw new PacsError('E_PACS_UNREACHABLE', `${where}: TLS certificate not trusted (${code}); pass the server's CA bundle with --ca-file`, { cause: e });
        }
        if (!NETWORK_CODES.has(code)) throw new PacsError('E_PACS_UNREACHABLE', `${where}: request failed (${code})`, { cause: e });
        lastProblem = code;
        continue;
      }
      const status = res.statusCode;
      let body: Uint8Array;
      try {
        body = new Uint8Array(await res.body.arrayBuffer());
      } catch (e) {
        lastProblem = `${errorCode(e) ?? 'error'} while reading the response`;
        continue;
      }
      if (status >= 200 && status < 300) {
        const ct = res.headers['content-type'];
        return { status, contentType: (Array.isArray(ct) ? ct[0] : ct) ?? '', body };
      }
      if (status === 401 || status === 403) {
        throw new PacsError('E_PACS_AUTH', `${where}: the server refused the credentials (HTTP ${status}); check --user/--password-file/--token-file`, { status });
      }
      if (status === 404) throw new PacsError('E_PACS_NOT_FOUND', `${where}: not found (HTTP 404)`, { status });
      if (RETRYABLE_STATUS.has(status)) {
        lastProblem = `HTTP ${status}`;
        continue;
      }
      const text = Buffer.from(body.subarray(0, 300)).toString('utf8').replace(/\s+/g, ' ').trim();
      throw new PacsError('E_PACS_REJECTED', `${where}: HTTP ${status}${text ? `: ${text}` : ''}`, { status });
    }
    throw new PacsError('E_PACS_UNREACHABLE', `${where}: ${lastProblem} after ${this.retries + 1} tries`);
  }

  /** Close idle connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}
