/**
 * The decoders that differ between Node and the browser. The readers call them through this seam;
 * each entry installs its own: `platform-node.ts` (sharp/libvips, node:zlib) for Node, and
 * `platform-browser.ts` (fast-png, the browser's own image decoder, fflate) for the browser build.
 * Without an entry, gzip/deflate fall back to fflate (pure JavaScript) and rasters are refused.
 */
import { Gunzip, inflateSync } from 'fflate';
import { DependencyError } from '../core/errors.js';

/** Raster formats medvlm reads. */
export type RasterFormat = 'png' | 'jpeg' | 'tiff' | 'webp';

/** Decoded raster samples, interleaved, in the file's own range and bit depth. */
export interface RasterPixels {
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB); alpha already removed. */
  channels: number;
  /** Bits per sample of `samples` (8, 16, 32 or 64). */
  bits: number;
  /** Sample type name as the decoder reports it (e.g. uchar, ushort). */
  sampleType: string;
  samples: ArrayLike<number>;
  /** Format facts for `MedicalImage.meta` (channels in file, alpha, pages, orientation, ...). */
  meta: Record<string, unknown>;
}

/**
 * Decodes one raster file. Implementations check the pixel count against `maxPixels` from the header
 * before decoding and throw InputErrors (E_RASTER_INVALID, E_IMAGE_TOO_LARGE) naming `source`.
 */
export type RasterDecoder = (bytes: Uint8Array, format: RasterFormat, source: string, maxPixels: number) => Promise<RasterPixels>;

/** Thrown by a {@link IoPlatform.gunzip} that would exceed its output limit. */
export class OutputLimitError extends Error {}

/** What an entry installs. */
export interface IoPlatform {
  /** For messages: "node", "browser". */
  name: string;
  decodeRaster?: RasterDecoder;
  /** Whole gzip file (several members allowed); throws OutputLimitError past `maxBytes`, anything else when corrupt. */
  gunzip(bytes: Uint8Array, maxBytes: number): Uint8Array;
  /** What the start of a gzip stream inflates to (truncated input is fine). */
  gunzipPrefix(bytes: Uint8Array, maxBytes: number): Uint8Array;
  /** Raw deflate (DICOM deflated transfer syntax). */
  inflateRaw(bytes: Uint8Array): Uint8Array;
  /** Read a file by path (Node); absent in the browser, where strings are URLs. */
  readPath?: (path: string) => Promise<Uint8Array>;
  /**
   * Where dcmjs-codecs' `dcmjs-native-codecs.wasm` is (a path or URL). Node finds it next to the
   * package; a bundled browser build must say where it is served.
   */
  dicomCodecsWasm?: string;
}

function streamGunzip(bytes: Uint8Array, maxBytes: number, final: boolean): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const g = new Gunzip((chunk) => {
    total += chunk.length;
    if (total > maxBytes) throw new OutputLimitError(`more than ${maxBytes} bytes`);
    chunks.push(chunk);
  });
  const step = 1 << 16;
  for (let at = 0; at < bytes.length; at += step) g.push(bytes.subarray(at, Math.min(bytes.length, at + step)), final && at + step >= bytes.length);
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** The pure-JavaScript fallbacks (fflate), used by the browser build and until an entry installs its own. */
export const portablePlatform: IoPlatform = {
  name: 'portable',
  gunzip: (bytes, maxBytes) => streamGunzip(bytes, maxBytes, true),
  gunzipPrefix: (bytes, maxBytes) => streamGunzip(bytes, maxBytes, false),
  inflateRaw: (bytes) => inflateSync(bytes),
};

let current: IoPlatform = portablePlatform;

/** Install the decoders of an entry (Node or browser). */
export function setIoPlatform(platform: IoPlatform): void {
  current = platform;
}

/** The installed decoders. */
export function ioPlatform(): IoPlatform {
  return current;
}

/** The installed raster decoder, or E_DEPENDENCY when no entry installed one. */
export function rasterDecoder(): RasterDecoder {
  if (!current.decodeRaster) {
    throw new DependencyError(
      'E_DEPENDENCY',
      `no PNG/JPEG decoder is installed (${current.name} platform): import medvlm through 'medvlm' (Node) or 'medvlm/browser' so that one is`,
    );
  }
  return current.decodeRaster;
}
