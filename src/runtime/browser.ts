/**
 * Runtime settings in the browser: models are fetched from a base URL (the page's own server), never
 * from a hub; ONNX Runtime runs on WebAssembly with its `.wasm`/`.mjs` files served from `wasmPaths`
 * instead of a CDN.
 */
import { env as transformersEnv } from '@huggingface/transformers';
import type { RuntimeSettings } from './settings.js';

/** Options of the browser runtime. */
export interface BrowserRuntimeOptions {
  /** Base URL of the model folders (e.g. `/models/`); a model id is a folder name under it. */
  modelBaseUrl: string;
  /** Where onnxruntime-web's `.wasm`/`.mjs` files are served (a URL prefix ending in `/`). */
  wasmPaths?: string;
  /** WebAssembly threads (more than 1 needs a cross-origin-isolated page). Default 1. */
  threads?: number;
}

/** Resolve browser settings and point onnxruntime-web at the served WebAssembly files. */
export function browserRuntimeSettings(opts: BrowserRuntimeOptions): RuntimeSettings {
  const threads = Math.max(1, Math.floor(opts.threads ?? 1));
  const wasm = (transformersEnv.backends.onnx as { wasm?: { wasmPaths?: unknown; numThreads?: number; proxy?: boolean } }).wasm;
  if (wasm) {
    // change the object in place: transformers.js holds a reference to it
    if (opts.wasmPaths) wasm.wasmPaths = opts.wasmPaths;
    wasm.numThreads = threads;
  }
  const base = opts.modelBaseUrl.endsWith('/') ? opts.modelBaseUrl : `${opts.modelBaseUrl}/`;
  return { cacheDir: '', threads, offline: true, hubEndpoint: '', device: 'wasm', modelBaseUrl: base };
}
