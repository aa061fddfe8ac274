/**
 * Encode an 8-bit RGB model view as a fresh PNG (sharp/libvips). The output holds only pixels:
 * the chunks are IHDR, IDAT, IEND and libvips' default pHYs (72 dpi); sharp writes no EXIF, ICC or
 * text chunks unless asked, and the input is raw pixels, so nothing of the source file (DICOM
 * header, file name, patient identifiers) can travel inside it.
 */
import sharp from 'sharp';
import type { RGBImage } from './types.js';

/** PNG bytes of an RGB view (3 channels, 8 bits, no metadata). */
export async function encodeRgbPng(image: RGBImage): Promise<Uint8Array> {
  const pixels = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const png = await sharp(pixels, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
