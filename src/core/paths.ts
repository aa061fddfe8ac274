import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The installed package's root folder (where package.json, models/ and templates/ are), found from this
 * module's own location so that it works from src/ (tests), dist/ (built) and node_modules/medvlm alike.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('medvlm: cannot find the package root (package.json next to templates/)');
    dir = up;
  }
}
