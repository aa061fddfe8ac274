/** Byte sizes as people write them: `512MB`, `1.5GiB`, `100k`, `4096`. */
import { optionError } from '../core/errors.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** Parse a size (binary units: 1 MB = 1 MiB). @throws OptionError (option `option`) */
export function parseByteSize(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw optionError(option, `${JSON.stringify(text)} is not a size (e.g. 512MB, 2GB, 100KB)`);
  const n = Math.floor(Number(m[1]) * unit);
  if (n < 1) throw optionError(option, 'must be at least 1 byte');
  return n;
}
