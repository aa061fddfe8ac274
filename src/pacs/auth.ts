/**
 * Credentials for a DICOMweb server: HTTP basic or a bearer token, read from a file or the environment,
 * never from the command line (argv is visible to every user of the machine and lands in shell history).
 */
import { readFileSync } from 'node:fs';
import { OptionError } from '../core/errors.js';

/** How requests authenticate. */
export type PacsAuth = { kind: 'none' } | { kind: 'basic'; user: string; password: string } | { kind: 'bearer'; token: string };

/** Where credentials may come from. Every field names a file or a user name, never a secret itself. */
export interface AuthSources {
  /** User name for HTTP basic (not a secret; the password comes from `passwordFile` or the environment). */
  user?: string;
  /** File whose first line is the basic-auth password. */
  passwordFile?: string;
  /** File whose first line is a bearer token. */
  tokenFile?: string;
  /** Environment to read MEDVLM_PACS_USER, MEDVLM_PACS_PASSWORD, MEDVLM_PACS_TOKEN from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Environment variables read by `resolveAuth`. */
export const AUTH_ENV = { user: 'MEDVLM_PACS_USER', password: 'MEDVLM_PACS_PASSWORD', token: 'MEDVLM_PACS_TOKEN' } as const;

function readSecretFile(path: string, option: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OptionError('E_BAD_OPTION', `${option} ${path}: cannot read the file (${code ?? 'error'})`, { file: path, cause: e });
  }
  const line = text.split(/\r?\n/)[0].trim();
  if (!line) throw new OptionError('E_BAD_OPTION', `${option} ${path}: the file is empty (expected the secret on its first line)`, { file: path });
  return line;
}

/**
 * Decide the credentials: a token file or MEDVLM_PACS_TOKEN gives bearer auth; a user name (option or
 * MEDVLM_PACS_USER) with a password file or MEDVLM_PACS_PASSWORD gives basic auth; nothing gives none.
 * @throws OptionError E_BAD_OPTION when both kinds are given, or a user without a password.
 */
export function resolveAuth(src: AuthSources = {}): PacsAuth {
  const env = src.env ?? process.env;
  const token = src.tokenFile ? readSecretFile(src.tokenFile, '--token-file') : env[AUTH_ENV.token]?.trim() || undefined;
  const user = src.user ?? (env[AUTH_ENV.user]?.trim() || undefined);
  const password = src.passwordFile ? readSecretFile(src.passwordFile, '--password-file') : env[AUTH_ENV.password];
  if (token && (src.user || src.passwordFile)) {
    throw new OptionError('E_BAD_OPTION', 'PACS credentials: give either a bearer token or a user and password, not both');
  }
  if (token) return { kind: 'bearer', token };
  if (user) {
    if (password === undefined || password === '') {
      throw new OptionError(
        'E_BAD_OPTION',
        `PACS user "${user}" has no password: put it in a file named by --password-file or in ${AUTH_ENV.password}`,
      );
    }
    return { kind: 'basic', user, password };
  }
  if (src.passwordFile) throw new OptionError('E_BAD_OPTION', `--password-file needs a user name (--user or ${AUTH_ENV.user})`);
  return { kind: 'none' };
}

/** The Authorization header value, or undefined for no auth. */
export function authorizationHeader(auth: PacsAuth): string | undefined {
  if (auth.kind === 'basic') return `Basic ${Buffer.from(`${auth.user}:${auth.password}`, 'utf8').toString('base64')}`;
  if (auth.kind === 'bearer') return `Bearer ${auth.token}`;
  return undefined;
}

/** A description of the auth safe to print (never the secret). */
export function describeAuth(auth: PacsAuth): string {
  if (auth.kind === 'basic') return `basic (user ${auth.user})`;
  return auth.kind === 'bearer' ? 'bearer token' : 'none';
}
