/**
 * Fully resolved runtime settings and how they are applied to transformers.js' global `env` right
 * before a model loads (platform-free; Node resolves them in env.ts, the browser in browser.ts).
 */
import { env as transformersEnv, LogLevel } from '@huggingface/transformers';

/** Fully resolved runtime settings. */
export interface RuntimeSettings {
  cacheDir: string;
  threads: number;
  offline: boolean;
  hubEndpoint: string;
  /** 'cpu' in Node ('auto' tries CUDA first on linux-x64 and throws instead of falling back); 'wasm' in the browser. */
  device: 'cpu' | 'wasm';
  /** Browser: base URL that model ids are relative to (models are fetched from there, never from a hub). */
  modelBaseUrl?: string;
}

/**
 * Point transformers.js at the settings for one load. `remote` allows hub downloads (and the file
 * cache that goes with them); local folders load with both off so a stale cache never shadows them.
 */
export function applyRuntimeSettings(settings: RuntimeSettings, remote: boolean): void {
  if (settings.modelBaseUrl !== undefined) {
    // served model folders: the page's own server plays the hub's part (`<base>/<model>/<file>`)
    transformersEnv.allowLocalModels = false;
    transformersEnv.allowRemoteModels = true;
    transformersEnv.remoteHost = settings.modelBaseUrl;
    transformersEnv.remotePathTemplate = '{model}/';
    transformersEnv.useBrowserCache = false;
    transformersEnv.useFSCache = false;
    transformersEnv.logLevel = LogLevel.ERROR;
    return;
  }
  transformersEnv.allowLocalModels = true;
  transformersEnv.allowRemoteModels = remote && !settings.offline;
  transformersEnv.useFSCache = remote;
  transformersEnv.cacheDir = settings.cacheDir;
  transformersEnv.remoteHost = settings.hubEndpoint;
  transformersEnv.logLevel = LogLevel.ERROR;
}

/** Per-model options handed to transformers.js `from_pretrained` (in the browser the engine's default device, WebAssembly). */
export function sessionOptionsFor(settings: RuntimeSettings): { device?: 'cpu'; session_options: { intraOpNumThreads: number } } {
  return { ...(settings.device === 'cpu' ? { device: 'cpu' as const } : {}), session_options: { intraOpNumThreads: settings.threads } };
}
