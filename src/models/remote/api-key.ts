/**
 * API keys for remote models: from a file (`--api-key-file`, `apiKeyFile`) or the provider's
 * environment variable; never from the command line. The key is held in memory only to build
 * request headers; results and error messages never contain it (see `redactKey`).
 */
import { readFileSync } from 'node:fs';
import { OptionError, RemoteError } from '../../core/errors.js';
import type { RemoteProvider } from './endpoint.js';

/** Environment variable holding each provider's key. */
export const API_KEY_ENV: Record<RemoteProvider, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  gemini: 'GEMINI_API_KEY',
};

/** Where the key came from (recorded instead of the key). */
export type ApiKeySource = 'file' | 'env' | 'none';

/**
 * Read the key: the file when given (first non-empty line, trimmed), else the environment. With
 * `required` and no key, E_REMOTE_AUTH naming where a key is looked for.
 */
export function resolveApiKey(
  provider: RemoteProvider,
  opts: { apiKeyFile?: string; required: boolean; environment?: NodeJS.ProcessEnv },
): { key?: string; source: ApiKeySource } {
  if (opts.apiKeyFile) {
    let text: string;
    try {
      text = readFileSync(opts.apiKeyFile, 'utf8');
    } catch (e) {
      throw new OptionError('E_BAD_OPTION', `${opts.apiKeyFile}: cannot read the API key file (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { file: opts.apiKeyFile });
    }
    const key = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0);
    if (!key) throw new OptionError('E_BAD_OPTION', `${opts.apiKeyFile}: the API key file is empty`, { file: opts.apiKeyFile });
    return { key, source: 'file' };
  }
  const envName = API_KEY_ENV[provider];
  const fromEnv = (opts.environment ?? process.env)[envName]?.trim();
  if (fromEnv) return { key: fromEnv, source: 'env' };
  if (opts.required) {
    throw new RemoteError('E_REMOTE_AUTH', `${provider}: no API key; put it in a file and give it as apiKeyFile (CLI --api-key-file FILE), or set ${envName}`);
  }
  return { source: 'none' };
}

/** Replace every occurrence of the key in `text` (servers sometimes echo what they were sent). */
export function redactKey(text: string, key: string | undefined): string {
  if (!key || key.length < 4) return text;
  return text.split(key).join('[redacted]');
}
