/**
 * The bridge to transformers.js: the only module (with env.ts) that imports it. Models get the
 * engine's classes through narrow interfaces defined here, so they never see the library's own types.
 */
import * as transformers from '@huggingface/transformers';
import { AutoConfig, AutoProcessor, AutoTokenizer, RawImage, Tensor, type ProgressInfo } from '@huggingface/transformers';
import { ModelLoadError, MedvlmError } from '../core/errors.js';
import { applyRuntimeSettings, sessionOptionsFor, type RuntimeSettings } from './settings.js';
import type { ModelDtype, WeightDtype } from './dtype.js';
import { offlineMessage, type ModelSource } from './model-source.js';

/** Download progress of one file. */
export interface LoadProgress {
  file: string;
  loaded: number;
  total: number;
}

/** A dense tensor as models see it. */
export interface EngineTensor {
  dims: number[];
  data: ArrayLike<number | bigint>;
}

/** A loaded ONNX model: call it with named tensors, get named tensors back. */
export interface EngineModel {
  (inputs: Record<string, unknown>): Promise<Record<string, EngineTensor>>;
  /** Input names of the underlying session. */
  readonly inputNames: string[];
  /** Output names of the underlying session. */
  readonly outputNames: string[];
  /** Input names of every session, keyed by the engine's session name (e.g. SAM's `model` and `prompt_encoder_mask_decoder`). */
  readonly sessionInputNames: Record<string, string[]>;
  dispose(): Promise<unknown>;
}

/** A tokenizer: texts → input tensors (input_ids, attention_mask, ...). */
export type EngineTokenizer = (
  texts: string[],
  options: { padding: boolean | 'max_length'; truncation: boolean },
) => Record<string, unknown>;

/** An image processor: RGB images → `{pixel_values}`; `config` is its preprocessor_config.json as loaded. */
export type EngineProcessor = ((images: unknown[]) => Promise<Record<string, unknown>>) & { readonly config: Record<string, unknown> };

/** The name of a transformers.js model class (e.g. `CLIPTextModelWithProjection`), as a family declares it. */
export type EngineModelClass = string;

interface PretrainedClass {
  from_pretrained(id: string, options: Record<string, unknown>): Promise<unknown>;
}

/** The transformers.js class of that name, or E_MODEL_INVALID when the engine has none. */
function modelClass(name: EngineModelClass): PretrainedClass {
  const cls = (transformers as unknown as Record<string, unknown>)[name] as Partial<PretrainedClass> | undefined;
  if (!cls || typeof cls.from_pretrained !== 'function') {
    throw new ModelLoadError('E_MODEL_INVALID', `transformers.js has no model class ${JSON.stringify(name)} (a family names a class this version lacks)`);
  }
  return cls as PretrainedClass;
}

/** What every engine load needs to know (`D`: the dtypes the loader accepts; generators also take q4). */
export interface EngineLoadContext<D extends WeightDtype = ModelDtype> {
  /** What the user asked for (for messages). */
  id: string;
  source: ModelSource;
  settings: RuntimeSettings;
  /** Weights variant (a generator with per-file dtypes gives its decoder's here, for messages). */
  dtype: D;
  onProgress?: (info: LoadProgress) => void;
}

function isNetworkFailure(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const err = cur as { message?: string; code?: string; cause?: unknown };
    if (/fetch failed|ENOTFOUND|ECONNREFUSED|EAI_AGAIN|ETIMEDOUT|ECONNRESET|ENETUNREACH|network/i.test(`${err.code ?? ''} ${err.message ?? ''}`)) {
      return true;
    }
    cur = err.cause;
  }
  return false;
}

