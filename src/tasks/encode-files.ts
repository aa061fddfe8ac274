import { errorToJSON, type ErrorCode } from '../core/errors.js';
import { decodeImage, readFileBytes } from '../io/read.js';
import type { MedicalImage } from '../io/types.js';
import type { DualEncoder, RGBImage } from '../models/capabilities.js';
import { toModelView, type ViewOptions } from '../transforms/index.js';

/** A file that could not be processed, with the reason in plain JSON. */
export interface FileError {
  file: string;
  error: { code: ErrorCode; message: string };
}

/** A file's L2-normalised image embedding. */
export interface FileEmbedding {
  file: string;
  embedding: Float32Array;
}

/** Progress of a long run: `done` of `total` files, the file just finished. */
export type ProgressFn = (done: number, total: number, file: string) => void;

/** Options for turning files into model inputs. */
export interface EncodeFilesOptions {
  /** How each image becomes the 2D RGB view the model sees (slice, window). */
  view?: ViewOptions;
  /** Images per encoder call (default 16). */
  batchSize?: number;
  onProgress?: ProgressFn;
}

/** Read a file and make the RGB view a model sees. Exported for tasks that need the view itself. */
export async function fileToView(file: string, view: ViewOptions = {}): Promise<{ image: MedicalImage; rgb: RGBImage }> {
  return bytesToView(await readFileBytes(file), file, view);
}

/** Decode bytes already read (`source` names them in errors) and make the RGB view a model sees. */
export async function bytesToView(bytes: Uint8Array, source: string, view: ViewOptions = {}): Promise<{ image: MedicalImage; rgb: RGBImage }> {
  const image = await decodeImage(bytes, source);
  return { image, rgb: toModelView(image, view) };
}

/**
 * Encode many files with a dual encoder, in batches. A file that cannot be read gets a `FileError`
 * and the batch goes on; results keep the order of `files`.
 */
export async function encodeFiles(
  encoder: DualEncoder,
  files: string[],
  opts: EncodeFilesOptions = {},
): Promise<Array<FileEmbedding | FileError>> {
  const batchSize = Math.max(1, opts.batchSize ?? 16);
  const results: Array<FileEmbedding | FileError> = new Array(files.length);
  let done = 0;
  for (let start = 0; start < files.length; start += batchSize) {
    const batch = files.slice(start, start + batchSize);
    const views: RGBImage[] = [];
    const slots: number[] = [];
    for (let i = 0; i < batch.length; i++) {
      try {
        views.push((await fileToView(batch[i], opts.view)).rgb);
        slots.push(start + i);
      } catch (e) {
        results[start + i] = { file: batch[i], error: errorToJSON(e, batch[i]) };
        opts.onProgress?.(++done, files.length, batch[i]);
      }
    }
    if (views.length === 0) continue;
    const embeddings = await encoder.encodeImages(views);
    slots.forEach((slot, k) => {
      results[slot] = { file: files[slot], embedding: embeddings[k] };
      opts.onProgress?.(++done, files.length, files[slot]);
    });
  }
  return results;
}

/** Type guard for per-file failures. */
export function isFileError(r: FileEmbedding | FileError | { file: string }): r is FileError {
  return 'error' in r;
}
