/** Turn the bytes of one frame into stored sample values (masked to BitsStored, sign-extended). */
import type { PixelAttributes } from './attributes.js';

/** Byte layout of one frame's samples. */
export interface SampleLayout {
  bitsAllocated: number;
  bitsStored: number;
  /** Bit position of the least significant stored bit (HighBit + 1 - BitsStored for native data). */
  shift: number;
  signed: boolean;
  littleEndian: boolean;
}

/** Sample layout of native (uncompressed) pixel data. */
export function nativeLayout(a: PixelAttributes, littleEndian: boolean): SampleLayout {
  return {
    bitsAllocated: a.bitsAllocated,
    bitsStored: a.bitsStored,
    shift: a.highBit + 1 - a.bitsStored,
    signed: a.pixelRepresentation === 1,
    littleEndian,
  };
}

/**
 * Read `count` samples from `bytes` into a Float64Array of stored values.
 * Bits outside [shift, shift + bitsStored) are dropped; signed values are sign-extended from the high bit.
 */
export function unpackSamples(bytes: Uint8Array, count: number, layout: SampleLayout): Float64Array {
  const out = new Float64Array(count);
  const { bitsAllocated, bitsStored, shift, signed, littleEndian } = layout;
  const range = 2 ** bitsStored;
  const half = range / 2;
  if (bitsAllocated === 32) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) {
      const raw = view.getUint32(i * 4, littleEndian);
      let v = Math.floor(raw / 2 ** shift) % range;
      if (signed && v >= half) v -= range;
      out[i] = v;
    }
    return out;
  }
  const mask = range - 1;
  if (bitsAllocated === 16) {
    for (let i = 0; i < count; i++) {
      const lo = bytes[2 * i];
      const hi = bytes[2 * i + 1];
      const raw = littleEndian ? lo | (hi << 8) : hi | (lo << 8);
      let v = (raw >>> shift) & mask;
      if (signed && v >= half) v -= range;
      out[i] = v;
    }
    return out;
  }
  for (let i = 0; i < count; i++) {
    let v = (bytes[i] >>> shift) & mask;
    if (signed && v >= half) v -= range;
    out[i] = v;
  }
  return out;
}

/** Swap the bytes of every 16-bit word (big-endian OW data read as 8-bit samples). */
export function swapWordBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    out[i] = bytes[i + 1];
    out[i + 1] = bytes[i];
  }
  if (bytes.length % 2 === 1) out[bytes.length - 1] = bytes[bytes.length - 1];
  return out;
}
