/**
 * The `generate` task: read a file, make the model view (slice, window, RGB) and ask a generative
 * vision-language model about it. Only the view's pixels reach the generator: it never sees the
 * file name, the DICOM header or patient identifiers (remote backends re-encode those pixels as PNG).
 */
import { errorToJSON, type ErrorCode } from '../core/errors.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import type { GenerationOptions, GenerationResult, VisionLanguageGenerator } from '../models/capabilities.js';
import type { ViewOptions } from '../transforms/index.js';
import { prepareInput } from './batch.js';

/** Result for one file: the generation, the question and the research-use notice. */
export interface GenerateFileResult extends GenerationResult {
  /** The local file (recorded here only; never sent to a generator). */
  file: string;
  prompt: string;
  /** Size of the view the model saw. */
  view: { width: number; height: number };
  notice: string;
}

/** A file that could not be processed. */
export interface GenerateFileError {
  file: string;
  error: { code: ErrorCode; message: string };
}

/** Options of `generateForFile`. */
export interface GenerateFileOptions extends GenerationOptions {
  view?: ViewOptions;
}

/** Generate text for one file. Errors (unreadable file, refused request) are thrown typed. */
export async function generateForFile(
  generator: VisionLanguageGenerator,
  file: string,
  prompt: string,
  opts: GenerateFileOptions = {},
): Promise<GenerateFileResult> {
  const { view, ...generation } = opts;
  const rgb = (await prepareInput(file, undefined, view ? { view } : {})).rgb!;
  const result = await generator.generate({ images: [rgb], prompt }, generation);
  return { file, prompt, view: { width: rgb.width, height: rgb.height }, ...result, notice: RESEARCH_NOTICE };
}

/**
 * Generate for several files in turn; a file that fails gets a `GenerateFileError` and the batch
 * goes on, except for errors that would fail every file the same way (privacy guard, key, budget).
 */
export async function generateForFiles(
  generator: VisionLanguageGenerator,
  files: string[],
  prompt: string,
  opts: GenerateFileOptions & { onFileStart?: (file: string, index: number) => void } = {},
): Promise<Array<GenerateFileResult | GenerateFileError>> {
  const out: Array<GenerateFileResult | GenerateFileError> = [];
  for (let i = 0; i < files.length; i++) {
    opts.onFileStart?.(files[i], i);
    try {
      out.push(await generateForFile(generator, files[i], prompt, opts));
    } catch (e) {
      const err = errorToJSON(e, files[i]);
      if (['E_REMOTE_NOT_ALLOWED', 'E_REMOTE_AUTH', 'E_REMOTE_BUDGET'].includes(err.code)) throw e;
      out.push({ file: files[i], error: err });
    }
  }
  return out;
}
