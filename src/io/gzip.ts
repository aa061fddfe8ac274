/**
 * gzip helpers for readers of compressed files (`.nii.gz`). The platform's inflater does the work
 * (node:zlib in Node, fflate in the browser); this module turns its failures into typed errors that
 * name the file, and refuses output beyond a size limit so that a small "gzip bomb" cannot exhaust memory.
 */
import { inputError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { ioPlatform, OutputLimitError } from './platform.js';

/** The largest typed array a JavaScript engine allocates (2^32 - 1 bytes in V8 on 64-bit, less elsewhere). */
const MAX_ARRAY_BYTES = 2 ** 32 - 1;

/**
 * Largest decompressed size accepted by default, in bytes: room for {@link LIMITS.maxTotalSamples}
 * samples of 4 bytes, capped by the largest array the engine can allocate.
 */
export const MAX_GUNZIP_BYTES: number = Math.min(LIMITS.maxTotalSamples * 4, MAX_ARRAY_BYTES);

/** True when `bytes` starts with the gzip magic (1f 8b) and the deflate method byte (08). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 0x08;
}

/**
 * Decompress a whole gzip file (several concatenated members are fine).
 *
 * @param bytes the compressed file
 * @param source file name used in error messages
 * @param maxBytes largest decompressed size accepted (default {@link MAX_GUNZIP_BYTES})
 * @throws InputError E_GZIP_INVALID when the bytes are not gzip or are corrupt/truncated,
 *   E_IMAGE_TOO_LARGE when the output would exceed `maxBytes`
 */
export function gunzipFile(bytes: Uint8Array, source: string, maxBytes: number = MAX_GUNZIP_BYTES): Uint8Array {
  if (!isGzip(bytes)) {
    throw inputError('E_GZIP_INVALID', source, 'is not gzip-compressed data (no 1f 8b 08 signature)');
  }
  const limit = Math.max(1, Math.min(Math.floor(maxBytes), MAX_ARRAY_BYTES));
  try {
    return ioPlatform().gunzip(bytes, limit);
  } catch (e) {
    throw gunzipError(e, source, limit);
  }
}

/**
 * Decompress only the start of a gzip file, e.g. to read a header before deciding how much memory
 * the whole file may take. Returns at most what `compressedPrefix` compressed bytes expand to; the
 * result may be shorter than the real file.
 *
 * @throws InputError E_GZIP_INVALID when the bytes are not gzip or the start is corrupt
 */
export function gunzipPrefix(bytes: Uint8Array, source: string, compressedPrefix = 4096): Uint8Array {
  if (!isGzip(bytes)) {
    throw inputError('E_GZIP_INVALID', source, 'is not gzip-compressed data (no 1f 8b 08 signature)');
  }
  const head = bytes.subarray(0, Math.min(bytes.length, compressedPrefix));
  try {
    return ioPlatform().gunzipPrefix(head, 64 * 1024 * 1024);
  } catch (e) {
    throw gunzipError(e, source, 64 * 1024 * 1024);
  }
}

function gunzipError(e: unknown, source: string, limit: number): Error {
  if (e instanceof OutputLimitError) {
    return inputError('E_IMAGE_TOO_LARGE', source, `decompresses to more than ${limit} bytes; refusing to read it`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return inputError('E_GZIP_INVALID', source, `corrupt gzip data (${msg})`, e);
}
