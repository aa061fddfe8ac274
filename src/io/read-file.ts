/** A file's bytes from disk (Node), with typed errors that name the file. */
import { readFile, stat } from 'node:fs/promises';
import { inputError, MedvlmError } from '../core/errors.js';

/**
 * A file's bytes, with medvlm's errors for a missing, unreadable, empty file or a folder. Callers that
 * also hash the file use these bytes for both, so the hash always describes what was decoded.
 * @throws InputError E_FILE_NOT_FOUND, E_FILE_UNREADABLE (permission denied, I/O error), E_FILE_EMPTY, E_FORMAT_UNKNOWN (a folder)
 */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw inputError('E_FORMAT_UNKNOWN', path, 'is a folder, not an image file');
    if (s.size === 0) throw inputError('E_FILE_EMPTY', path, 'file is empty (0 bytes)');
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw fileError(e, path);
  }
}

/** A file-system failure as a typed InputError naming the file (medvlm's own errors pass through). */
export function fileError(e: unknown, path: string): Error {
  if (e instanceof MedvlmError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return inputError('E_FILE_NOT_FOUND', path, 'no such file');
  if (code === 'EACCES' || code === 'EPERM') return inputError('E_FILE_UNREADABLE', path, 'permission denied');
  if (typeof code === 'string') return inputError('E_FILE_UNREADABLE', path, `cannot read (${code}: ${(e as Error).message})`, e);
  return e instanceof Error ? e : new Error(String(e));
}
