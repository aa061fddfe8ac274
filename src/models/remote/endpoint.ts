/**
 * Remote model ids and the privacy guard.
 *
 * Syntax: `PROVIDER:MODEL` (provider's public endpoint) or `PROVIDER:BASE_URL#MODEL` (any server
 * speaking that provider's wire format), with PROVIDER one of `openai`, `anthropic`, `gemini`:
 *   openai:http://127.0.0.1:8000/v1#llava-med     vLLM / Ollama / llama.cpp / LM Studio
 *   openai:gpt-4o                                  https://api.openai.com/v1
 *   anthropic:claude-sonnet-4-5                    https://api.anthropic.com
 *   gemini:gemini-2.5-flash                        https://generativelanguage.googleapis.com
 */
import { isIP } from 'node:net';
import { OptionError, RemoteError } from '../../core/errors.js';

/** Wire formats medvlm speaks. */
export type RemoteProvider = 'openai' | 'anthropic' | 'gemini';

/** A parsed remote model id. */
export interface RemoteModelId {
  provider: RemoteProvider;
  /** Base URL without a trailing slash (openai: includes `/v1`; anthropic and gemini: the origin). */
  baseUrl: string;
  model: string;
}

/** Public endpoints used when the id names no base URL. */
export const DEFAULT_BASE_URLS: Record<RemoteProvider, string> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
};

const PROVIDERS = Object.keys(DEFAULT_BASE_URLS) as RemoteProvider[];

/** True when `id` names a remote model (`openai:`, `anthropic:`, `gemini:` prefix). */
export function isRemoteModelId(id: string): boolean {
  const colon = id.indexOf(':');
  return colon > 0 && (PROVIDERS as string[]).includes(id.slice(0, colon));
}

/** Parse `PROVIDER:MODEL` or `PROVIDER:BASE_URL#MODEL`; E_BAD_OPTION naming what is wrong. */
export function parseRemoteModelId(id: string): RemoteModelId {
  const colon = id.indexOf(':');
  const provider = id.slice(0, colon) as RemoteProvider;
  if (colon <= 0 || !PROVIDERS.includes(provider)) {
    throw new OptionError('E_BAD_OPTION', `${id}: a remote model id starts with ${PROVIDERS.map((p) => `${p}:`).join(', ')}`);
  }
  const rest = id.slice(colon + 1);
  const hash = rest.lastIndexOf('#');
  const hasUrl = /^https?:\/\//i.test(rest);
  if (hasUrl && hash < 0) {
    throw new OptionError('E_BAD_OPTION', `${id}: name the served model after '#', e.g. ${provider}:${rest}#MODEL`);
  }
  const base = hasUrl ? rest.slice(0, hash) : DEFAULT_BASE_URLS[provider];
  const model = hasUrl ? rest.slice(hash + 1) : rest;
  if (!model.trim()) throw new OptionError('E_BAD_OPTION', `${id}: the model name is empty`);
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new OptionError('E_BAD_OPTION', `${id}: ${base} is not a URL`);
  }
  if (url.username || url.password) {
    throw new OptionError('E_BAD_OPTION', `${provider}: credentials in the URL are not accepted; give the key in a file (apiKeyFile; CLI --api-key-file) or the environment`, { option: 'model' });
  }
  if (url.search || url.hash) throw new OptionError('E_BAD_OPTION', `${id}: the base URL must not carry a query`);
  return { provider, baseUrl: url.toString().replace(/\/+$/, ''), model: model.trim() };
}

/** True when `hostname` is this machine: `localhost`, 127.0.0.0/8 or ::1 (IPv4-mapped included). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    // WHATWG URL parsing canonicalises IPv6: ::1 and IPv4-mapped 127.x (::ffff:7fxx:xxxx).
    const canonical = new URL(`http://[${h}]/`).hostname.slice(1, -1);
    return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
  }
  return false;
}

/** Where a base URL points, for results: `{kind, host, tls}`. */
export function destinationOf(baseUrl: string): { kind: 'loopback' | 'remote'; host: string; tls: boolean } {
  const url = new URL(baseUrl);
  return { kind: isLoopbackHost(url.hostname) ? 'loopback' : 'remote', host: url.host, tls: url.protocol === 'https:' };
}

/**
 * The privacy guard: images may go to a host other than this machine only when the user allowed it
 * (`allowRemote`, the CLI's `--allow-remote`). Called before any request is made.
 */
export function assertImageMayGo(baseUrl: string, allowRemote: boolean): void {
  const dest = destinationOf(baseUrl);
  if (dest.kind === 'remote' && !allowRemote) {
    throw new RemoteError(
      'E_REMOTE_NOT_ALLOWED',
      `${dest.host}: sending images to another machine needs the allowRemote option (CLI --allow-remote); ` +
        `only re-encoded PNG pixels of the model view are sent, never DICOM headers or file names`,
    );
  }
}
