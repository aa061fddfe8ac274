/**
 * PNG / JPEG / TIFF / WebP reader (decoding by sharp/libvips).
 *
 * Values are kept in the file's own range: 8-bit files give 0..255, 16-bit files 0..65535 (no
 * rescaling to 8 bits). Greyscale files, and colour files whose three channels are equal
 * everywhere, give channels 1; other colour files give channels 3 (sRGB; CMYK is converted); alpha
 * is dropped. EXIF orientation is applied (as viewers do). Multi-page TIFF / animated WebP: the
 * first page only (`meta.pages` says how many there are).
 */
import sharp from 'sharp';
import { inputError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import type { MedicalImage } from './types.js';

type Metadata = Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;

/** Raster formats this reader accepts. */
export type RasterFormat = 'png' | 'jpeg' | 'tiff' | 'webp';

const FORMAT_NAMES: Record<RasterFormat, string> = { png: 'PNG', jpeg: 'JPEG', tiff: 'TIFF', webp: 'WebP' };

/** The raster format of `bytes` by its magic number, or null when it is none of PNG/JPEG/TIFF/WebP. */
export function isRaster(bytes: Uint8Array): RasterFormat | null {
  const b = bytes;
  const starts = (sig: number[], at = 0): boolean => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  // classic TIFF (42) and BigTIFF (43), both byte orders
  if (starts([0x49, 0x49, 0x2a, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (starts([0x49, 0x49, 0x2b, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2b])) return 'tiff';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return null;
}

/** Sample depths libvips reports, with the typed array each decodes into. */
const DEPTHS = {
  uchar: { bits: 8, make: (b: ArrayBuffer, o: number, n: number) => new Uint8Array(b, o, n) },
  char: { bits: 8, make: (b: ArrayBuffer, o: number, n: number) => new Int8Array(b, o, n) },
  ushort: { bits: 16, make: (b: ArrayBuffer, o: number, n: number) => new Uint16Array(b, o, n) },
  short: { bits: 16, make: (b: ArrayBuffer, o: number, n: number) => new Int16Array(b, o, n) },
  uint: { bits: 32, make: (b: ArrayBuffer, o: number, n: number) => new Uint32Array(b, o, n) },
  int: { bits: 32, make: (b: ArrayBuffer, o: number, n: number) => new Int32Array(b, o, n) },
  float: { bits: 32, make: (b: ArrayBuffer, o: number, n: number) => new Float32Array(b, o, n) },
  double: { bits: 64, make: (b: ArrayBuffer, o: number, n: number) => new Float64Array(b, o, n) },
} as const;
type Depth = keyof typeof DEPTHS;

/**
 * Decode a raster image.
 *
 * @param format what the caller believes the file is (from the name or {@link isRaster}); the
 *   bytes must agree
 * @throws InputError E_RASTER_INVALID (wrong signature, corrupt or truncated data),
 *   E_IMAGE_TOO_LARGE (dimensions beyond {@link LIMITS}, checked from the header before decoding)
 */
export async function readRaster(bytes: Uint8Array, source: string, format: RasterFormat): Promise<MedicalImage> {
  const name = FORMAT_NAMES[format];
  const sniffed = isRaster(bytes);
  if (sniffed !== format) {
    const what = sniffed ? `a ${FORMAT_NAMES[sniffed]} file` : 'no known image signature';
    throw inputError('E_RASTER_INVALID', source, `is not a ${name} file (found ${what})`);
  }
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const options = { limitInputPixels: LIMITS.maxPixelsPerFrame, failOn: 'warning' as const };

  let meta: Metadata;
  try {
    // header only: the size check below gives the clearer message
    meta = await sharp(input, { ...options, limitInputPixels: false }).metadata();
  } catch (e) {
    throw invalid(source, name, e);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > LIMITS.maxPixelsPerFrame) {
    throw inputError(
      'E_IMAGE_TOO_LARGE',
      source,
      `is ${width}x${height} pixels, more than medvlm reads (${LIMITS.maxPixelsPerFrame} per image)`,
    );
  }
  const depth: Depth = (meta.depth && meta.depth in DEPTHS ? meta.depth : 'uchar') as Depth;
  const channelsInFile = meta.channels ?? 0;
  const colourInFile = channelsInFile - (meta.hasAlpha ? 1 : 0) >= 3;

  let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    let pipe = sharp(input, options).autoOrient().removeAlpha();
    // keep the stored bit depth: libvips would otherwise convert to 8-bit sRGB
    if (depth === 'uchar') pipe = pipe.toColourspace(colourInFile ? 'srgb' : 'b-w');
    else if (depth === 'ushort') pipe = pipe.toColourspace(colourInFile ? 'rgb16' : 'grey16');
    decoded = await pipe.raw({ depth }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw invalid(source, name, e);
  }
  const { info } = decoded;
  if (info.channels !== 1 && info.channels !== 3) {
    throw inputError('E_RASTER_INVALID', source, `decodes to ${info.channels} channels; medvlm reads grey or RGB`);
  }
  const n = info.width * info.height * info.channels;
  const aligned = new Uint8Array(decoded.data); // copy: typed views need aligned offsets
  const samples = DEPTHS[depth].make(aligned.buffer, 0, n);

  let channels: 1 | 3 = info.channels;
  let data: Float32Array;
  if (channels === 3 && channelsEqual(samples)) {
    channels = 1;
    data = new Float32Array(n / 3);
    for (let i = 0, j = 0; j < n; i++, j += 3) data[i] = samples[j];
  } else {
    data = Float32Array.from(samples);
  }

  return {
    source,
    format,
    data,
    width: info.width,
    height: info.height,
    depth: 1,
    timepoints: 1,
    channels,
    shape: channels === 1 ? [info.height, info.width] : [info.height, info.width, 3],
    spacing: [1, 1, 1],
    photometric: channels === 1 ? 'MONOCHROME2' : 'RGB',
    invertForDisplay: false,
    windows: [],
    meta: {
      format,
      bitDepth: DEPTHS[depth].bits,
      sampleType: depth,
      channelsInFile,
      hasAlpha: meta.hasAlpha ?? false,
      colourSpace: meta.space,
      ...(meta.pages && meta.pages > 1 ? { pages: meta.pages } : {}),
      ...(meta.orientation && meta.orientation !== 1 ? { exifOrientation: meta.orientation } : {}),
      ...(meta.density ? { densityDpi: meta.density } : {}),
    },
    phi: {},
  };
}

/** True when an interleaved RGB buffer has R = G = B at every pixel. */
function channelsEqual(s: ArrayLike<number>): boolean {
  for (let i = 0; i < s.length; i += 3) if (s[i] !== s[i + 1] || s[i] !== s[i + 2]) return false;
  return true;
}

function invalid(source: string, name: string, e: unknown): Error {
  const detail = (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
  if (/pixel limit/i.test(detail)) {
    return inputError('E_IMAGE_TOO_LARGE', source, `is larger than medvlm reads (${LIMITS.maxPixelsPerFrame} pixels per image)`, e);
  }
  return inputError('E_RASTER_INVALID', source, `is not a readable ${name} image (${detail})`, e);
}
