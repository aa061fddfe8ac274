/**
 * The one batch path from inputs to image embeddings: read → hash → decode → view → encode, with
 * bounded concurrency for reading and decoding, fixed-size encoder calls, an optional cache of
 * embeddings by content hash, a progress callback, and a per-batch hook for consumers that commit as
 * they go (the index, the evaluation cache). A bad input becomes a `FileError` and the batch goes on.
 * Used by classification, embedding, the evaluation harness and the case index.
 */
import { errorToJSON, type ErrorCode } from '../core/errors.js';
import { decodeImage } from '../io/decode.js';
import { inputHash, inputName, loadInput, type ImageInput } from '../io/image-input.js';
import type { MedicalImage } from '../io/types.js';
import type { DualEncoder, RGBImage } from '../models/capabilities.js';
import { toModelView, type ViewOptions } from '../transforms/index.js';

/** An input that could not be processed, with the reason in plain JSON. */
export interface FileError {
  file: string;
  error: { code: ErrorCode; message: string; option?: string };
}

/** Progress of a long run: `done` of `total` inputs, the name of the one just finished. */
export type ProgressFn = (done: number, total: number, name: string) => void;

/** What the decoded image told about itself, kept beside its embedding (no pixels). */
export type ImageHeader = Pick<MedicalImage, 'format' | 'modality' | 'phi' | 'depth'>;

/** One input, encoded. */
export interface EncodedImage {
  file: string;
  /** sha256 of the bytes that were decoded (when hashing was asked for). */
  hash?: string;
  embedding: Float32Array;
  /** Absent when the embedding came from the cache without decoding. */
  header?: ImageHeader;
  fromCache: boolean;
}

/** An input made ready for the encoder: a view to encode, or an embedding already known. */
export interface PreparedImage {
  file: string;
  hash?: string;
  rgb?: RGBImage;
  embedding?: Float32Array;
  header?: ImageHeader;
}

/** Options of the batch path. */
export interface BatchOptions {
  /** How each image becomes the 2D RGB view the model sees (slice, window). */
  view?: ViewOptions;
  /** Images per encoder call (default 16). */
  batchSize?: number;
  /** Inputs read and decoded at once (default: the batch size). */
  concurrency?: number;
  /** Hash each input's bytes (sha256); implied by `cached`. */
  hash?: boolean;
  /** Embeddings already known by content hash: such inputs are read and hashed but not decoded. */
  cached?: (hash: string) => Float32Array | undefined;
  onProgress?: ProgressFn;
  /** Milliseconds spent in `encodeImages` are added to `timing.encodeMs` (benchmarks and results read it). */
  timing?: { encodeMs: number };
  /** Called after each encoder call with that batch's results (positions in the input list), in order. */
  onBatch?: (results: Array<{ position: number; result: EncodedImage | FileError }>) => Promise<void> | void;
}

/** Type guard for per-input failures. */
export function isFileError(r: object): r is FileError {
  return 'error' in r;
}

/** A failure as a `FileError`, keeping the option name of option errors (surfaces map it). */
export function toFileError(file: string, e: unknown): FileError {
  const json = errorToJSON(e, file);
  const option = (e as { option?: unknown } | null)?.option;
  return { file, error: { ...json, ...(typeof option === 'string' ? { option } : {}) } };
}

/**
 * Read, optionally hash, and (unless cached) decode one input and make its model view. `name` names
 * bytes in results and errors (e.g. `pacs:<SOP instance UID>`); by default a path or URL names itself.
 */
export async function prepareInput(input: ImageInput, position: number | undefined, opts: Pick<BatchOptions, 'view' | 'hash' | 'cached'> & { name?: string } = {}): Promise<PreparedImage> {
  const loaded = await loadInput(input, position);
  if (opts.name) loaded.name = opts.name;
  const hash = opts.hash || opts.cached ? await inputHash(loaded) : undefined;
  const known = hash !== undefined ? opts.cached?.(hash) : undefined;
  if (known) return { file: loaded.name, hash, embedding: known };
  const image = loaded.image ?? (await decodeImage(loaded.bytes!, loaded.name));
  return { file: loaded.name, ...(hash ? { hash } : {}), rgb: toModelView(image, opts.view), header: headerOf(image) };
}

function headerOf(image: MedicalImage): ImageHeader {
  return { format: image.format, ...(image.modality ? { modality: image.modality } : {}), phi: image.phi, depth: image.depth };
}

async function pool<T>(count: number, limit: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}

/**
 * Encode `count` prepared items in batches. `prepare(i)` makes item i ready (throwing for a bad one);
 * results keep the order of the items.
 */
export async function encodePrepared(
  encoder: Pick<DualEncoder, 'encodeImages'>,
  count: number,
  prepare: (i: number) => Promise<PreparedImage>,
  names: (i: number) => string,
  opts: BatchOptions = {},
): Promise<Array<EncodedImage | FileError>> {
  const batchSize = Math.max(1, opts.batchSize ?? 16);
  const concurrency = Math.max(1, opts.concurrency ?? batchSize);
  const results = new Array<EncodedImage | FileError>(count);
  let done = 0;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(count, start + batchSize) - start;
    const prepared = await pool(n, concurrency, async (k) => {
      try {
        return await prepare(start + k);
      } catch (e) {
        return toFileError(names(start + k), e);
      }
    });
    const toEncode = prepared.flatMap((p, k) => (!isFileError(p) && p.rgb ? [{ k, rgb: p.rgb }] : []));
    const e0 = performance.now();
    const embeddings = toEncode.length ? await encoder.encodeImages(toEncode.map((x) => x.rgb)) : [];
    if (opts.timing) opts.timing.encodeMs += performance.now() - e0;
    const fresh = new Map(toEncode.map((x, j) => [x.k, embeddings[j]]));
    const batch = prepared.map((p, k) => {
      const result: EncodedImage | FileError = isFileError(p)
        ? p
        : { file: p.file, ...(p.hash ? { hash: p.hash } : {}), embedding: fresh.get(k) ?? p.embedding!, ...(p.header ? { header: p.header } : {}), fromCache: !fresh.has(k) };
      results[start + k] = result;
      return { position: start + k, result };
    });
    await opts.onBatch?.(batch);
    for (const b of batch) opts.onProgress?.(++done, count, b.result.file);
  }
  return results;
}

/** Encode image inputs (paths, URLs, bytes, decoded images) with a dual encoder; results keep the input order. */
export function encodeImageInputs(encoder: Pick<DualEncoder, 'encodeImages'>, inputs: readonly ImageInput[], opts: BatchOptions = {}): Promise<Array<EncodedImage | FileError>> {
  return encodePrepared(encoder, inputs.length, (i) => prepareInput(inputs[i], i, opts), (i) => inputName(inputs[i], i), opts);
}

/** Embed one input; a bad input throws its typed error (no FileError). */
export async function embedOne(encoder: Pick<DualEncoder, 'encodeImages'>, input: ImageInput, opts: Pick<BatchOptions, 'view' | 'hash'> = {}): Promise<EncodedImage> {
  const p = await prepareInput(input, undefined, opts);
  const [embedding] = await encoder.encodeImages([p.rgb!]);
  return { file: p.file, ...(p.hash ? { hash: p.hash } : {}), embedding, ...(p.header ? { header: p.header } : {}), fromCache: false };
}
