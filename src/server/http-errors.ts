/**
 * The server's one place that turns errors into HTTP answers: a MedvlmError code → status map, and
 * Fastify's own errors (body too large, bad JSON, truncated multipart) → medvlm codes. The body is
 * always `{error: {code, message[, option]}}`; no stack trace ever leaves the process.
 */
import { isMedvlmError, MedvlmError, OptionError, type ErrorCode } from '../core/errors.js';

/** HTTP status of every error code. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  E_FILE_NOT_FOUND: 404,
  E_FILE_UNREADABLE: 422,
  E_FILE_EMPTY: 400,
  E_FORMAT_UNKNOWN: 415,
  E_DICOM_INVALID: 422,
  E_DICOM_NO_PIXELS: 422,
  E_DICOM_UNSUPPORTED: 415,
  E_DECODE_FAILED: 422,
  E_IMAGE_TOO_LARGE: 413,
  E_NIFTI_INVALID: 422,
  E_GZIP_INVALID: 422,
  E_RASTER_INVALID: 422,
  E_DATASET_INVALID: 422,
  E_NOT_DICOM: 422,
  E_BAD_OPTION: 400,
  E_LABELS_EMPTY: 400,
  E_TEMPLATES_INVALID: 400,
  E_OUTPUT_EXISTS: 409,
  E_MODEL_NOT_FOUND: 503,
  E_MODEL_INVALID: 503,
  E_MODEL_OFFLINE: 503,
  E_INFERENCE_FAILED: 500,
  // the model lacks the asked capability (dense features, segmentation): the request cannot be served by it
  E_MODEL_NO_DENSE: 422,
  E_MODEL_NOT_SEGMENTER: 422,
  E_MODEL_NO_DTYPE: 422,
  E_INDEX_NOT_FOUND: 503,
  E_INDEX_INVALID: 503,
  E_INDEX_MODEL_MISMATCH: 503,
  E_REMOTE_NOT_ALLOWED: 403,
  E_REMOTE_AUTH: 502,
  E_REMOTE_RATE_LIMIT: 503,
  E_REMOTE_BUDGET: 503,
  E_REMOTE_TIMEOUT: 504,
  E_REMOTE_REJECTED: 502,
  E_REMOTE_FAILED: 502,
  E_REMOTE_PROTOCOL: 502,
  E_PACS_AUTH: 502,
  E_PACS_NOT_FOUND: 404,
  E_PACS_UNREACHABLE: 502,
  E_PACS_PROTOCOL: 502,
  E_PACS_REJECTED: 502,
  E_INDEX_CONFLICT: 503,
  E_INDEX_WRITE_FAILED: 503,
  E_DISK_FULL: 507,
  E_QUEUE_UNREACHABLE: 503,
  E_QUEUE_INVALID: 400,
  E_QUEUE_MODEL_MISMATCH: 409,
  E_CHECKPOINT_INVALID: 422,
  E_CHECKPOINT_UNSAFE: 422,
  E_CHECKPOINT_MISMATCH: 422,
  E_RECIPE_UNKNOWN: 422,
  E_HTTP_BAD_REQUEST: 400,
  E_HTTP_UNAUTHORIZED: 401,
  E_HTTP_NOT_FOUND: 404,
  E_HTTP_TOO_LARGE: 413,
  E_HTTP_UNSUPPORTED_MEDIA: 415,
  E_HTTP_BUSY: 503,
  E_HTTP_TIMEOUT: 503,
  E_DEPENDENCY: 500,
  E_INTERNAL: 500,
};

/** An error about the HTTP request itself; `retryAfter` (seconds) becomes a `Retry-After` header. */
export class HttpError extends MedvlmError {
  readonly retryAfter?: number;

  constructor(code: ErrorCode, message: string, options?: { retryAfter?: number; cause?: unknown }) {
    super(code, message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.retryAfter = options?.retryAfter;
  }
}

/** The JSON body of an error answer. */
export interface ErrorReply {
  error: { code: ErrorCode; message: string; option?: string };
}

/** Fastify's and its plugins' error codes that describe a bad request, with the medvlm code and a fixed message. */
const FASTIFY_CODES: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['E_HTTP_TOO_LARGE', 'the request body is larger than the server accepts'],
  FST_REQ_FILE_TOO_LARGE: ['E_HTTP_TOO_LARGE', 'the uploaded file is larger than the server accepts'],
  FST_FILES_LIMIT: ['E_HTTP_BAD_REQUEST', 'send one file per request'],
  FST_FIELDS_LIMIT: ['E_HTTP_BAD_REQUEST', 'too many form fields'],
  FST_PARTS_LIMIT: ['E_HTTP_BAD_REQUEST', 'too many form parts'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['E_HTTP_UNSUPPORTED_MEDIA', 'unsupported Content-Type (send multipart/form-data, raw image bytes or JSON)'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['E_HTTP_BAD_REQUEST', 'the JSON body is empty'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['E_HTTP_BAD_REQUEST', 'the Content-Length does not match the body'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: ['E_HTTP_BAD_REQUEST', 'the request is not multipart/form-data'],
  FST_ERR_VALIDATION: ['E_HTTP_BAD_REQUEST', 'the request does not match the endpoint schema'],
};

/** Map anything thrown while answering a request to a status, headers and the error body. */
export function toHttpError(e: unknown): { status: number; headers: Record<string, string>; body: ErrorReply } {
  if (isMedvlmError(e)) {
    const status = HTTP_STATUS[e.code] ?? 500;
    const headers: Record<string, string> = e instanceof HttpError && e.retryAfter !== undefined ? { 'retry-after': String(e.retryAfter) } : {};
    const option = e instanceof OptionError && e.option ? { option: e.option } : {};
    const message = status >= 500 && e.code === 'E_INTERNAL' ? 'internal error' : e.message;
    return { status, headers, body: { error: { code: e.code, message, ...option } } };
  }
  const fastifyCode = (e as { code?: unknown }).code;
  const known = typeof fastifyCode === 'string' ? FASTIFY_CODES[fastifyCode] : undefined;
  if (known) {
    const validation = fastifyCode === 'FST_ERR_VALIDATION' && e instanceof Error ? `: ${e.message}` : '';
    return { status: HTTP_STATUS[known[0]], headers: {}, body: { error: { code: known[0], message: known[1] + validation } } };
  }
  const status = (e as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // a client error reported by Fastify or busboy (bad JSON, truncated multipart): never echo internals
    const code: ErrorCode = status === 413 ? 'E_HTTP_TOO_LARGE' : status === 415 ? 'E_HTTP_UNSUPPORTED_MEDIA' : 'E_HTTP_BAD_REQUEST';
    return { status: HTTP_STATUS[code], headers: {}, body: { error: { code, message: 'the request could not be read (malformed or truncated body)' } } };
  }
  return { status: 500, headers: {}, body: { error: { code: 'E_INTERNAL', message: 'internal error' } } };
}
