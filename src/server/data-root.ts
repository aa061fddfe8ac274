/**
 * Image paths from HTTP, only under `--data-root`: relative, no `..` out of the root, no symlink
 * leading out of it (checked on the real path), regular files only, size-limited.
 */
import { realpathSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { inputError, optionError } from '../core/errors.js';

/** The real path of `root` (resolved once). @throws OptionError (option `dataRoot`) when it is not a folder */
export function dataRootOf(root: string): string {
  try {
    return realpathSync(root);
  } catch {
    throw optionError('dataRoot', `${root}: no such folder`);
  }
}

const inside = (root: string, path: string) => {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
};

/**
 * The real path of `path` (relative to `root`, a real path from `dataRootOf`) if it stays inside the root.
 * @throws OptionError (option `path`) for an absolute path, a path out of the root or a symlink out; InputError when missing
 */
export function resolveUnderDataRoot(root: string, path: string): string {
  if (path.includes('\0') || isAbsolute(path) || /^[a-zA-Z]:[\\/]/.test(path)) throw optionError('path', 'must be relative to the server\'s data root');
  const joined = resolve(root, path);
  if (!inside(root, joined) && joined !== root) throw optionError('path', 'leads out of the server\'s data root');
  let real: string;
  try {
    real = realpathSync(joined);
  } catch {
    throw inputError('E_FILE_NOT_FOUND', path, 'no such file under the data root');
  }
  if (!inside(root, real) && real !== root) throw optionError('path', 'is a link that leads out of the server\'s data root');
  return real;
}

/** True when the real path of `file` is inside `root`. */
export function isUnderDataRoot(root: string, file: string): boolean {
  try {
    return inside(root, realpathSync(file));
  } catch {
    return false;
  }
}

/**
 * Read `path` (relative to `root`, a real path from `dataRootOf`) if it stays inside the root.
 * @throws OptionError (option `path`) for an absolute path, a path out of the root or a symlink out; InputError when missing or too large
 */
export async function readUnderDataRoot(root: string, path: string, maxBytes: number): Promise<Uint8Array> {
  const real = resolveUnderDataRoot(root, path);
  if (real === root) throw optionError('path', 'is not a regular file');
  const handle = await open(real, 'r');
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw optionError('path', 'is not a regular file');
    if (stat.size > maxBytes) throw inputError('E_IMAGE_TOO_LARGE', path, `the file (${stat.size} bytes) is larger than the server accepts (${maxBytes} bytes)`);
    return new Uint8Array(await handle.readFile());
  } finally {
    await handle.close();
  }
}
