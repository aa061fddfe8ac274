/**
 * A throw-away Redis for tests: Debian's `redis-server` on a free loopback port, its data in a
 * temporary folder with the append-only file on (so a restart keeps the queue), stopped afterwards.
 * `redisAvailable()` says why tests must skip where the binary is absent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of redis-server, or undefined with the reason. */
export function redisAvailable(): { ok: true; bin: string } | { ok: false; reason: string } {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return { ok: false, reason: 'redis-server not found (Debian package redis-server; .ci/run installs it)' };
  return { ok: true, bin: 'redis-server' };
}

/** A free TCP port on 127.0.0.1 (bound and released; Redis takes it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A running test Redis. */
export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  /** Stop Redis (SIGTERM: it flushes the append-only file) and wait for its exit. */
  stop(): Promise<void>;
  /** Start it again on the same port and folder (data restored from the append-only file). */
  restart(): Promise<void>;
  /** Stop and delete the folder. */
  dispose(): Promise<void>;
}

async function waitReady(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (r.stdout?.trim() === 'PONG') return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`redis-server on port ${port} not ready after ${timeoutMs} ms`);
}

/** Start a test Redis (loopback only, no RDB snapshots, append-only file fsynced every second). */
export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'medvlm-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--protected-mode', 'yes', '--loglevel', 'warning'], { stdio: 'ignore' });
    await waitReady(port, child);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((res) => {
      c.once('exit', () => res());
      c.kill('SIGTERM');
    });
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
