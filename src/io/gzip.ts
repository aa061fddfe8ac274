/**
 * gzip helpers for readers of compressed files (`.nii.gz`). Node's zlib does the work; this module
 * turns its failures into typed errors that name the file, and refuses output beyond a size limit so
 * that a small "gzip bomb" cannot exhaust memory.
 */
import { constants as bufferConstants } from 'node:buffer';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { inputError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';

/**
 * Largest decompressed size accepted by default, in bytes: room for {@link LIMITS.maxTotalSamples}
 * samples of 4 bytes, capped by the largest Buffer Node can allocate.
 */
export const MAX_GUNZIP_BYTES: number = Math.min(LIMITS.maxTotalSamples * 4, bufferConstants.MAX_LENGTH);

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
  const limit = Math.max(1, Math.min(Math.floor(maxBytes), bufferConstants.MAX_LENGTH));
  try {
    const out = gunzipSync(bytes, { maxOutputLength: limit });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
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
    // Z_SYNC_FLUSH: return what was inflated so far instead of failing on the cut-off end.
    const out = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 64 * 1024 * 1024 });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw gunzipError(e, source, 64 * 1024 * 1024);
  }
}

function gunzipError(e: unknown, source: string, limit: number): Error {
  const code = (e as { code?: string } | null)?.code;
  if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
    return inputError('E_IMAGE_TOO_LARGE', source, `decompresses to more than ${limit} bytes; refusing to read it`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return inputError('E_GZIP_INVALID', source, `corrupt gzip data (${msg})`, e);
}
