import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { isMedvlmError } from '../../src/core/errors.js';
import { isRaster, readRaster, type RasterFormat } from '../../src/io/raster.js';
import {
  MEDPIX_IMAGES,
  RASTER_CORPUS,
  dcmtkSkipReason,
  decodeJpegWithDcmtk,
  ensureRasterFixtures,
  rasterFixturesSkipReason,
  readNpy,
} from './fixtures.js';

const fixturesSkip = rasterFixturesSkipReason();
if (fixturesSkip) console.warn(`[test/raster] ${fixturesSkip}`);
const jpegSkip = dcmtkSkipReason();
if (jpegSkip) console.warn(`[test/raster] ${jpegSkip}`);

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(isMedvlmError(e), 'expected a typed medvlm error').toBe(true);
  return e as { code: string; message: string };
}

describe.skipIf(fixturesSkip !== null)('readRaster matches files written by numpy + zlib', () => {
  beforeAll(() => {
    ensureRasterFixtures();
  });

  const cases: [string, RasterFormat, 1 | 3, number][] = [
    ['grey8.png', 'png', 1, 8],
    ['grey16.png', 'png', 1, 16],
    ['rgb8.png', 'png', 3, 8],
    ['rgba8.png', 'png', 3, 8],
    ['grey_as_rgb8.png', 'png', 1, 8],
    ['rgb16.png', 'png', 3, 16],
    ['grey8.tif', 'tiff', 1, 8],
    ['grey16.tif', 'tiff', 1, 16],
    ['rgb8.tif', 'tiff', 3, 8],
  ];

  it.each(cases)('%s: every sample equals the written value', async (name, format, channels, bits) => {
    const bytes = readFileSync(join(RASTER_CORPUS, name));
    expect(isRaster(bytes)).toBe(format);
    const img = await readRaster(bytes, name, format);
    const ref = readNpy(join(RASTER_CORPUS, `${name}.npy`));
    const [h, w] = ref.shape;
    expect([img.height, img.width, img.channels]).toEqual([h, w, channels]);
    expect(img.shape).toEqual(channels === 1 ? [h, w] : [h, w, 3]);
    expect(img.meta.bitDepth).toBe(bits);
    expect(img.meta.format).toBe(format);
    expect(img.windows).toEqual([]);
    const refChannels = ref.shape[2] ?? 1;
    let mismatches = 0;
    for (let p = 0; p < h * w; p++) {
      for (let c = 0; c < channels; c++) {
        if (img.data[p * channels + c] !== ref.data[p * refChannels + c]) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it('16-bit PNG keeps the full range: pinned corners 0, 65535, 257', async () => {
    const img = await readRaster(readFileSync(join(RASTER_CORPUS, 'grey16.png')), 'grey16.png', 'png');
    expect(img.data[0]).toBe(0);
    expect(img.data[1]).toBe(65535);
    expect(img.data[img.width]).toBe(257);
    expect(img.data[img.width + 1]).toBe((1777 + 1231) % 65536);
    expect(img.meta.channelsInFile).toBe(1);
  });

  it('RGBA: alpha dropped, channelsInFile 4', async () => {
    const img = await readRaster(readFileSync(join(RASTER_CORPUS, 'rgba8.png')), 'rgba8.png', 'png');
    expect(img.meta.channelsInFile).toBe(4);
    expect(img.meta.hasAlpha).toBe(true);
    expect(Array.from(img.data.slice(0, 6))).toEqual([0, 255, 0, 3, 252, 0]);
  });

  it('WebP (lossless, encoded by sharp from the numpy PNG) decodes to the same values', async () => {
    const ref = readNpy(join(RASTER_CORPUS, 'grey8.png.npy'));
    const webp = await sharp(readFileSync(join(RASTER_CORPUS, 'rgb8.png'))).webp({ lossless: true }).toBuffer();
    expect(isRaster(webp)).toBe('webp');
    const img = await readRaster(webp, 'rgb8.webp', 'webp');
    expect(img.channels).toBe(3);
    expect(img.meta.format).toBe('webp');
    // red channel of rgb8 is grey8
    let diff = 0;
    for (let p = 0; p < ref.data.length; p++) diff = Math.max(diff, Math.abs(img.data[p * 3] - ref.data[p]));
    expect(diff).toBe(0);
  });
});

describe.skipIf(jpegSkip !== null)('readRaster decodes real MedPix JPEGs like dcmtk (IJG)', () => {
  const files = ['MPX1024_synpic40275.jpg', 'MPX1009_synpic46283.jpg', 'MPX1154_synpic53549.jpg'];
  it.each(files)('%s: same size, pixels within JPEG IDCT tolerance', async (name) => {
    const path = join(MEDPIX_IMAGES, name);
    const img = await readRaster(readFileSync(path), name, 'jpeg');
    const ref = decodeJpegWithDcmtk(path, join(RASTER_CORPUS, `dcmtk-${name}`));
    expect([img.width, img.height]).toEqual([ref.width, ref.height]);
    expect(img.meta.bitDepth).toBe(8);
    // compare as grey when either side is grey (dcmtk writes PGM for MONOCHROME, PPM for RGB)
    let maxDiff = 0;
    let sumDiff = 0;
    const n = img.width * img.height;
    for (let p = 0; p < n; p++) {
      const a = img.channels === 1 ? img.data[p] : img.data[p * 3];
      const b = ref.channels === 1 ? ref.data[p] : ref.data[p * 3];
      maxDiff = Math.max(maxDiff, Math.abs(a - b));
      sumDiff += Math.abs(a - b);
    }
    expect(maxDiff).toBeLessThanOrEqual(ref.channels === 1 ? 2 : 6);
    expect(sumDiff / n).toBeLessThan(0.5);
  });

  it('a greyscale MedPix JPEG gives channels 1, values 0..255', async () => {
    const img = await readRaster(readFileSync(join(MEDPIX_IMAGES, 'MPX1024_synpic40275.jpg')), 'x.jpg', 'jpeg');
    expect(img.channels).toBe(1);
    expect([img.width, img.height]).toEqual([255, 320]);
    expect(Math.max(...img.data)).toBeLessThanOrEqual(255);
  });
});

describe('readRaster refuses bad input', () => {
  const png = (async () => sharp({ create: { width: 8, height: 6, channels: 3, background: '#336699' } }).png().toBuffer())();

  it('isRaster by magic bytes', async () => {
    expect(isRaster(await png)).toBe('png');
    expect(isRaster(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(isRaster(Uint8Array.from([0x4d, 0x4d, 0x00, 0x2a]))).toBe('tiff');
    expect(isRaster(Uint8Array.from([0x49, 0x49, 0x2a, 0x00]))).toBe('tiff');
    expect(isRaster(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(isRaster(new TextEncoder().encode('RIFF\0\0\0\0WAVEfmt '))).toBe(null);
    expect(isRaster(new Uint8Array(2))).toBe(null);
  });

  it('a single-colour PNG made by sharp reads as channels 3 with the exact colour', async () => {
    const img = await readRaster(await png, 'c.png', 'png');
    expect(img.channels).toBe(3);
    expect(Array.from(img.data.slice(0, 3))).toEqual([0x33, 0x66, 0x99]);
  });

  it('truncated PNG → E_RASTER_INVALID naming the file', async () => {
    const bytes = await png;
    const e = await errorOf(readRaster(bytes.subarray(0, bytes.length - 30), 'scan.png', 'png'));
    expect(e.code).toBe('E_RASTER_INVALID');
    expect(e.message).toMatch(/^scan\.png: is not a readable PNG image/);
  });

  it('corrupt JPEG body → E_RASTER_INVALID', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    const e = await errorOf(readRaster(jpeg.subarray(0, 200), 'cut.jpg', 'jpeg'));
    expect(e.code).toBe('E_RASTER_INVALID');
    expect(e.message).toMatch(/cut\.jpg/);
  });

  it('bytes that are not the claimed format → E_RASTER_INVALID', async () => {
    const e = await errorOf(readRaster(await png, 'photo.jpg', 'jpeg'));
    expect(e.code).toBe('E_RASTER_INVALID');
    expect(e.message).toBe('photo.jpg: is not a JPEG file (found a PNG file)');
  });

  it('huge dimensions in the header → E_IMAGE_TOO_LARGE before decoding', async () => {
    // a valid PNG header claiming 100000 x 100000 (IHDR CRC recomputed)
    const bytes = Buffer.from(await png);
    bytes.writeUInt32BE(100000, 16);
    bytes.writeUInt32BE(100000, 20);
    bytes.writeUInt32BE(crc32(bytes.subarray(12, 29)), 29);
    const e = await errorOf(readRaster(bytes, 'big.png', 'png'));
    expect(e.code).toBe('E_IMAGE_TOO_LARGE');
    expect(e.message).toMatch(/big\.png: is 100000x100000 pixels/);
  });
});

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
