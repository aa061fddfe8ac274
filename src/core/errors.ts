/**
 * Typed errors with stable codes. Library code throws these; surfaces (CLI, server) map the
 * `code` to an exit code or HTTP status in one place and print `message` without a stack trace.
 */

/** Stable error codes. Never rename one: scripts and the server's clients match on them. */
export type ErrorCode =
  // input files
  | 'E_FILE_NOT_FOUND'
  | 'E_FILE_EMPTY'
  | 'E_FORMAT_UNKNOWN'
  | 'E_DICOM_INVALID'
  | 'E_DICOM_NO_PIXELS'
  | 'E_DICOM_UNSUPPORTED'
  | 'E_DECODE_FAILED'
  | 'E_IMAGE_TOO_LARGE'
  | 'E_NIFTI_INVALID'
  | 'E_GZIP_INVALID'
  | 'E_RASTER_INVALID'
  | 'E_DATASET_INVALID'
  // user options
  | 'E_BAD_OPTION'
  | 'E_LABELS_EMPTY'
  | 'E_TEMPLATES_INVALID'
  | 'E_OUTPUT_EXISTS'
  // models
  | 'E_MODEL_NOT_FOUND'
  | 'E_MODEL_INVALID'
  | 'E_MODEL_OFFLINE'
  | 'E_INFERENCE_FAILED'
  // model conversion (medvlm convert)
  | 'E_CHECKPOINT_INVALID'
  | 'E_CHECKPOINT_UNSAFE'
  | 'E_CHECKPOINT_MISMATCH'
  | 'E_RECIPE_UNKNOWN'
  // similar-case index
  | 'E_INDEX_NOT_FOUND'
  | 'E_INDEX_INVALID'
  | 'E_INDEX_MODEL_MISMATCH'
  // environment
  | 'E_DEPENDENCY'
  | 'E_INTERNAL';

/** Base class of every error medvlm throws on purpose. */
export class MedvlmError extends Error {
  readonly code: ErrorCode;
  /** The file the error is about, when there is one. */
  readonly file?: string;

  constructor(code: ErrorCode, message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.file = options?.file;
  }

  /** Plain JSON form shared by CLI `--json`, the server and reports. */
  toJSON(): { code: ErrorCode; message: string; file?: string } {
    return { code: this.code, message: this.message, ...(this.file ? { file: this.file } : {}) };
  }
}

/** A file the user gave cannot be read as what it claims to be. */
export class InputError extends MedvlmError {}

/** A command-line or API option is wrong (unknown name, bad value, empty labels). */
export class OptionError extends MedvlmError {}

/** A model cannot be found, downloaded or loaded. */
export class ModelLoadError extends MedvlmError {}

/** Running a model failed. */
export class InferenceError extends MedvlmError {}

/** A checkpoint cannot be read safely, or does not match the architecture a recipe describes. */
export class ConvertError extends MedvlmError {}

/** A required library or system tool is missing or broken. */
export class DependencyError extends MedvlmError {}

/** Build the message prefix every input error uses: `<file>: <what was wrong>`. */
export function inputError(
  code: ErrorCode,
  file: string,
  what: string,
  cause?: unknown,
): InputError {
  return new InputError(code, `${file}: ${what}`, { file, cause });
}

/** True when `e` is one of medvlm's own typed errors. */
export function isMedvlmError(e: unknown): e is MedvlmError {
  return e instanceof MedvlmError;
}

/** Normalise anything thrown into `{code, message}` (unknown errors become E_INTERNAL). */
export function errorToJSON(e: unknown, file?: string): { code: ErrorCode; message: string } {
  if (isMedvlmError(e)) return { code: e.code, message: e.message };
  const msg = e instanceof Error ? e.message : String(e);
  return { code: 'E_INTERNAL', message: file ? `${file}: ${msg}` : msg };
}
