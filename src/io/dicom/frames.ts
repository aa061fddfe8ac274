/** Locate the bytes of each frame in native or encapsulated pixel data. */
import dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { inputError } from '../../core/errors.js';
import type { PixelAttributes } from './attributes.js';
import { messageOf } from './dataset.js';
import type { PixelEncoding } from './syntaxes.js';

/** Bytes one native frame occupies (YBR_FULL_422 stores two samples per pixel). */
export function nativeFrameBytes(a: PixelAttributes): number {
  const samples = a.photometric === 'YBR_FULL_422' && a.samplesPerPixel === 3 ? 2 : a.samplesPerPixel;
  return a.rows * a.columns * samples * (a.bitsAllocated / 8);
}

/** The bytes of native frame `index`; throws "truncated" when the file ends inside the pixel data. */
export function nativeFrame(ds: DataSet, el: Element, a: PixelAttributes, index: number, source: string): Uint8Array {
  const size = nativeFrameBytes(a);
  const start = el.dataOffset + index * size;
  const available = ds.byteArray.length - el.dataOffset;
  if (start + size > ds.byteArray.length) {
    throw inputError(
      'E_DICOM_INVALID',
      source,
      `truncated pixel data: ${a.frames} frame(s) of ${a.rows}x${a.columns} need ${size * a.frames} bytes, the file holds ${available}`,
    );
  }
  return ds.byteArray.subarray(start, start + size);
}

function startsFrame(encoding: PixelEncoding, bytes: Uint8Array, position: number): boolean {
  const b0 = bytes[position];
  const b1 = bytes[position + 1];
  if (encoding === 'jpeg2000') {
    return (b0 === 0xff && b1 === 0x4f) || (b0 === 0x00 && b1 === 0x00 && bytes[position + 4] === 0x6a);
  }
  return b0 === 0xff && b1 === 0xd8;
}

/**
 * Index of the first fragment of every frame: from the basic offset table, or one fragment per frame,
 * or by finding the codestream start markers.
 */
function frameStartFragments(ds: DataSet, el: Element, frames: number, encoding: PixelEncoding, source: string): number[] {
  const fragments = el.fragments ?? [];
  if (fragments.length === 0) throw inputError('E_DICOM_INVALID', source, 'encapsulated pixel data has no fragments');
  const bot = el.basicOffsetTable ?? [];
  if (bot.length >= frames) {
    return bot.slice(0, frames).map((offset, f) => {
      const i = fragments.findIndex((fr) => fr.offset === offset);
      if (i < 0) throw inputError('E_DICOM_INVALID', source, `basic offset table entry of frame ${f + 1} points to no fragment`);
      return i;
    });
  }
  if (frames === 1) return [0];
  if (fragments.length === frames) return fragments.map((_, i) => i);
  if (encoding === 'rle') {
    throw inputError('E_DICOM_INVALID', source, `RLE data has ${fragments.length} fragments for ${frames} frames`);
  }
  const starts: number[] = [];
  fragments.forEach((fr, i) => {
    if (startsFrame(encoding, ds.byteArray, fr.position)) starts.push(i);
  });
  if (starts.length !== frames) {
    throw inputError(
      'E_DICOM_INVALID',
      source,
      `cannot find the ${frames} frames among ${fragments.length} fragments (no basic offset table)`,
    );
  }
  return starts;
}

/** Split encapsulated pixel data into one byte array per frame. */
export function encapsulatedFrames(
  ds: DataSet,
  el: Element,
  a: PixelAttributes,
  encoding: PixelEncoding,
  source: string,
): Uint8Array[] {
  const fragments = el.fragments ?? [];
  for (const fr of fragments) {
    if (fr.position + fr.length > ds.byteArray.length) {
      throw inputError('E_DICOM_INVALID', source, 'truncated pixel data: the file ends inside a compressed fragment');
    }
  }
  const starts = frameStartFragments(ds, el, a.frames, encoding, source);
  const out: Uint8Array[] = [];
  for (let f = 0; f < starts.length; f++) {
    const first = starts[f];
    const end = f + 1 < starts.length ? starts[f + 1] : fragments.length;
    try {
      out.push(dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, first, end - first));
    } catch (e) {
      throw inputError('E_DICOM_INVALID', source, `frame ${f + 1}: cannot read its fragments (${messageOf(e)})`, e);
    }
  }
  return out;
}
