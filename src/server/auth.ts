/** API keys: read from a file (one per line), compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { optionError } from '../core/errors.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Read API keys from `file`: one per line; blank lines and `#` comments ignored; each at least 16 characters.
 * @throws OptionError (option `apiKeyFile`) when the file is unreadable or holds no usable key
 */
export function readApiKeys(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw optionError('apiKeyFile', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const keys = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (keys.length === 0) throw optionError('apiKeyFile', `${file}: no key in the file (one key per line)`);
  if (keys.some((k) => k.length < 16)) throw optionError('apiKeyFile', `${file}: every key must be at least 16 characters`);
  return keys;
}

/**
 * A checker for presented keys. Keys are hashed first so every comparison is between equal-length
 * digests with `crypto.timingSafeEqual`, and every configured key is compared (no early exit).
 */
export function apiKeyChecker(keys: readonly string[]): (presented: string | undefined) => boolean {
  const digests = keys.map(digest);
  return (presented) => {
    const d = digest(presented ?? '');
    let ok = false;
    for (const k of digests) ok = timingSafeEqual(k, d) || ok;
    return ok && presented !== undefined;
  };
}

/** The key a request presents: `Authorization: Bearer KEY` or `X-API-Key: KEY`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^bearer /i.test(auth)) return auth.slice(7).trim();
  const x = headers['x-api-key'];
  return typeof x === 'string' ? x.trim() : undefined;
}
