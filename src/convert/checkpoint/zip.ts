/**
 * A minimal zip reader for PyTorch's checkpoint archives: the central directory (with zip64
 * records), stored (uncompressed) and deflated entries. Entries are views into the file's bytes.
 */
import { inflateRawSync } from 'node:zlib';
import { ConvertError } from '../../core/errors.js';

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** True when the bytes start with a zip local file header. */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** One archive member. */
export interface ZipEntry {
  name: string;
  /** The member's (decompressed) bytes. */
  read(): Uint8Array;
}

/** The members of a zip archive by name. `file` names it in errors. */
export function readZipDirectory(bytes: Uint8Array, file: string): Map<string, ZipEntry> {
  const bad = (what: string): ConvertError =>
    new ConvertError('E_CHECKPOINT_INVALID', `${file}: not a readable zip archive (${what}): the file is truncated or corrupt`, { file });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 22 - 65_535); p--) {
    if (view.getUint32(p, true) === EOCD) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record');
  let count = view.getUint16(eocd + 10, true);
  let dirOffset = view.getUint32(eocd + 16, true);
  if (eocd >= 20 && view.getUint32(eocd - 20, true) === ZIP64_LOCATOR) {
    const rec = Number(view.getBigUint64(eocd - 12, true));
    if (rec + 56 > bytes.length || view.getUint32(rec, true) !== ZIP64_EOCD) throw bad('bad zip64 record');
    count = Number(view.getBigUint64(rec + 32, true));
    dirOffset = Number(view.getBigUint64(rec + 48, true));
  }
  const entries = new Map<string, ZipEntry>();
  let p = dirOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL) throw bad('bad central directory entry');
    const method = view.getUint16(p + 10, true);
    let compressed = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    let local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLength));
    // zip64 extended information: the 0xFFFFFFFF fields, in order, as 8-byte values.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = Number(view.getBigUint64(q, true)); q += 8; }
        if (compressed === 0xffffffff) { compressed = Number(view.getBigUint64(q, true)); q += 8; }
        if (local === 0xffffffff) { local = Number(view.getBigUint64(q, true)); }
      }
      e += 4 + len;
    }
    p = extraEnd + commentLength;
    const entryName = name;
    const at = local;
    const [m, c] = [method, compressed];
    if (m === 0 && compressed !== size) throw bad(`stored member ${name} has different sizes`);
    entries.set(name, {
      name,
      read: () => {
        if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL) throw bad(`bad local header of ${entryName}`);
        const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
        if (start + c > bytes.length) throw bad(`member ${entryName} reaches past the end of the file`);
        const raw = bytes.subarray(start, start + c);
        if (m === 0) return raw;
        if (m === 8) return new Uint8Array(inflateRawSync(raw));
        throw bad(`member ${entryName} uses compression method ${m}`);
      },
    });
  }
  return entries;
}
