/** sha256 of model files, for `ModelInfo.fileHashes`. */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';

const memo = new Map<string, string>();

/** sha256 (hex) of one file, streamed; memoised per (path, size, mtime) within the process. */
export async function sha256File(path: string): Promise<string> {
  const st = statSync(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  const known = memo.get(key);
  if (known) return known;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const hex = hash.digest('hex');
  memo.set(key, hex);
  return hex;
}

/** sha256 of each relative path under `folder`, keyed by the relative path (sorted). */
export async function hashFolderFiles(folder: string, relativePaths: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of [...new Set(relativePaths)].sort()) out[rel] = await sha256File(join(folder, rel));
  return out;
}
