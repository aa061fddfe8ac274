/**
 * PNG / JPEG / TIFF / WebP decoding by sharp (libvips), for Node. Keeps the stored bit depth (8-bit
 * files give 0..255, 16-bit files 0..65535), applies EXIF orientation, drops alpha, converts CMYK to
 * sRGB; multi-page TIFF / animated WebP: the first page.
 */
import sharp from 'sharp';
import { inputError } from '../core/errors.js';
import type { RasterDecoder, RasterFormat } from './platform.js';

type Metadata = Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;

const FORMAT_NAMES: Record<RasterFormat, string> = { png: 'PNG', jpeg: 'JPEG', tiff: 'TIFF', webp: 'WebP' };

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

/** Decode with sharp; the pixel count is checked from the header before decoding. */
export const decodeRasterWithSharp: RasterDecoder = async (bytes, format, source, maxPixels) => {
  const name = FORMAT_NAMES[format];
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const options = { limitInputPixels: maxPixels, failOn: 'warning' as const };

  let meta: Metadata;
  try {
    // header only: the size check below gives the clearer message
    meta = await sharp(input, { ...options, limitInputPixels: false }).metadata();
  } catch (e) {
    throw invalid(source, name, e, maxPixels);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > maxPixels) {
    throw inputError('E_IMAGE_TOO_LARGE', source, `is ${width}x${height} pixels, more than medvlm reads (${maxPixels} per image)`);
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
    throw invalid(source, name, e, maxPixels);
  }
  const { info } = decoded;
  const n = info.width * info.height * info.channels;
  const aligned = new Uint8Array(decoded.data); // copy: typed views need aligned offsets
  return {
    width: info.width,
    height: info.height,
    channels: info.channels,
    bits: DEPTHS[depth].bits,
    sampleType: depth,
    samples: DEPTHS[depth].make(aligned.buffer, 0, n),
    meta: {
      channelsInFile,
      hasAlpha: meta.hasAlpha ?? false,
      colourSpace: meta.space,
      ...(meta.pages && meta.pages > 1 ? { pages: meta.pages } : {}),
      ...(meta.orientation && meta.orientation !== 1 ? { exifOrientation: meta.orientation } : {}),
      ...(meta.density ? { densityDpi: meta.density } : {}),
    },
  };
};

function invalid(source: string, name: string, e: unknown, maxPixels: number): Error {
  const detail = (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
  if (/pixel limit/i.test(detail)) {
    return inputError('E_IMAGE_TOO_LARGE', source, `is larger than medvlm reads (${maxPixels} pixels per image)`, e);
  }
  return inputError('E_RASTER_INVALID', source, `is not a readable ${name} image (${detail})`, e);
}
