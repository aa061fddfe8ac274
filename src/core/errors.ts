/**
 * Typed errors with stable codes. Library code throws these; surfaces (CLI, server) map the
 * `code` to an exit code or HTTP status in one place and print `message` without a stack trace.
 */

/** Stable error codes. Never rename one: scripts and the server's clients match on them. */
export type ErrorCode =
  // input files
  | 'E_FILE_NOT_FOUND'
  | 'E_FILE_UNREADABLE'
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
  // a DICOM-only output (Segmentation, Parametric Map) was asked of an input that is not a single DICOM frame
  | 'E_NOT_DICOM'
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
  /** The model has no dense (patch-level) features in the text space. */
  | 'E_MODEL_NO_DENSE'
  /** The model is not a text-prompted or promptable segmenter (or its folder breaks the segmenter contract). */
  | 'E_MODEL_NOT_SEGMENTER'
  /** The model folder has no ONNX files for the requested weights variant (dtype), e.g. no `*_q4.onnx`. */
  | 'E_MODEL_NO_DTYPE'
  // model conversion (medvlm convert)
  | 'E_CHECKPOINT_INVALID'
  | 'E_CHECKPOINT_UNSAFE'
  | 'E_CHECKPOINT_MISMATCH'
  | 'E_RECIPE_UNKNOWN'
  // similar-case index
  | 'E_INDEX_NOT_FOUND'
  | 'E_INDEX_INVALID'
  | 'E_INDEX_MODEL_MISMATCH'
  // remote generators (served and hosted models)
  | 'E_REMOTE_NOT_ALLOWED'
  | 'E_REMOTE_AUTH'
  | 'E_REMOTE_RATE_LIMIT'
  | 'E_REMOTE_BUDGET'
  | 'E_REMOTE_TIMEOUT'
  | 'E_REMOTE_REJECTED'
  | 'E_REMOTE_FAILED'
  | 'E_REMOTE_PROTOCOL'
  // PACS (DICOMweb)
  | 'E_PACS_AUTH'
  | 'E_PACS_NOT_FOUND'
  | 'E_PACS_UNREACHABLE'
  | 'E_PACS_PROTOCOL'
  | 'E_PACS_REJECTED'
  | 'E_INDEX_CONFLICT'
  | 'E_INDEX_WRITE_FAILED'
  | 'E_DISK_FULL'
  // work queue (Redis)
  | 'E_QUEUE_UNREACHABLE'
  | 'E_QUEUE_INVALID'
  | 'E_QUEUE_MODEL_MISMATCH'
  // HTTP server (medvlm serve): the request itself, not its image
  | 'E_HTTP_BAD_REQUEST'
  | 'E_HTTP_UNAUTHORIZED'
  | 'E_HTTP_NOT_FOUND'
  | 'E_HTTP_TOO_LARGE'
  | 'E_HTTP_UNSUPPORTED_MEDIA'
  | 'E_HTTP_BUSY'
  | 'E_HTTP_TIMEOUT'
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

/**
 * An option of a library call is wrong (unknown name, bad value, empty labels). `option` names it in
 * library terms (`labels`, `window`, `dataRoot`); each surface maps it to its own spelling (`--labels`
 * on the command line, a field or query parameter on the server).
 */
export class OptionError extends MedvlmError {
  readonly option?: string;

  constructor(code: ErrorCode, message: string, options?: { file?: string; cause?: unknown; option?: string }) {
    super(code, message, options);
    this.option = options?.option;
  }
}

/** An OptionError whose message starts with the option's library name: `labels: no labels given`. */
export function optionError(option: string, what: string, code: ErrorCode = 'E_BAD_OPTION', file?: string): OptionError {
  return new OptionError(code, `${option}: ${what}`, { option, ...(file ? { file } : {}) });
}

/** A model cannot be found, downloaded or loaded. */
export class ModelLoadError extends MedvlmError {}

/** Running a model failed. */
export class InferenceError extends MedvlmError {}

/**
 * A served or hosted model (OpenAI-compatible server, Anthropic, Gemini) refused, failed or was not
 * allowed to be called. `status` is the HTTP status when there was a response.
 */
export class RemoteError extends MedvlmError {
  readonly status?: number;
  /** HTTP attempts made for the call that failed (retries included). */
  readonly attempts?: number;

  constructor(code: ErrorCode, message: string, options?: { status?: number; attempts?: number; cause?: unknown }) {
    super(code, message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.status = options?.status;
    this.attempts = options?.attempts;
  }
}

/**
 * A PACS (DICOMweb server) refused, could not be reached, or answered something that is not DICOMweb.
 * `status` is the HTTP status when there was a response.
 */
export class PacsError extends MedvlmError {
  readonly status?: number;

  constructor(code: ErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(code, message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.status = options?.status;
  }
}

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
