/** Draft corpora from files (Node): a JSONL of cases with texts, or an index folder. */
import { existsSync } from 'node:fs';
import { inputError } from '../core/errors.js';
import { readManifest, type ManifestRecord } from '../index-store/manifest.js';

/** Read a JSONL corpus (`image` + caption/findings/... per line), as for `index add --text-from`. */
export function readTextCorpus(file: string, fields?: readonly string[]): ManifestRecord[] {
  return fields ? readManifest(file, fields) : readManifest(file);
}

/** True when a corpus argument names a JSONL file (anything else is taken as an index folder). */
export function isJsonlCorpus(path: string): boolean {
  if (!/\.jsonl$/i.test(path)) return false;
  if (!existsSync(path)) throw inputError('E_FILE_NOT_FOUND', path, 'no such corpus file');
  return true;
}
