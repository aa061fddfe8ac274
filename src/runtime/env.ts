/**
 * Runtime settings for the inference engine: cache folder, threads, device, offline mode and hub
 * endpoint. Resolved from options, then environment variables, then defaults, and applied to
 * transformers.js' global `env` right before a model loads.
 */
import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { env as transformersEnv, LogLevel } from '@huggingface/transformers';
import { OptionError } from '../core/errors.js';

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

/** Fully resolved runtime settings. */
export interface RuntimeSettings {
  cacheDir: string;
  threads: number;
  offline: boolean;
  hubEndpoint: string;
  /** Always 'cpu': 'auto' tries CUDA first on linux-x64 and throws instead of falling back. */
  device: 'cpu';
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

/**
 * Point transformers.js at the settings for one load. `remote` allows hub downloads (and the file
 * cache that goes with them); local folders load with both off so a stale cache never shadows them.
 */
export function applyRuntimeSettings(settings: RuntimeSettings, remote: boolean): void {
  transformersEnv.allowLocalModels = true;
  transformersEnv.allowRemoteModels = remote && !settings.offline;
  transformersEnv.useFSCache = remote;
  transformersEnv.cacheDir = settings.cacheDir;
  transformersEnv.remoteHost = settings.hubEndpoint;
  transformersEnv.logLevel = LogLevel.ERROR;
}

/** Per-model options handed to transformers.js `from_pretrained`. */
export function sessionOptionsFor(settings: RuntimeSettings): { device: 'cpu'; session_options: { intraOpNumThreads: number } } {
  return { device: settings.device, session_options: { intraOpNumThreads: settings.threads } };
}
