/**
 * PyTorch `torch.save` files, read without PyTorch and without executing the pickle:
 *  - the zip format (torch ≥ 1.6): `<prefix>/data.pkl` + one member `<prefix>/data/<key>` per storage;
 *  - the legacy format: pickles of the magic number, protocol version and sys info, then the
 *    object (storages as persistent ids), then the list of storage keys, then for each key an
 *    int64 element count followed by the raw little-endian bytes.
 */
import { ConvertError } from '../../core/errors.js';
import { STORAGE_DTYPES, sequenceItems, unpickle, type PyGlobal, type PyValue, type StorageRef, type TensorRecord } from './pickle.js';
import { readZipDirectory } from './zip.js';
import { DTYPE_BYTES, StridedTensor, type CheckpointTensor } from './tensor.js';

/** The magic number that starts a legacy torch.save file (pickled as LONG1). */
export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** A torch.save file's top-level value with its tensors resolved. */
export type TorchValue = Exclude<PyValue, TensorRecord> | CheckpointTensor;

function storageFromPid(pid: PyValue, file: string): StorageRef {
  const items = sequenceItems(pid, 'persistent id');
  const [tag, type, key, , numel, viewMeta] = items;
  const typeName = (type as PyGlobal | undefined)?.kind === 'global' ? (type as PyGlobal).name : undefined;
  const dtype = typeName ? STORAGE_DTYPES[typeName] : undefined;
  if (tag !== 'storage' || !dtype || typeof key !== 'string' || typeof numel !== 'number') {
    throw new ConvertError('E_CHECKPOINT_INVALID', `${file}: unexpected persistent id in the pickle`, { file });
  }
  const ref: StorageRef = { kind: 'storage', dtype, key, numel };
  if (viewMeta !== undefined && viewMeta !== null) {
    const [viewKey, offset, size] = sequenceItems(viewMeta, 'view metadata');
    if (typeof viewKey === 'string' && typeof offset === 'number' && typeof size === 'number') ref.view = { key: viewKey, offset, numel: size };
  }
  return ref;
}

/** Replace tensor records by tensors over their storages' bytes. */
function resolveTensors(value: PyValue, storageBytes: (ref: StorageRef) => Uint8Array, file: string, path: string): TorchValue {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v, i) => resolveTensors(v, storageBytes, file, `${path}[${i}]`) as PyValue);
  switch (value.kind) {
    case 'tensor': {
      const bytes = storageBytes(value.storage);
      let offset = value.offset;
      if (value.storage.view) offset += value.storage.view.offset;
      return new StridedTensor(value.storage.dtype, value.dims, bytes, offset, value.strides, `${file}: ${path}`);
    }
    case 'dict': {
      const map = new Map<string | number | bigint | boolean | null, PyValue>();
      for (const [k, v] of value.map) map.set(k, resolveTensors(v, storageBytes, file, path ? `${path}.${String(k)}` : String(k)) as PyValue);
      return { kind: 'dict', map };
    }
    case 'tuple':
      return { kind: 'tuple', items: value.items.map((v, i) => resolveTensors(v, storageBytes, file, `${path}[${i}]`) as PyValue) };
    default:
      return value;
  }
}

/** Read a zip-format torch.save file held in memory. */
export function readTorchZip(bytes: Uint8Array, file: string): TorchValue {
  const entries = readZipDirectory(bytes, file);
  const pklName = [...entries.keys()].find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
  if (!pklName) throw new ConvertError('E_CHECKPOINT_INVALID', `${file}: a zip file without data.pkl is not a PyTorch checkpoint`, { file });
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder.read()).trim() !== 'little') {
    throw new ConvertError('E_CHECKPOINT_INVALID', `${file}: big-endian checkpoints are not supported`, { file });
  }
  const { value } = unpickle(entries.get(pklName)!.read(), file, { persistentLoad: (pid) => storageFromPid(pid, file) });
  const cache = new Map<string, Uint8Array>();
  return resolveTensors(value, (ref) => {
    let data = cache.get(ref.key);
    if (!data) {
      const entry = entries.get(`${prefix}data/${ref.key}`);
      if (!entry) throw new ConvertError('E_CHECKPOINT_INVALID', `${file}: storage ${ref.key} is missing from the archive (truncated?)`, { file });
      data = entry.read();
      cache.set(ref.key, data);
    }
    return data;
  }, file, '');
}

/** True when the bytes start with the legacy torch.save magic number pickle. */
export function looksLikeLegacyTorch(bytes: Uint8Array): boolean {
  // \x80\x02 \x8a\x0a + 10 bytes of the magic number (little-endian)
  return bytes.length > 14 && bytes[0] === 0x80 && bytes[2] === 0x8a && bytes[3] === 0x0a;
}

/** Read a legacy (non-zip) torch.save file held in memory. */
export function readTorchLegacy(bytes: Uint8Array, file: string): TorchValue {
  const bad = (what: string): ConvertError => new ConvertError('E_CHECKPOINT_INVALID', `${file}: ${what}`, { file });
  let { value, end } = unpickle(bytes, file);
  if (value !== LEGACY_MAGIC) throw bad('not a PyTorch checkpoint (bad magic number)');
  ({ value, end } = unpickle(bytes, file, { offset: end }));
  if (value !== 1001) throw bad(`unsupported legacy protocol version ${String(value)}`);
  ({ end } = unpickle(bytes, file, { offset: end })); // sys_info
  const storages = new Map<string, StorageRef>();
  const main = unpickle(bytes, file, {
    offset: end,
    persistentLoad: (pid) => {
      const ref = storageFromPid(pid, file);
      storages.set(ref.key, ref); // the root storage; a view adds its element offset when resolved
      return ref;
    },
  });
  const keys = unpickle(bytes, file, { offset: main.end });
  const data = new Map<string, Uint8Array>();
  let p = keys.end;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of sequenceItems(keys.value, 'storage keys')) {
    if (typeof key !== 'string') throw bad('storage keys are not strings');
    const ref = storages.get(key);
    if (!ref) throw bad(`storage ${key} is listed but never used`);
    if (p + 8 > bytes.length) throw bad(`the file ends before storage ${key} (truncated)`);
    const numel = Number(view.getBigInt64(p, true));
    const length = numel * DTYPE_BYTES[ref.dtype];
    p += 8;
    if (p + length > bytes.length) throw bad(`the file ends inside storage ${key} (truncated)`);
    data.set(key, bytes.subarray(p, p + length));
    p += length;
  }
  return resolveTensors(main.value, (ref) => {
    const d = data.get(ref.key);
    if (!d) throw bad(`storage ${ref.key} has no data (truncated)`);
    return d;
  }, file, '');
}
