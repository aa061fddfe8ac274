/** Colour conversions of decoded frames: planar to interleaved, YBR to RGB, palette to RGB. */
import type { DataSet } from 'dicom-parser';
import { inputError } from '../../core/errors.js';

/** Planar (RRR..GGG..BBB) to interleaved (RGBRGB..) samples. */
export function planarToInterleaved(planar: Float64Array, pixels: number): Float64Array {
  const out = new Float64Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    out[3 * i] = planar[i];
    out[3 * i + 1] = planar[pixels + i];
    out[3 * i + 2] = planar[2 * pixels + i];
  }
  return out;
}

function clamp(v: number, max: number): number {
  return v < 0 ? 0 : v > max ? max : v;
}

/** YBR_FULL (interleaved) to RGB in place, ITU-R BT.601 full range as in DICOM PS3.3 C.7.6.3.1.2. */
export function ybrFullToRgb(samples: Float64Array, bitsStored: number): void {
  const max = 2 ** bitsStored - 1;
  const mid = 2 ** (bitsStored - 1);
  for (let i = 0; i + 2 < samples.length; i += 3) {
    const y = samples[i];
    const cb = samples[i + 1] - mid;
    const cr = samples[i + 2] - mid;
    samples[i] = clamp(Math.round(y + 1.402 * cr), max);
    samples[i + 1] = clamp(Math.round(y - 0.344136 * cb - 0.714136 * cr), max);
    samples[i + 2] = clamp(Math.round(y + 1.772 * cb), max);
  }
}

/**
 * Native YBR_FULL_422 (Y1 Y2 Cb Cr per pair of pixels in a row) to interleaved YBR_FULL.
 * `samples` holds rows * columns * 2 values.
 */
export function ybr422ToYbrFull(samples: Float64Array, rows: number, columns: number): Float64Array {
  const out = new Float64Array(rows * columns * 3);
  const pairsPerRow = Math.ceil(columns / 2);
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < pairsPerRow; p++) {
      const s = (r * pairsPerRow + p) * 4;
      const cb = samples[s + 2];
      const cr = samples[s + 3];
      for (let k = 0; k < 2; k++) {
        const x = 2 * p + k;
        if (x >= columns) break;
        const o = (r * columns + x) * 3;
        out[o] = samples[s + k];
        out[o + 1] = cb;
        out[o + 2] = cr;
      }
    }
  }
  return out;
}

/** One channel of a palette colour lookup table, scaled to 0..255. */
interface PaletteChannel {
  entries: Float64Array;
  firstMapped: number;
}

function readPaletteChannel(ds: DataSet, descTag: string, dataTag: string, name: string, source: string, signed: boolean): PaletteChannel {
  const desc = ds.elements[descTag];
  const data = ds.elements[dataTag];
  if (!desc || desc.length < 6 || !data || data.length === 0) {
    throw inputError('E_DICOM_INVALID', source, `PALETTE COLOR image without a complete ${name} palette lookup table`);
  }
  const n = ds.uint16(descTag, 0) || 65536;
  const first = signed ? (ds.int16(descTag, 1) ?? 0) : (ds.uint16(descTag, 1) ?? 0);
  const bits = ds.uint16(descTag, 2) ?? 16;
  const entries = new Float64Array(n);
  const bytes = ds.byteArray;
  if (bits <= 8 && data.length < 2 * n) {
    // 8-bit entries packed two per word: bytes in file order are the entries (little endian).
    for (let i = 0; i < n && i < data.length; i++) entries[i] = bytes[data.dataOffset + i];
  } else {
    const words = Math.min(n, Math.floor(data.length / 2));
    for (let i = 0; i < words; i++) entries[i] = ds.byteArrayParser.readUint16(bytes, data.dataOffset + 2 * i);
    if (bits > 8) {
      // Keep the high byte, as dcmtk does when it renders 16-bit palettes to 8 bits.
      const shift = bits - 8;
      for (let i = 0; i < n; i++) entries[i] = entries[i] >> shift;
    } else {
      for (let i = 0; i < n; i++) if (entries[i] > 255) entries[i] = entries[i] >> 8;
    }
  }
  return { entries, firstMapped: first };
}

/** The three palette channels of a PALETTE COLOR image. */
export interface Palette {
  red: PaletteChannel;
  green: PaletteChannel;
  blue: PaletteChannel;
}

/** Read the red, green and blue palette lookup tables. */
export function readPalette(ds: DataSet, source: string, signedIndices: boolean): Palette {
  return {
    red: readPaletteChannel(ds, 'x00281101', 'x00281201', 'red', source, signedIndices),
    green: readPaletteChannel(ds, 'x00281102', 'x00281202', 'green', source, signedIndices),
    blue: readPaletteChannel(ds, 'x00281103', 'x00281203', 'blue', source, signedIndices),
  };
}

function lookup(ch: PaletteChannel, v: number): number {
  const i = v - ch.firstMapped;
  const last = ch.entries.length - 1;
  return ch.entries[i < 0 ? 0 : i > last ? last : i];
}

/** Map palette indices to interleaved RGB in 0..255. */
export function applyPalette(indices: Float64Array, palette: Palette): Float64Array {
  const out = new Float64Array(indices.length * 3);
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    out[3 * i] = lookup(palette.red, v);
    out[3 * i + 1] = lookup(palette.green, v);
    out[3 * i + 2] = lookup(palette.blue, v);
  }
  return out;
}
