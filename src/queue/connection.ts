/**
 * Where the work queue lives: a Redis URL (`redis://HOST:PORT[/DB]`, `rediss://` for TLS). The password
 * never goes on the command line (it would show in `ps` and shell history): it comes from
 * MEDVLM_QUEUE_PASSWORD or from the file named by MEDVLM_QUEUE_PASSWORD_FILE.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { MedvlmError, OptionError } from '../core/errors.js';

/** A parsed queue address (no secret in it). */
export interface QueueAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  tls: boolean;
  /** `redis://host:port/db`, safe to print. */
  display: string;
}

/**
 * Parse `redis://HOST:PORT[/DB]`.
 * @throws OptionError E_BAD_OPTION for another scheme, a bad port or db, or a password in the URL.
 */
export function parseQueueUrl(url: string): QueueAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OptionError('E_BAD_OPTION', `--queue ${url}: expected redis://HOST:PORT[/DB]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new OptionError('E_BAD_OPTION', `--queue: expected a redis:// or rediss:// URL, not ${u.protocol}//`);
  if (u.password) {
    throw new OptionError('E_BAD_OPTION', '--queue: do not put the password in the URL (it shows in process lists and logs); set MEDVLM_QUEUE_PASSWORD or MEDVLM_QUEUE_PASSWORD_FILE');
  }
  const port = u.port ? Number(u.port) : 6379;
  const dbPart = u.pathname.replace(/^\//, '');
  const db = dbPart ? Number(dbPart) : 0;
  if (!Number.isInteger(db) || db < 0) throw new OptionError('E_BAD_OPTION', `--queue: database "${dbPart}" is not a number`);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return {
    host,
    port,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    tls: u.protocol === 'rediss:',
    display: `${u.protocol}//${u.hostname}:${port}/${db}`,
  };
}

/** The password from the environment, if any. */
function queuePassword(): string | undefined {
  const file = process.env.MEDVLM_QUEUE_PASSWORD_FILE;
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new OptionError('E_BAD_OPTION', `MEDVLM_QUEUE_PASSWORD_FILE ${file}: cannot read (${(e as Error).message})`);
    }
  }
  return process.env.MEDVLM_QUEUE_PASSWORD || undefined;
}

/**
 * ioredis options for an address, as BullMQ needs them: commands wait through a Redis restart
 * (`maxRetriesPerRequest: null`) and reconnection backs off up to 2 s.
 */
export function redisOptions(addr: QueueAddress): RedisOptions {
  const password = queuePassword();
  return {
    host: addr.host,
    port: addr.port,
    db: addr.db,
    ...(addr.username ? { username: addr.username } : {}),
    ...(password ? { password } : {}),
    ...(addr.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(2_000, 50 * 2 ** Math.min(times, 6)),
  };
}

/**
 * A connected Redis client.
 * @throws MedvlmError E_QUEUE_UNREACHABLE when Redis does not answer PING within `timeoutMs`.
 */
export async function connectRedis(addr: QueueAddress, timeoutMs = 10_000): Promise<Redis> {
  const redis = new Redis({ ...redisOptions(addr), lazyConnect: true });
  redis.on('error', () => {}); // reconnection is automatic; a lasting outage shows as the timeout below
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      }),
    ]);
    return redis;
  } catch (e) {
    redis.disconnect();
    throw new MedvlmError('E_QUEUE_UNREACHABLE', `${addr.display}: cannot reach Redis (${(e as Error).message}); is redis-server running there?`);
  } finally {
    clearTimeout(timer);
  }
}

/** The same options in the form BullMQ's Queue and Worker take (they make their own connections). */
export function bullConnection(addr: QueueAddress): ConnectionOptions {
  const o = redisOptions(addr);
  return {
    host: o.host,
    port: o.port,
    db: o.db,
    ...(o.username ? { username: o.username } : {}),
    ...(o.password ? { password: o.password } : {}),
    ...(o.tls ? { tls: o.tls } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: o.retryStrategy as (times: number) => number,
  };
}
