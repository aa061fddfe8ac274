/**
 * A restricted unpickler: it interprets the pickle opcodes (protocols 0–5) as data and never
 * executes anything. Only the globals needed to rebuild tensors and plain containers are
 * accepted (see ALLOWED_GLOBALS); any other global is refused with E_CHECKPOINT_UNSAFE naming it,
 * at the moment the opcode that names it is read. Calls (REDUCE) are interpreted by our own
 * implementations of the allowed functions.
 */
import { ConvertError } from '../../core/errors.js';
import type { StoredDtype } from './tensor.js';

/** A global named by the pickle (module.name), already checked against the allow-list. */
export interface PyGlobal {
  kind: 'global';
  name: string;
}

/** A Python tuple. */
export interface PyTuple {
  kind: 'tuple';
  items: PyValue[];
}

/** A Python dict (or OrderedDict); keys are kept as JS primitives. */
export interface PyDict {
  kind: 'dict';
  map: Map<string | number | bigint | boolean | null, PyValue>;
}

/** A storage referenced through a persistent id: its element type, key and size. */
export interface StorageRef {
  kind: 'storage';
  dtype: StoredDtype;
  key: string;
  /** Elements in the storage. */
  numel: number;
  /** Legacy format: (view key, offset, size) when the tensor's storage was a view. */
  view?: { key: string; offset: number; numel: number };
}

/** torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...). */
export interface TensorRecord {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  dims: number[];
  strides: number[];
}

/** What the unpickler produces. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PyGlobal
  | StorageRef
  | TensorRecord;

/** Storage classes and the element type each holds. */
export const STORAGE_DTYPES: Record<string, StoredDtype> = {
  'torch.FloatStorage': 'f32',
  'torch.HalfStorage': 'f16',
  'torch.BFloat16Storage': 'bf16',
  'torch.DoubleStorage': 'f64',
  'torch.LongStorage': 'i64',
  'torch.IntStorage': 'i32',
  'torch.ShortStorage': 'i16',
  'torch.CharStorage': 'i8',
  'torch.ByteStorage': 'u8',
  'torch.BoolStorage': 'bool',
};

/** Every global a checkpoint may name: tensor rebuilders, storage classes and OrderedDict. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'collections.OrderedDict',
  ...Object.keys(STORAGE_DTYPES),
]);

/** Resolves a persistent id (the tuple torch.save writes for each storage). */
export type PersistentLoad = (pid: PyValue) => PyValue;

