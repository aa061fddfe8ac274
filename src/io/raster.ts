/**
 * PNG / JPEG / TIFF / WebP into a `MedicalImage`. The platform's decoder (sharp in Node, see
 * platform.ts) produces the samples; this module checks the signature, keeps the file's own range
 * (8-bit files give 0..255, 16-bit files 0..65535), and gives channels 1 for greyscale files and
 * for colour files whose three channels are equal everywhere, channels 3 (sRGB) otherwise.
 */
import { inputError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { rasterDecoder, type RasterFormat } from './platform.js';
import type { MedicalImage } from './types.js';

export type { RasterFormat };

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
  const px = await rasterDecoder()(bytes, format, source, LIMITS.maxPixelsPerFrame);
  if (px.channels !== 1 && px.channels !== 3) {
    throw inputError('E_RASTER_INVALID', source, `decodes to ${px.channels} channels; medvlm reads grey or RGB`);
  }
  const n = px.width * px.height * px.channels;
  let channels: 1 | 3 = px.channels;
  let data: Float32Array;
  if (channels === 3 && channelsEqual(px.samples, n)) {
    channels = 1;
    data = new Float32Array(n / 3);
    for (let i = 0, j = 0; j < n; i++, j += 3) data[i] = px.samples[j];
  } else {
    data = Float32Array.from(px.samples);
  }
  return {
    source,
    format,
    data,
    width: px.width,
    height: px.height,
    depth: 1,
    timepoints: 1,
    channels,
    shape: channels === 1 ? [px.height, px.width] : [px.height, px.width, 3],
    spacing: [1, 1, 1],
    photometric: channels === 1 ? 'MONOCHROME2' : 'RGB',
    invertForDisplay: false,
    windows: [],
    meta: { format, bitDepth: px.bits, sampleType: px.sampleType, ...px.meta },
    phi: {},
  };
}

/** True when an interleaved RGB buffer has R = G = B at every pixel. */
function channelsEqual(s: ArrayLike<number>, n: number): boolean {
  for (let i = 0; i < n; i += 3) if (s[i] !== s[i + 1] || s[i] !== s[i + 2]) return false;
  return true;
}
