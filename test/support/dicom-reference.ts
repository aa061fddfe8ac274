/**
 * Read the reference decodings of the DICOM corpus: raw stored values written by gdcmraw and
 * binary PPM images written by dcmtk's dcmj2pnm. Deliberately independent of src/io/dicom.
 */
import { readFileSync } from 'node:fs';
import type { CorpusEntry, CorpusReference } from './dicom-corpus.js';

/** Stored values of a gdcmraw dump, masked to BitsStored and sign-extended as PS3.5 8.1.1 defines. */
export function referenceStoredValues(ref: Extract<CorpusReference, { kind: 'stored' }>): Float64Array {
  const buf = readFileSync(ref.file);
  const bytesPer = ref.bitsAllocated / 8;
  const n = Math.floor(buf.length / bytesPer);
  const out = new Float64Array(n);
  const shift = ref.highBit + 1 - ref.bitsStored;
  for (let i = 0; i < n; i++) {
    const word = bytesPer === 1 ? buf[i] : bytesPer === 2 ? buf.readUInt16LE(2 * i) : buf.readUInt32LE(4 * i);
    let v = Math.floor(word / 2 ** shift) % 2 ** ref.bitsStored;
    if (ref.signed && v >= 2 ** (ref.bitsStored - 1)) v -= 2 ** ref.bitsStored;
    out[i] = v;
  }
  return out;
}

/** Width, height and RGB bytes of a binary PPM (P6, maxval 255). */
export function readPpm(file: string): { width: number; height: number; rgb: Uint8Array } {
  const buf = readFileSync(file);
  const tokens: string[] = [];
  let p = 0;
  while (tokens.length < 4) {
    while (/\s/.test(String.fromCharCode(buf[p]))) p++;
    if (buf[p] === 0x23) {
      while (buf[p] !== 0x0a) p++;
      continue;
    }
    let t = '';
    while (!/\s/.test(String.fromCharCode(buf[p]))) t += String.fromCharCode(buf[p++]);
    tokens.push(t);
  }
  p++; // single whitespace after maxval
  const [magic, w, h, max] = tokens;
  if (magic !== 'P6' || max !== '255') throw new Error(`${file}: expected P6 with maxval 255, got ${magic} ${max}`);
  const width = Number(w);
  const height = Number(h);
  return { width, height, rgb: new Uint8Array(buf.subarray(p, p + width * height * 3)) };
}

/** Expected sample values of an image entry, in the units readDicom returns (HU for grey, RGB 0..255 for colour). */
export function expectedSamples(entry: CorpusEntry): Float64Array {
  const ref = entry.reference;
  if (!ref) throw new Error(`${entry.name} has no reference`);
  if (ref.kind === 'rgb') return Float64Array.from(readPpm(ref.file).rgb);
  const stored = referenceStoredValues(ref);
  const out = new Float64Array(stored.length);
  for (let i = 0; i < stored.length; i++) out[i] = Math.fround(stored[i] * entry.rescaleSlope + entry.rescaleIntercept);
  return out;
}