/** Options of `unpickle`. */
export interface UnpickleOptions {
  /** Called for BINPERSID/PERSID; without it, persistent ids are refused. */
  persistentLoad?: PersistentLoad;
  /** Start offset in `bytes` (legacy checkpoints hold several pickles in a row). */
  offset?: number;
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

function isTuple(v: PyValue): v is PyTuple {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && v.kind === 'tuple';
}

/** Items of a tuple or list value (throws when it is neither). */
export function sequenceItems(v: PyValue, what: string): PyValue[] {
  if (Array.isArray(v)) return v;
  if (isTuple(v)) return v.items;
  throw new Error(`${what}: expected a tuple or list`);
}

function dictKey(k: PyValue): string | number | bigint | boolean | null {
  if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return k;
  if (isTuple(k)) return JSON.stringify(k.items.map((x) => (typeof x === 'bigint' ? x.toString() : x)));
  throw new Error('unsupported dict key type');
}

function toInt(v: PyValue, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw new Error(`${what}: expected an integer`);
}

/** The result of a call to an allowed global (REDUCE). */
function callGlobal(fn: PyGlobal, args: PyValue[]): PyValue {
  switch (fn.name) {
    case 'collections.OrderedDict':
      return { kind: 'dict', map: new Map() };
    case 'torch._utils._rebuild_tensor_v2': {
      const storage = args[0] as StorageRef;
      if (!storage || typeof storage !== 'object' || (storage as { kind?: string }).kind !== 'storage') throw new Error('_rebuild_tensor_v2: first argument is not a storage');
      const dims = sequenceItems(args[2], 'tensor size').map((d) => toInt(d, 'tensor size'));
      const strides = sequenceItems(args[3], 'tensor stride').map((d) => toInt(d, 'tensor stride'));
      return { kind: 'tensor', storage, offset: toInt(args[1], 'storage offset'), dims, strides };
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      return args[0];
    default:
      throw new Error(`${fn.name} cannot be called`);
  }
}

/**
 * Interpret one pickle. Returns the value and the offset just after its STOP opcode. Throws
 * E_CHECKPOINT_UNSAFE for a global outside the allow-list and E_CHECKPOINT_INVALID for a
 * malformed or truncated stream. `file` names the source in errors.
 */
export function unpickle(bytes: Uint8Array, file: string, opts: UnpickleOptions = {}): { value: PyValue; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder();
  let p = opts.offset ?? 0;
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  const invalid = (what: string): ConvertError =>
    new ConvertError('E_CHECKPOINT_INVALID', `${file}: cannot read the pickle at byte ${p}: ${what}`, { file });

  const need = (n: number): void => {
    if (p + n > bytes.length) throw invalid('the file ends in the middle of the pickle (truncated)');
  };
  const u8 = (): number => { need(1); return bytes[p++]; };
  const u16 = (): number => { need(2); const v = view.getUint16(p, true); p += 2; return v; };
  const u32 = (): number => { need(4); const v = view.getUint32(p, true); p += 4; return v; };
  const i32 = (): number => { need(4); const v = view.getInt32(p, true); p += 4; return v; };
  const u64 = (): number => { need(8); const v = Number(view.getBigUint64(p, true)); p += 8; return v; };
  const take = (n: number): Uint8Array => { need(n); const b = bytes.subarray(p, p + n); p += n; return b; };
  const line = (): string => {
    const start = p;
    while (p < bytes.length && bytes[p] !== 0x0a) p++;
    need(1);
    return decoder.decode(bytes.subarray(start, p++));
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw invalid('stack underflow');
    const v = stack.pop()!;
    if (v === MARK) throw invalid('unexpected mark');
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw invalid('stack underflow');
    return v;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw invalid('no mark on the stack');
    const items = stack.splice(i + 1) as PyValue[];
    stack.pop();
    return items;
  };
  const global = (module: string, name: string): PyGlobal => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) {
      throw new ConvertError(
        'E_CHECKPOINT_UNSAFE',
        `${file}: the pickle names the global ${full}, which is not a tensor or container type; refusing to read it (nothing from the file was executed)`,
        { file },
      );
    }
    return { kind: 'global', name: full };
  };
  const long = (b: Uint8Array): bigint | number => {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const setItems = (target: PyValue, items: PyValue[]): void => {
    if (typeof target !== 'object' || target === null || (target as PyDict).kind !== 'dict') throw invalid('SETITEM(S) on a non-dict');
    for (let i = 0; i + 1 < items.length; i += 2) (target as PyDict).map.set(dictKey(items[i]), items[i + 1]);
  };
  const persistent = (pid: PyValue): PyValue => {
    if (!opts.persistentLoad) throw invalid('persistent id outside a torch checkpoint');
    return opts.persistentLoad(pid);
  };

  try {
    for (;;) {
      const op = u8();
      switch (op) {
        case 0x80: u8(); break; // PROTO
        case 0x95: u64(); break; // FRAME
        case 0x2e: return { value: pop(), end: p }; // STOP
        case 0x28: stack.push(MARK); break; // MARK
        case 0x4e: stack.push(null); break; // NONE
        case 0x88: stack.push(true); break; // NEWTRUE
        case 0x89: stack.push(false); break; // NEWFALSE
        case 0x4a: stack.push(i32()); break; // BININT
        case 0x4b: stack.push(u8()); break; // BININT1
        case 0x4d: stack.push(u16()); break; // BININT2
        case 0x8a: stack.push(long(take(u8()))); break; // LONG1
        case 0x8b: stack.push(long(take(u32()))); break; // LONG4
        case 0x49: { // INT
          const s = line();
          stack.push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10));
          break;
        }
        case 0x4c: stack.push(Number.parseInt(line().replace(/L$/, ''), 10)); break; // LONG
        case 0x47: { need(8); stack.push(view.getFloat64(p, false)); p += 8; break; } // BINFLOAT
        case 0x46: stack.push(Number.parseFloat(line())); break; // FLOAT
        case 0x58: stack.push(decoder.decode(take(u32()))); break; // BINUNICODE
        case 0x8c: stack.push(decoder.decode(take(u8()))); break; // SHORT_BINUNICODE
        case 0x8d: stack.push(decoder.decode(take(u64()))); break; // BINUNICODE8
        case 0x56: stack.push(line()); break; // UNICODE (raw-unicode-escape; ASCII here)
        case 0x55: stack.push(decoder.decode(take(u8()))); break; // SHORT_BINSTRING
        case 0x54: stack.push(decoder.decode(take(u32()))); break; // BINSTRING
        case 0x53: stack.push(line().replace(/^(['"])(.*)\1$/, '$2')); break; // STRING
        case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
        case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
        case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
        case 0x96: stack.push(take(u64()).slice()); break; // BYTEARRAY8
        case 0x7d: stack.push({ kind: 'dict', map: new Map() }); break; // EMPTY_DICT
        case 0x5d: stack.push([]); break; // EMPTY_LIST
        case 0x29: stack.push({ kind: 'tuple', items: [] }); break; // EMPTY_TUPLE
        case 0x85: stack.push({ kind: 'tuple', items: [pop()] }); break; // TUPLE1
        case 0x86: { const b = pop(); const a = pop(); stack.push({ kind: 'tuple', items: [a, b] }); break; } // TUPLE2
        case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push({ kind: 'tuple', items: [a, b, c] }); break; } // TUPLE3
        case 0x74: stack.push({ kind: 'tuple', items: popMark() }); break; // TUPLE
        case 0x6c: stack.push(popMark()); break; // LIST
        case 0x64: { const d: PyDict = { kind: 'dict', map: new Map() }; setItems(d, popMark()); stack.push(d); break; } // DICT
        case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) throw invalid('APPEND on a non-list'); l.push(v); break; } // APPEND
        case 0x65: { const items = popMark(); const l = top(); if (!Array.isArray(l)) throw invalid('APPENDS on a non-list'); l.push(...items); break; } // APPENDS
        case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
        case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
        case 0x30: pop(); break; // POP
        case 0x31: popMark(); break; // POP_MARK
        case 0x32: stack.push(top()); break; // DUP
        case 0x71: memo.set(u8(), top()); break; // BINPUT
        case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
        case 0x70: memo.set(Number.parseInt(line(), 10), top()); break; // PUT
        case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
        case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
          const key = op === 0x68 ? u8() : op === 0x6a ? u32() : Number.parseInt(line(), 10);
          if (!memo.has(key)) throw invalid(`memo key ${key} not set`);
          stack.push(memo.get(key)!);
          break;
        }
        case 0x63: { const module = line(); const name = line(); stack.push(global(module, name)); break; } // GLOBAL
        case 0x93: { // STACK_GLOBAL
          const name = pop();
          const module = pop();
          if (typeof module !== 'string' || typeof name !== 'string') throw invalid('STACK_GLOBAL without strings');
          stack.push(global(module, name));
          break;
        }
        case 0x52: { // REDUCE
          const args = pop();
          const fn = pop();
          if (typeof fn !== 'object' || fn === null || (fn as PyGlobal).kind !== 'global') throw invalid('REDUCE on a non-callable');
          stack.push(callGlobal(fn as PyGlobal, sequenceItems(args, 'REDUCE arguments')));
          break;
        }
        case 0x62: { // BUILD: state of an OrderedDict (e.g. _metadata) or a tensor is ignored
          pop();
          const target = top();
          const kind = typeof target === 'object' && target !== null && !Array.isArray(target) && !(target instanceof Uint8Array) ? target.kind : undefined;
          if (kind !== 'dict' && kind !== 'tensor') throw invalid('BUILD on an object that is not a dict or tensor');
          break;
        }
        case 0x51: stack.push(persistent(pop())); break; // BINPERSID
        case 0x50: stack.push(persistent(line())); break; // PERSID
        case 0x81: case 0x92: // NEWOBJ, NEWOBJ_EX: never needed by tensors or containers
          throw new ConvertError('E_CHECKPOINT_UNSAFE', `${file}: the pickle constructs an object (NEWOBJ); refusing to read it (nothing from the file was executed)`, { file });
        case 0x69: { // INST: names a class like GLOBAL
          const module = line();
          const name = line();
          global(module, name);
          throw invalid(`INST ${module}.${name}`);
        }
        case 0x8f: case 0x90: case 0x91: // EMPTY_SET, ADDITEMS, FROZENSET
          throw invalid('sets are not part of a checkpoint');
        default:
          throw invalid(`unknown opcode 0x${op.toString(16)}`);
      }
    }
  } catch (e) {
    if (e instanceof ConvertError) throw e;
    throw invalid(e instanceof Error ? e.message : String(e));
  }
}
