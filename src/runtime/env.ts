/**
 * Runtime settings for the inference engine in Node: cache folder, threads, offline mode and hub
 * endpoint, resolved from options, then environment variables, then defaults (settings.ts applies them).
 */
import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { OptionError } from '../core/errors.js';
import type { RuntimeSettings } from './settings.js';

export { applyRuntimeSettings, sessionOptionsFor, type RuntimeSettings } from './settings.js';

/** What a caller may set; anything left out comes from the environment or a default. */
export interface RuntimeOptions {
  /** Folder where hub downloads are cached (default `$MEDVLM_CACHE` or `~/.cache/medvlm`). */
  cacheDir?: string;
  /** Intra-op threads for ONNX Runtime (default: all cores, `os.availableParallelism()`). */
  threads?: number;
  /** Never touch the network (default: `MEDVLM_OFFLINE=1`). */
  offline?: boolean;
  /** Hub base URL (default `$HF_ENDPOINT` or https://huggingface.co/). */
  hubEndpoint?: string;
}

/** Resolve options against environment variables and defaults; rejects a bad thread count. */
export function resolveRuntimeSettings(opts: RuntimeOptions = {}, environment: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new OptionError('E_BAD_OPTION', `threads: expected a whole number of at least 1, got ${String(opts.threads)}`, { option: 'threads' });
  }
  const endpoint = opts.hubEndpoint ?? environment.HF_ENDPOINT ?? 'https://huggingface.co/';
  return {
    cacheDir: resolve(opts.cacheDir ?? environment.MEDVLM_CACHE ?? join(homedir(), '.cache', 'medvlm')),
    threads,
    offline: opts.offline ?? ['1', 'true', 'yes'].includes((environment.MEDVLM_OFFLINE ?? '').toLowerCase()),
    hubEndpoint: endpoint.endsWith('/') ? endpoint : `${endpoint}/`,
    device: 'cpu',
  };
}
