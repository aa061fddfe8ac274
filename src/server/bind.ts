/** Where the server may listen: loopback by default; any other address needs API keys or an explicit `insecure`. */
import { isIP } from 'node:net';
import { optionError } from '../core/errors.js';

/** True for `localhost`, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Refuse a non-loopback bind without API keys unless `insecure` is set.
 * @throws OptionError (option `host`)
 */
export function checkBindSafety(host: string, opts: { hasApiKeys: boolean; insecure: boolean }): void {
  if (isLoopbackHost(host) || opts.hasApiKeys || opts.insecure) return;
  throw optionError('host', `${host} is not a loopback address: give an API key file (--api-key-file) or, on a trusted network only, --insecure`);
}
