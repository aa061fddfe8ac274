/**
 * safetensors reader: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the raw bytes.
 */
import { ConvertError } from '../../core/errors.js';
import { DTYPE_BYTES, StridedTensor, contiguousStrides, elementCount, type CheckpointTensor, type StoredDtype } from './tensor.js';

const DTYPES: Record<string, StoredDtype> = {
  F32: 'f32', F16: 'f16', BF16: 'bf16', F64: 'f64', I64: 'i64', I32: 'i32', I16: 'i16', I8: 'i8', U8: 'u8', BOOL: 'bool',
};

/** True when the bytes plausibly start a safetensors file (header length + '{'). */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 9) return false;
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return len > 1 && len < 100_000_000 && bytes[8] === 0x7b;
}

/** Read every tensor of a safetensors file held in memory. `file` names it in errors. */
export function readSafetensors(bytes: Uint8Array, file: string): Map<string, CheckpointTensor> {
  const bad = (what: string): ConvertError => new ConvertError('E_CHECKPOINT_INVALID', `${file}: not a valid safetensors file: ${what}`, { file });
  if (bytes.length < 8) throw bad('shorter than its 8-byte header length');
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLength > bytes.length) throw bad(`header of ${headerLength} bytes reaches past the end of the file (${bytes.length} bytes): truncated`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch (e) {
    throw bad(`header is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const data = bytes.subarray(8 + headerLength);
  const out = new Map<string, CheckpointTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const type = typeof dtype === 'string' ? DTYPES[dtype] : undefined;
    if (!type) throw bad(`tensor ${name}: unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor ${name}: bad shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) throw bad(`tensor ${name}: bad data_offsets`);
    const [begin, end] = offsets as number[];
    const dims = shape as number[];
    if (end - begin !== elementCount(dims) * DTYPE_BYTES[type]) throw bad(`tensor ${name}: ${end - begin} bytes for shape [${dims.join(', ')}] of ${dtype}`);
    if (end > data.length) throw bad(`tensor ${name} reaches past the end of the file: truncated`);
    out.set(name, new StridedTensor(type, dims, data.subarray(begin, end), 0, contiguousStrides(dims), `${file}: ${name}`));
  }
  return out;
}
