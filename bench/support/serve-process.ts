/**
 * What the HTTP benchmarks share (bench/serve.ts, bench/soak-serve.ts): a real `medvlm serve` process on a
 * loopback port, its RSS read from /proc, and multipart bodies like the page's uploads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The labels both benchmarks classify with. */
export const BENCH_LABELS = 'chest x-ray,head CT,abdomen CT,brain MRI';

/** A running `medvlm serve --no-web --quiet` (offline) and its base URL. */
export interface ServeProcess {
  base: string;
  process: ChildProcess;
  /** Resident set size of the server process, MiB. */
  rssMiB(): number;
  stop(): void;
}

/** Start `medvlm serve` on 127.0.0.1:`port` and resolve once /v1/health answers (gives up after `maxWaitS`). */
export async function startServe(port: string, concurrency: string, maxWaitS = 120): Promise<ServeProcess> {
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', port, '--concurrency', concurrency, '--no-web', '--quiet'], {
    cwd: ROOT,
    env: { ...process.env, MEDVLM_OFFLINE: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const server: ServeProcess = { base, process: child, rssMiB: () => rssOf(child.pid!), stop: () => void child.kill('SIGTERM') };
  for (const t0 = performance.now(); ; ) {
    try {
      if ((await fetch(`${base}/v1/health`)).ok) return server;
    } catch {
      if (child.exitCode !== null || performance.now() - t0 > maxWaitS * 1000) {
        server.stop();
        throw new Error(`the server did not start on ${base}`);
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** VmRSS of a process, MiB (NaN when /proc does not say). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A multipart/form-data body with text `fields` and one file part named `file`. */
export function multipart(fields: Record<string, string>, name: string, bytes: Buffer): { body: Buffer; type: string } {
  const boundary = `medvlmbench${Math.random().toString(16).slice(2)}`;
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  const body = Buffer.concat([
    Buffer.from(`${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}
