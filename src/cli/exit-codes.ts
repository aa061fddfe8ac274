import type { ErrorCode } from '../core/errors.js';

/** Process exit codes of the `medvlm` command (documented in the README). */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  input: 3,
  model: 4,
  dependency: 5,
  /** A served or hosted model refused, failed, or was not allowed (E_REMOTE_*). */
  remote: 6,
  /** A PACS refused, could not be reached or answered something that is not DICOMweb (E_PACS_*): also 6, a remote service. */
  pacs: 6,
  /** Also 6: the index or the work queue could not be written or reached now (full disk, busy writer, Redis down): retry once fixed. */
  unavailable: 6,
} as const;

/** The exit code for an error code: one place, used by every command. */
export function exitCodeFor(code: ErrorCode): number {
  if (code === 'E_INTERNAL') return EXIT.internal;
  if (code === 'E_DEPENDENCY') return EXIT.dependency;
  if (code.startsWith('E_REMOTE')) return EXIT.remote;
  if (code.startsWith('E_PACS')) return EXIT.pacs;
  if (code === 'E_DISK_FULL' || code === 'E_INDEX_CONFLICT' || code === 'E_INDEX_WRITE_FAILED' || code === 'E_QUEUE_UNREACHABLE') return EXIT.unavailable;
  if (code.startsWith('E_HTTP')) return EXIT.usage;
  if (code.startsWith('E_MODEL') || code === 'E_INFERENCE_FAILED') return EXIT.model;
  if (code === 'E_BAD_OPTION' || code === 'E_LABELS_EMPTY' || code === 'E_TEMPLATES_INVALID' || code === 'E_OUTPUT_EXISTS') {
    return EXIT.usage;
  }
  // every input code (E_FILE_*, E_DICOM_*, E_NOT_DICOM, ...) is exit 3
  return EXIT.input;
}
