/**
 * Node's decoders, installed on import: rasters by sharp (libvips), gzip and deflate by node:zlib.
 * Every Node entry (the package root, `medvlm/io`, the CLI, file reading in read.ts) imports this.
 */
import { constants as bufferConstants } from 'node:buffer';
import { constants as zlibConstants, gunzipSync, inflateRawSync } from 'node:zlib';
import { OutputLimitError, setIoPlatform, type IoPlatform } from './platform.js';
import { decodeRasterWithSharp } from './raster-sharp.js';
import { readFileBytes } from './read-file.js';

function zlibLimit(e: unknown): unknown {
  const code = (e as { code?: string } | null)?.code;
  return code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError ? new OutputLimitError(String((e as Error).message)) : e;
}

/** The Node platform (sharp + node:zlib). */
export const nodePlatform: IoPlatform = {
  name: 'node',
  decodeRaster: decodeRasterWithSharp,
  readPath: readFileBytes,
  gunzip(bytes, maxBytes) {
    try {
      const out = gunzipSync(bytes, { maxOutputLength: Math.max(1, Math.min(maxBytes, bufferConstants.MAX_LENGTH)) });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      throw zlibLimit(e);
    }
  },
  gunzipPrefix(bytes, maxBytes) {
    try {
      // Z_SYNC_FLUSH: return what was inflated so far instead of failing on the cut-off end.
      const out = gunzipSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: maxBytes });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      throw zlibLimit(e);
    }
  },
  inflateRaw(bytes) {
    const out = inflateRawSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  },
};

setIoPlatform(nodePlatform);