/** Map whatever the engine threw while loading into a typed ModelLoadError. */
export function toModelLoadError(e: unknown, ctx: EngineLoadContext<WeightDtype>, what: string): MedvlmError {
  if (e instanceof MedvlmError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (ctx.source.kind === 'hub') {
    if (isNetworkFailure(e)) return new ModelLoadError('E_MODEL_OFFLINE', offlineMessage(ctx.id, ctx.dtype, 'network error'), { cause: e });
    if (/not found|404|401|unauthori[sz]ed/i.test(msg) || (e as { name?: string }).name === 'ModelFileNotFoundError') {
      return new ModelLoadError('E_MODEL_NOT_FOUND', `${ctx.id}: the hub has no such model or file (${what}): ${msg}`, { cause: e });
    }
  }
  const where = ctx.source.kind === 'hub' ? ctx.id : ctx.source.location;
  return new ModelLoadError('E_MODEL_INVALID', `${where}: cannot load ${what}: ${msg}`, { file: where, cause: e });
}

function baseOptions(ctx: EngineLoadContext<WeightDtype>): Record<string, unknown> {
  // download progress: only for files that come from the hub (transformers.js reports local reads as progress too)
  const progress = ctx.source.kind === 'hub' ? ctx.onProgress : undefined;
  return {
    ...(progress
      ? {
          progress_callback: (p: ProgressInfo) => {
            if (p.status === 'progress') progress({ file: p.file, loaded: p.loaded, total: p.total });
          },
        }
      : {}),
  };
}

/** The id transformers.js should load: an absolute folder, or the hub id. */
function engineId(ctx: EngineLoadContext<WeightDtype>): string {
  applyRuntimeSettings(ctx.settings, ctx.source.kind === 'hub');
  return ctx.source.location;
}

/** config.json of a model as plain JSON (downloaded through the hub cache for hub ids). */
export async function loadConfigJson(ctx: EngineLoadContext<WeightDtype>): Promise<Record<string, unknown>> {
  try {
    const config = await AutoConfig.from_pretrained(engineId(ctx), baseOptions(ctx));
    return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  } catch (e) {
    throw toModelLoadError(e, ctx, 'config.json');
  }
}

/** Load the tokenizer of a model. */
export async function loadTokenizer(ctx: EngineLoadContext): Promise<EngineTokenizer> {
  try {
    const tok = await AutoTokenizer.from_pretrained(engineId(ctx), baseOptions(ctx));
    return (texts, options) => tok(texts, options) as unknown as Record<string, unknown>;
  } catch (e) {
    throw toModelLoadError(e, ctx, 'the tokenizer');
  }
}

/** Load the image processor of a model (from preprocessor_config.json). */
export async function loadImageProcessor(ctx: EngineLoadContext): Promise<EngineProcessor> {
  try {
    const proc = await AutoProcessor.from_pretrained(engineId(ctx), baseOptions(ctx));
    const run = async (images: unknown[]) => (await proc(images)) as unknown as Record<string, unknown>;
    const raw = (proc as unknown as { image_processor?: { config?: unknown }; config?: unknown }).image_processor?.config ?? proc.config;
    const config = raw && typeof raw === 'object' ? (JSON.parse(JSON.stringify(raw)) as Record<string, unknown>) : {};
    return Object.assign(run, { config });
  } catch (e) {
    throw toModelLoadError(e, ctx, 'the image processor');
  }
}

/** Load one ONNX model through the given transformers.js class, with the context's dtype and threads. */
export async function loadModel(ctx: EngineLoadContext, cls: EngineModelClass, dtype: ModelDtype = ctx.dtype): Promise<EngineModel> {
  try {
    const model = (await modelClass(cls).from_pretrained(engineId(ctx), {
      ...baseOptions(ctx),
      ...sessionOptionsFor(ctx.settings),
      dtype,
    })) as {
      sessions: Record<string, { inputNames: string[]; outputNames: string[] }>;
      dispose(): Promise<unknown>;
      (inputs: Record<string, unknown>): Promise<Record<string, EngineTensor>>;
    };
    const session = Object.values(model.sessions)[0];
    const call = ((inputs: Record<string, unknown>) => model(inputs)) as EngineModel;
    Object.defineProperty(call, 'inputNames', { value: session.inputNames });
    Object.defineProperty(call, 'outputNames', { value: session.outputNames });
    const perSession = Object.fromEntries(Object.entries(model.sessions).map(([name, sess]) => [name, [...sess.inputNames]]));
    Object.defineProperty(call, 'sessionInputNames', { value: perSession });
    call.dispose = () => model.dispose();
    return call;
  } catch (e) {
    throw toModelLoadError(e, ctx, `the ${cls} model (dtype ${dtype})`);
  }
}

/** Wrap interleaved 8-bit RGB pixels as an engine image (no copy when the data already is 8-bit). */
export function rgbToEngineImage(data: Uint8Array | Uint8ClampedArray, width: number, height: number): unknown {
  const view = data instanceof Uint8ClampedArray ? data : new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength);
  return new RawImage(view, width, height, 3);
}

/** An int64 engine tensor of `values` (e.g. SAM's point labels). */
export function int64Tensor(values: ArrayLike<number>, dims: number[]): unknown {
  return new Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
}

/** A float32 engine tensor over `data` (no copy), e.g. pixel values medvlm preprocessed itself. */
export function float32Tensor(data: Float32Array, dims: number[]): unknown {
  return new Tensor('float32', data, dims);
}
