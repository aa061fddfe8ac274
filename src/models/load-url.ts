/**
 * Loading a dual encoder from model files served over HTTP (the browser entry): the same families,
 * tokenizer, image processor and ONNX files as in Node, fetched from the page's own server.
 */
import { ModelLoadError, OptionError } from '../core/errors.js';
import { browserRuntimeSettings, type BrowserRuntimeOptions } from '../runtime/browser.js';
import { isModelDtype, MODEL_DTYPES, type ModelDtype } from '../runtime/dtype.js';
import type { EngineLoadContext } from '../runtime/engine.js';
import { exclusiveLoad } from '../runtime/load-queue.js';
import { urlModelFiles } from '../runtime/model-files.js';
import type { DualEncoder } from './capabilities.js';
import { familyForConfig } from './families.js';
import { TransformersDualEncoder, type BatchSizes } from './transformers-dual-encoder.js';

/** Options of `loadDualEncoderFromUrl`. */
export interface LoadFromUrlOptions extends Omit<BrowserRuntimeOptions, 'modelBaseUrl'> {
  dtype?: ModelDtype;
  batchSize?: Partial<BatchSizes>;
}

/**
 * Load the model whose folder is served at `modelUrl` (e.g. `/models/medvlm-tiny/`).
 * @throws ModelLoadError E_MODEL_NOT_FOUND when config.json cannot be fetched, E_MODEL_INVALID otherwise
 */
export function loadDualEncoderFromUrl(modelUrl: string, opts: LoadFromUrlOptions = {}): Promise<DualEncoder> {
  return exclusiveLoad(() => loadNow(modelUrl, opts));
}

async function loadNow(modelUrl: string, opts: LoadFromUrlOptions): Promise<DualEncoder> {
  const dtype = opts.dtype ?? 'fp32';
  if (!isModelDtype(dtype)) throw new OptionError('E_BAD_OPTION', `dtype: expected one of ${MODEL_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`, { option: 'dtype' });
  const href = new URL(modelUrl, (globalThis as { location?: { href: string } }).location?.href).href;
  const folder = href.endsWith('/') ? href : `${href}/`;
  const name = folder.slice(0, -1).split('/').pop()!;
  const base = folder.slice(0, folder.length - name.length - 1);
  let config: Record<string, unknown>;
  try {
    const res = await fetch(new URL('config.json', folder));
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    config = (await res.json()) as Record<string, unknown>;
  } catch (e) {
    throw new ModelLoadError('E_MODEL_NOT_FOUND', `${folder}config.json: cannot fetch the model's config (${e instanceof Error ? e.message : String(e)})`, { file: folder, cause: e });
  }
  const settings = browserRuntimeSettings({ ...opts, modelBaseUrl: base });
  const ctx: EngineLoadContext = { id: name, source: { kind: 'url', location: name }, settings, dtype };
  return TransformersDualEncoder.load(familyForConfig(config, folder), ctx, config, 'url', urlModelFiles(folder), opts.batchSize);
}
