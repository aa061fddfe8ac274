import { existsSync } from 'node:fs';
import { writeAtomic } from '../core/atomic.js';
import { OptionError } from '../core/errors.js';

/**
 * Write a file the user asked for without ever clobbering one they own: refuse an existing path
 * unless `force`, and write through a temporary file renamed into place (no half-written output).
 */
export async function writeOutput(path: string, data: string | Uint8Array, force = false): Promise<void> {
  if (existsSync(path) && !force) {
    throw new OptionError('E_OUTPUT_EXISTS', `${path}: already exists; choose another --out or add --force to replace it`, { file: path });
  }
  await writeAtomic(path, data);
}

/** Print one line to stdout. */
export function out(line: string): void {
  process.stdout.write(line + '\n');
}

/** Print one line to stderr. */
export function note(line: string): void {
  process.stderr.write(line + '\n');
}
