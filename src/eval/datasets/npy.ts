/**
 * Readers for NumPy `.npy` arrays and `.npz` archives (a zip of `.npy` files, stored or deflated),
 * enough for MedMNIST: little-endian numeric dtypes, C order. Zip entries are inflated with node's
 * zlib (`inflateRawSync`); ZIP64 sizes and offsets in the central directory are understood.
 */
import { inflateRawSync } from 'node:zlib';
import { inputError } from '../../core/errors.js';

/** Typed arrays an `.npy` file can decode into. */
export type NpyData = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** A decoded `.npy` array: dtype string as in the header (e.g. `|u1`, `<f4`), shape, values in C order. */
export interface NpyArray {
  dtype: string;
  shape: number[];
  data: NpyData;
}

const DTYPES: Record<string, { size: number; make: (buf: ArrayBuffer, off: number, n: number) => NpyData }> = {
  u1: { size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  b1: { size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  i1: { size: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  u2: { size: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  i2: { size: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  u4: { size: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  i4: { size: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  f4: { size: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  f8: { size: 8, make: (b, o, n) => new Float64Array(b, o, n) },
};

/** int64 arrays (NumPy's default integer) are converted to Int32Array after a range check. */
function int64ToInt32(bytes: Uint8Array, n: number, source: string): Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 8);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = view.getBigInt64(i * 8, true);
    if (v > 2147483647n || v < -2147483648n) throw inputError('E_DATASET_INVALID', source, `int64 value ${v} at index ${i} does not fit 32 bits`);
    out[i] = Number(v);
  }
  return out;
}

/**
 * Decode one `.npy` file.
 * @throws InputError E_DATASET_INVALID for a bad magic, header, unsupported dtype, Fortran order or short data.
 */
export function readNpy(bytes: Uint8Array, source: string): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || !magic.every((m, i) => bytes[i] === m)) throw inputError('E_DATASET_INVALID', source, 'not a .npy array (no \\x93NUMPY magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw inputError('E_DATASET_INVALID', source, `unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw inputError('E_DATASET_INVALID', source, '.npy arrays in Fortran order are not supported');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const order = descr[0];
  const kind = descr.slice(1);
  const bodyStart = headerStart + headerLen;
  if (order === '>' && !kind.endsWith('1')) throw inputError('E_DATASET_INVALID', source, `big-endian dtype ${descr} is not supported`);
  if (kind === 'i8') {
    if (bytes.length < bodyStart + n * 8) throw inputError('E_DATASET_INVALID', source, `.npy data is truncated: ${n} int64 values need ${n * 8} bytes`);
    return { dtype: descr, shape, data: int64ToInt32(bytes.subarray(bodyStart), n, source) };
  }
  const dt = DTYPES[kind];
  if (!dt) throw inputError('E_DATASET_INVALID', source, `unsupported .npy dtype ${descr} (supported: u1 i1 b1 u2 i2 u4 i4 i8 f4 f8)`);
  if (bytes.length < bodyStart + n * dt.size) {
    throw inputError('E_DATASET_INVALID', source, `.npy data is truncated: shape (${shape.join(', ')}) needs ${n * dt.size} bytes, file has ${bytes.length - bodyStart}`);
  }
  // copy so the typed array is aligned and independent of the archive buffer
  const body = bytes.slice(bodyStart, bodyStart + n * dt.size);
  return { dtype: descr, shape, data: dt.make(body.buffer, 0, n) };
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function zipEntries(bytes: Uint8Array, source: string): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw inputError('E_DATASET_INVALID', source, 'not a .npz archive (no zip end-of-central-directory record)');
  let count = view.getUint16(eocd + 10, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (cdOffset === 0xffffffff || count === 0xffff) {
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== 0x07064b50) throw inputError('E_DATASET_INVALID', source, 'ZIP64 archive without a ZIP64 locator');
    const z64 = Number(view.getBigUint64(locator + 8, true));
    count = Number(view.getBigUint64(z64 + 32, true));
    cdOffset = Number(view.getBigUint64(z64 + 48, true));
  }
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let e = 0; e < count; e++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== 0x02014b50) throw inputError('E_DATASET_INVALID', source, `corrupt zip central directory at entry ${e}`);
    const method = view.getUint16(p + 10, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let localOffset = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extra field: the 64-bit values present are those whose 32-bit field is 0xFFFFFFFF, in this order
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = view.getUint16(x, true);
      const len = view.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        if (size === 0xffffffff) {
          size = Number(view.getBigUint64(q, true));
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(view.getBigUint64(q, true));
          q += 8;
        }
        if (localOffset === 0xffffffff) localOffset = Number(view.getBigUint64(q, true));
      }
      x += 4 + len;
    }
    entries.push({ name, method, compressedSize, size, localOffset });
    p = xEnd + commentLen;
  }
  return entries;
}

/**
 * Decode a `.npz` archive: one `NpyArray` per member, keyed by the name without `.npy`
 * (`train_images.npy` → `train_images`). `only` limits decoding to the named members.
 * @throws InputError E_DATASET_INVALID for a corrupt archive, an unsupported compression method or a bad member.
 */
export function readNpz(bytes: Uint8Array, source: string, only?: string[]): Map<string, NpyArray> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, NpyArray>();
  for (const e of zipEntries(bytes, source)) {
    const key = e.name.replace(/\.npy$/, '');
    if (only && !only.includes(key)) continue;
    const where = `${source}:${e.name}`;
    if (view.getUint32(e.localOffset, true) !== 0x04034b50) throw inputError('E_DATASET_INVALID', where, 'corrupt zip local header');
    const start = e.localOffset + 30 + view.getUint16(e.localOffset + 26, true) + view.getUint16(e.localOffset + 28, true);
    const packed = bytes.subarray(start, start + e.compressedSize);
    let raw: Uint8Array;
    if (e.method === 0) raw = packed;
    else if (e.method === 8) {
      try {
        raw = new Uint8Array(inflateRawSync(packed));
      } catch (err) {
        throw inputError('E_DATASET_INVALID', where, `cannot inflate: ${(err as Error).message}`, err);
      }
    } else throw inputError('E_DATASET_INVALID', where, `unsupported zip compression method ${e.method} (expected stored or deflate)`);
    if (raw.length !== e.size) throw inputError('E_DATASET_INVALID', where, `member is ${raw.length} bytes, the directory says ${e.size}`);
    out.set(key, readNpy(raw, where));
  }
  return out;
}
