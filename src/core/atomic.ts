/** The one atomic file writer (results, caches, index descriptions, CLI outputs): a temporary file next to the target, fsync, rename. */
import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const TMP_MARK = '.medvlm-tmp-';
const live = new Set<string>();

function tmpPath(path: string): string {
  return join(dirname(path), `.${basename(path)}${TMP_MARK}${process.pid}`);
}

/**
 * Write `data` to `path` so that `path` is either absent/old or complete, never partial: the bytes go to
 * a hidden temporary file in the same folder, which is then renamed over `path`.
 */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tmpPath(path);
  live.add(tmp);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } finally {
    live.delete(tmp);
  }
}

/** Synchronous `writeAtomic` (for writes that must finish before a signal handler exits). */
export function writeAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tmpPath(path);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Remove the temporary files this process has open right now (called on SIGINT before exiting). */
export function removeLiveTempFiles(): void {
  for (const tmp of live) rmSync(tmp, { force: true });
  live.clear();
}

/** True for a temporary file name that `writeAtomic` uses. */
export function isTempFile(name: string): boolean {
  return name.startsWith('.') && name.includes(TMP_MARK);
}

/** Delete temporary files left by a process that was killed (SIGKILL) in `dir`, recursively. Returns how many. */
export function removeStaleTempFiles(dir: string): number {
  let n = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += removeStaleTempFiles(p);
    else if (isTempFile(e.name)) {
      rmSync(p, { force: true });
      n++;
    }
  }
  return n;
}
