/**
 * Plain files of a hub repository (checkpoints and side files that are not an ONNX model, e.g. an
 * open_clip release for `medvlm convert`), fetched into the same cache folder transformers.js uses
 * (`<cacheDir>/<org>/<name>/<file>`), with byte progress and the same one-sentence offline error.
 * Files already in the cache are used without network.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ModelLoadError } from '../core/errors.js';
import type { RuntimeSettings } from './env.js';
import type { LoadProgress } from './engine.js';
import { hubCacheFolder } from './sources.js';

/** Which files to get: the first present of each `oneOf` group is required; `optional` files are fetched when the hub has them. */
export interface HubFileRequest {
  oneOf: string[][];
  optional: string[];
}

function offline(id: string, reason: string, files: string): ModelLoadError {
  return new ModelLoadError(
    'E_MODEL_OFFLINE',
    `${id}: the Hugging Face hub cannot be reached (${reason}) and the files are not in the cache; to run without network, download ${files} and pass the folder.`,
  );
}

async function download(url: string, dest: string, file: string, onProgress?: (p: LoadProgress) => void): Promise<boolean> {
  const response = await fetch(url);
  if (response.status === 404 || response.status === 401 || response.status === 403) return false;
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} for ${url}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  let loaded = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    loaded += chunk.length;
    onProgress?.({ file, loaded, total });
  });
  const tmp = `${dest}.download-${process.pid}`;
  try {
    await pipeline(body, createWriteStream(tmp));
    renameSync(tmp, dest);
  } finally {
    rmSync(tmp, { force: true });
  }
  return true;
}

/**
 * The cache folder holding a hub repository's requested files, downloading what is missing unless
 * offline. Throws E_MODEL_OFFLINE (offline or unreachable, files not cached) or E_MODEL_NOT_FOUND
 * (no file of a required group on the hub).
 */
export async function fetchHubFiles(id: string, request: HubFileRequest, settings: RuntimeSettings, onProgress?: (p: LoadProgress) => void): Promise<string> {
  const folder = hubCacheFolder(settings.cacheDir, id);
  const cached = (f: string): boolean => existsSync(join(folder, f));
  const complete = request.oneOf.every((group) => group.some(cached));
  if (complete) return folder;
  const wanted = request.oneOf.map((g) => g.join(' or ')).join(', ');
  if (settings.offline) throw offline(id, 'offline mode is on', wanted);
  mkdirSync(folder, { recursive: true });
  const base = `${settings.hubEndpoint.replace(/\/+$/, '')}/${id}/resolve/main`;
  try {
    for (const group of request.oneOf) {
      if (group.some(cached)) continue;
      let found = false;
      for (const f of group) if (!found) found = await download(`${base}/${f}`, join(folder, f), f, onProgress);
      if (!found) throw new ModelLoadError('E_MODEL_NOT_FOUND', `${id}: the hub has none of ${group.join(', ')}`);
    }
    for (const f of request.optional) if (!cached(f)) await download(`${base}/${f}`, join(folder, f), f, onProgress);
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw offline(id, `network error: ${e instanceof Error ? e.message : String(e)}`, wanted);
  }
  return folder;
}
