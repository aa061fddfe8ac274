/** Run the medvlm CLI from source as a child process without blocking, so that several run at once. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A finished CLI run. */
export interface AsyncCliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running CLI process and the promise of its end. */
export interface RunningCli {
  child: ChildProcess;
  done: Promise<AsyncCliRun>;
}

/** Start `medvlm ARGS...` (offline, no TTY); `done` resolves when it exits, however it exits. */
export function startMedvlm(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, MEDVLM_OFFLINE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<AsyncCliRun>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Run `medvlm ARGS...` and wait for it. */
export function medvlmAsync(args: string[], env: Record<string, string> = {}): Promise<AsyncCliRun> {
  return startMedvlm(args, env).done;
}
