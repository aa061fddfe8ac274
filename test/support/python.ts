/** Running reference code in Debian's Python (numpy, nibabel, pydicom, PIL, torch as installed by .ci/run). */
import { spawnSync } from 'node:child_process';

/** Debian's Python (`/usr/bin/python3`), never a virtual environment's. */
export const PY = '/usr/bin/python3';

/** Run `code` with {@link PY}; its stdout, or an Error carrying its stderr. */
export function py(code: string): string {
  const r = spawnSync(PY, ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}
