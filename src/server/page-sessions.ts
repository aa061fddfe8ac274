/**
 * The page behind the API key: a browser cannot send `Authorization` when it navigates or when
 * transformers.js fetches model files, so a person who types a valid key into the login page gets a
 * session cookie (random 256-bit token, `HttpOnly`, `SameSite=Strict`, kept in memory as its SHA-256,
 * expiring). With keys configured, everything but the login page, its script and `/v1/health` needs a
 * valid key or session. `SameSite=Strict` keeps the cookie off cross-site requests (no CSRF), and the
 * key itself never stays in the page.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'medvlm_session';

const hash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** The session token a request's `Cookie` header carries, if any. */
export function sessionToken(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** Sessions of the page, in memory (at most `max`; the oldest go first). */
export class PageSessions {
  private readonly sessions = new Map<string, number>();

  constructor(
    private readonly ttlMs = 12 * 3600_000,
    private readonly max = 1000,
  ) {}

  /** A new session; returns the `Set-Cookie` value. */
  issue(now = Date.now()): string {
    const token = randomBytes(32).toString('base64url');
    if (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(hash(token), now + this.ttlMs);
    return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(this.ttlMs / 1000)}`;
  }

  /** True when the cookie header carries a live session. */
  valid(cookieHeader: string | undefined, now = Date.now()): boolean {
    const token = sessionToken(cookieHeader);
    if (!token) return false;
    const key = hash(token);
    const expires = this.sessions.get(key);
    if (expires === undefined) return false;
    if (expires < now) {
      this.sessions.delete(key);
      return false;
    }
    return true;
  }

  /** End the session a cookie header carries; returns the `Set-Cookie` value that clears it. */
  end(cookieHeader: string | undefined): string {
    const token = sessionToken(cookieHeader);
    if (token) this.sessions.delete(hash(token));
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }
}
