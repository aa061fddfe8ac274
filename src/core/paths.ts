import { MedvlmError } from './errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/**
 * The medvlm package root (the folder with medvlm's package.json, models/ and templates/), found from this
 * module's own location — not from cwd — so that it works from src/ (tests), dist/ (built) and
 * node_modules/medvlm alike.
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'medvlm') return (cachedRoot = dir);
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new MedvlmError('E_INTERNAL', `${fileURLToPath(import.meta.url)}: cannot find medvlm's package.json above this file`);
    dir = parent;
  }
}

/** medvlm's version from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
