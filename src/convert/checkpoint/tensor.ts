/**
 * Tensors read from a checkpoint: element type, shape, and a lazy view of the stored bytes that
 * becomes a contiguous Float32Array on request (fp16/bf16/fp64/integers widened or narrowed to fp32).
 */
import { ConvertError } from '../../core/errors.js';

/** Element types a checkpoint may store. */
export type StoredDtype = 'f32' | 'f16' | 'bf16' | 'f64' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'bool';

/** Bytes per element of each stored type. */
export const DTYPE_BYTES: Record<StoredDtype, number> = { f32: 4, f16: 2, bf16: 2, f64: 8, i64: 8, i32: 4, i16: 2, i8: 1, u8: 1, bool: 1 };

/** One tensor of a checkpoint. */
export interface CheckpointTensor {
  readonly dtype: StoredDtype;
  readonly dims: number[];
  /**
   * The values, row-major contiguous, as fp32. A contiguous, aligned fp32 tensor is returned as a
   * view of the checkpoint's bytes (no copy: a 750 MB checkpoint is not held twice); treat the
   * result as read-only.
   */
  toFloat32(): Float32Array;
}

/** Number of elements of a shape. */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Row-major strides of a shape. */
export function contiguousStrides(dims: readonly number[]): number[] {
  const strides = new Array<number>(dims.length);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
  return strides;
}

/** IEEE half → float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Read element `i` of a little-endian buffer of `dtype` as a number. */
function elementReader(view: DataView, dtype: StoredDtype): (i: number) => number {
  switch (dtype) {
    case 'f32': return (i) => view.getFloat32(4 * i, true);
    case 'f64': return (i) => view.getFloat64(8 * i, true);
    case 'f16': return (i) => halfToFloat(view.getUint16(2 * i, true));
    case 'bf16': {
      const scratch = new DataView(new ArrayBuffer(4));
      return (i) => {
        scratch.setUint32(0, view.getUint16(2 * i, true) << 16, true);
        return scratch.getFloat32(0, true);
      };
    }
    case 'i64': return (i) => Number(view.getBigInt64(8 * i, true));
    case 'i32': return (i) => view.getInt32(4 * i, true);
    case 'i16': return (i) => view.getInt16(2 * i, true);
    case 'i8': return (i) => view.getInt8(i);
    case 'u8':
    case 'bool': return (i) => view.getUint8(i);
  }
}

/**
 * A tensor stored as a strided view into a byte buffer (a PyTorch storage or a safetensors
 * slice). `offset` and `strides` are in elements. `where` names it in error messages.
 */
export class StridedTensor implements CheckpointTensor {
  constructor(
    readonly dtype: StoredDtype,
    readonly dims: number[],
    private readonly bytes: Uint8Array,
    private readonly offset: number,
    private readonly strides: number[],
    private readonly where: string,
  ) {
    const n = elementCount(dims);
    if (n === 0) return;
    let last = offset;
    for (let d = 0; d < dims.length; d++) last += (dims[d] - 1) * strides[d];
    if (offset < 0 || (last + 1) * DTYPE_BYTES[dtype] > bytes.length) {
      throw new ConvertError('E_CHECKPOINT_INVALID', `${where}: tensor of shape [${dims.join(', ')}] reaches past the end of its storage (${bytes.length} bytes): the file is truncated or corrupt`, { file: where });
    }
  }

  toFloat32(): Float32Array {
    const n = elementCount(this.dims);
    if (n === 0) return new Float32Array(0);
    const contiguous = contiguousStrides(this.dims).every((s, d) => this.dims[d] === 1 || s === this.strides[d]);
    if (contiguous && this.dtype === 'f32' && (this.bytes.byteOffset + this.offset * 4) % 4 === 0) {
      return new Float32Array(this.bytes.buffer, this.bytes.byteOffset + this.offset * 4, n);
    }
    const out = new Float32Array(n);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const read = elementReader(view, this.dtype);
    if (contiguous) {
      for (let i = 0; i < n; i++) out[i] = read(this.offset + i);
      return out;
    }
    const rank = this.dims.length;
    const index = new Array<number>(rank).fill(0);
    let src = this.offset;
    for (let i = 0; i < n; i++) {
      out[i] = read(src);
      for (let d = rank - 1; d >= 0; d--) {
        index[d]++;
        src += this.strides[d];
        if (index[d] < this.dims[d]) break;
        src -= index[d] * this.strides[d];
        index[d] = 0;
      }
    }
    return out;
  }
}

/** A tensor already held as fp32 values (e.g. produced by a recipe transform). */
export class DenseTensor implements CheckpointTensor {
  readonly dtype = 'f32' as const;
  constructor(readonly dims: number[], private readonly data: Float32Array) {}
  toFloat32(): Float32Array {
    return this.data;
  }
}
