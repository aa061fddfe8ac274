/**
 * Raster decoding in the browser: PNG by fast-png (every bit depth, so 16-bit PNGs keep their
 * range, as in Node), JPEG and WebP by the browser's own decoder (`createImageBitmap` on an
 * `OffscreenCanvas`, 8-bit sRGB). TIFF is not decoded in the browser.
 */
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import { inputError } from '../core/errors.js';
import type { RasterDecoder, RasterPixels } from './platform.js';

function tooLarge(source: string, width: number, height: number, maxPixels: number): Error {
  return inputError('E_IMAGE_TOO_LARGE', source, `is ${width}x${height} pixels, more than medvlm reads (${maxPixels} per image)`);
}

/** Interleaved samples without the alpha channel. */
function dropAlpha(data: ArrayLike<number>, pixels: number, channels: number, make: (n: number) => Uint8Array | Uint16Array): Uint8Array | Uint16Array {
  const keep = channels - 1;
  const out = make(pixels * keep);
  for (let p = 0; p < pixels; p++) for (let c = 0; c < keep; c++) out[p * keep + c] = data[p * channels + c];
  return out;
}

/** PNG header width/height (IHDR), read before decoding. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes.length >= 24 ? { width: v.getUint32(16), height: v.getUint32(20) } : { width: 0, height: 0 };
}

/** Decode a PNG with fast-png (pure JavaScript; also runs in Node, where tests compare it with sharp). */
export function decodePngPixels(bytes: Uint8Array, source: string, maxPixels: number): RasterPixels {
  const size = pngSize(bytes);
  if (size.width * size.height > maxPixels) throw tooLarge(source, size.width, size.height, maxPixels);
  let png;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw inputError('E_RASTER_INVALID', source, `is not a readable PNG image (${e instanceof Error ? e.message : String(e)})`, e);
  }
  let data: ArrayLike<number> = png.data;
  let channels = png.channels;
  let bits: number = png.depth;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = png.palette[0]?.length ?? 3;
    bits = 8;
  }
  const pixels = png.width * png.height;
  const hasAlpha = channels === 2 || channels === 4;
  const make = (n: number) => (bits === 16 ? new Uint16Array(n) : new Uint8Array(n));
  const samples = hasAlpha ? dropAlpha(data, pixels, channels, make) : data;
  return {
    width: png.width,
    height: png.height,
    channels: hasAlpha ? channels - 1 : channels,
    bits: bits === 16 ? 16 : 8,
    sampleType: bits === 16 ? 'ushort' : 'uchar',
    samples,
    meta: { channelsInFile: channels, hasAlpha },
  };
}

/** JPEG / WebP through the browser's decoder. */
async function decodeWithBrowser(bytes: Uint8Array, format: 'jpeg' | 'webp', source: string, maxPixels: number): Promise<RasterPixels> {
  const g = globalThis as unknown as {
    createImageBitmap?: (b: Blob, o?: Record<string, string>) => Promise<{ width: number; height: number; close(): void }>;
    OffscreenCanvas?: new (w: number, h: number) => { getContext(k: '2d'): { drawImage(i: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null };
  };
  if (!g.createImageBitmap || !g.OffscreenCanvas) {
    throw inputError('E_RASTER_INVALID', source, `${format.toUpperCase()} decoding needs a browser (createImageBitmap and OffscreenCanvas are missing here)`);
  }
  let bitmap;
  try {
    bitmap = await g.createImageBitmap(new Blob([bytes as BlobPart], { type: `image/${format}` }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw inputError('E_RASTER_INVALID', source, `is not a readable ${format.toUpperCase()} image (${e instanceof Error ? e.message : String(e)})`, e);
  }
  const { width, height } = bitmap;
  if (width * height > maxPixels) {
    bitmap.close();
    throw tooLarge(source, width, height, maxPixels);
  }
  const ctx = new g.OffscreenCanvas(width, height).getContext('2d');
  if (!ctx) throw inputError('E_RASTER_INVALID', source, 'the browser gave no 2D canvas to decode into');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  return {
    width,
    height,
    channels: 3,
    bits: 8,
    sampleType: 'uchar',
    samples: dropAlpha(rgba, width * height, 4, (n) => new Uint8Array(n)),
    meta: { decoder: 'browser' },
  };
}

/** The browser's raster decoder. */
export const decodeRasterInBrowser: RasterDecoder = async (bytes, format, source, maxPixels) => {
  if (format === 'png') return decodePngPixels(bytes, source, maxPixels);
  if (format === 'jpeg' || format === 'webp') return decodeWithBrowser(bytes, format, source, maxPixels);
  throw inputError('E_RASTER_INVALID', source, 'TIFF files are read by medvlm in Node, not in the browser build');
};
