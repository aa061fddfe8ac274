/**
 * A dependency-free protobuf writer for the handful of ONNX messages medvlm writes
 * (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, AttributeProto,
 * OperatorSetIdProto). Field numbers follow onnx/onnx.proto3. Output is byte-reproducible: fields
 * are written in a fixed order and nothing depends on time or map iteration order.
 */

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9 } as const;
/** An ONNX element type number. */
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

/** A tensor initializer or attribute value. Exactly one of the typed arrays is given. */
export interface TensorSpec {
  name: string;
  dims: number[];
  dataType: DataTypeId;
  /** Raw values; written as little-endian raw_data. */
  data: Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;
}

/** A node attribute. */
export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: TensorSpec };

/** One graph node. */
export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes?: Record<string, AttributeValue>;
  domain?: string;
}

/** A graph input or output: element type and shape (numbers or symbolic names). */
export interface ValueInfoSpec {
  name: string;
  elemType: DataTypeId;
  shape: (number | string)[];
}

/** A whole model. */
export interface ModelSpec {
  graphName: string;
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  inputs: ValueInfoSpec[];
  outputs: ValueInfoSpec[];
  opset: number;
  irVersion: number;
  producerName: string;
  /** Stored as ModelProto.metadata_props. */
  metadata?: Record<string, string>;
}

const textEncoder = new TextEncoder();

/** Accumulates encoded bytes as a list of chunks, so nested large tensors are never copied twice. */
class Writer {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  private scratch: number[] = [];

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    const bytes = Uint8Array.from(this.scratch);
    this.chunks.push(bytes);
    this.length += bytes.length;
    this.scratch = [];
  }

  varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    do {
      let byte = Number(n & 0x7fn);
      n >>= 7n;
      if (n !== 0n) byte |= 0x80;
      this.scratch.push(byte);
    } while (n !== 0n);
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  bytes(data: Uint8Array): void {
    this.flushScratch();
    this.chunks.push(data);
    this.length += data.length;
  }

  int(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.scratch.push(x);
  }

  string(field: number, s: string): void {
    this.lengthDelimited(field, textEncoder.encode(s));
  }

  lengthDelimited(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.bytes(data);
  }

  message(field: number, child: Writer): void {
    child.flushScratch();
    this.tag(field, 2);
    this.varint(child.length);
    this.flushScratch();
    for (const c of child.chunks) this.chunks.push(c);
    this.length += child.length;
  }

  finish(): Uint8Array[] {
    this.flushScratch();
    return this.chunks;
  }
}

function littleEndianBytes(data: TensorSpec['data']): Uint8Array {
  // All supported platforms are little-endian; assert it once rather than byte-swapping.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian host not supported');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensor(t: TensorSpec): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.dataType);
  w.string(8, t.name);
  w.lengthDelimited(9, littleEndianBytes(t.data));
  return w;
}

function attribute(name: string, a: AttributeValue): Writer {
  const w = new Writer();
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      w.int(20, 1);
      break;
    case 'int':
      w.int(3, a.value);
      w.int(20, 2);
      break;
    case 'string':
      w.string(4, a.value);
      w.int(20, 3);
      break;
    case 'tensor':
      w.message(5, tensor(a.value));
      w.int(20, 4);
      break;
    case 'floats':
      for (const v of a.value) w.float(7, v);
      w.int(20, 6);
      break;
    case 'ints':
      for (const v of a.value) w.int(8, v);
      w.int(20, 7);
      break;
  }
  return w;
}

function node(n: NodeSpec): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const key of Object.keys(n.attributes ?? {}).sort()) w.message(5, attribute(key, n.attributes![key]));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function valueInfo(v: ValueInfoSpec): Writer {
  const shape = new Writer();
  for (const d of v.shape) {
    const dim = new Writer();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new Writer();
  tensorType.int(1, v.elemType);
  tensorType.message(2, shape);
  const type = new Writer();
  type.message(1, tensorType);
  const w = new Writer();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

/** Encode a model as the chunks of one ModelProto (concatenate or write them in order). */
export function encodeModel(m: ModelSpec): Uint8Array[] {
  const graph = new Writer();
  for (const n of m.nodes) graph.message(1, node(n));
  graph.string(2, m.graphName);
  for (const t of m.initializers) graph.message(5, tensor(t));
  for (const i of m.inputs) graph.message(11, valueInfo(i));
  for (const o of m.outputs) graph.message(12, valueInfo(o));

  const model = new Writer();
  model.int(1, m.irVersion);
  model.string(2, m.producerName);
  model.message(7, graph);
  const opset = new Writer();
  opset.string(1, '');
  opset.int(2, m.opset);
  model.message(8, opset);
  for (const key of Object.keys(m.metadata ?? {}).sort()) {
    const kv = new Writer();
    kv.string(1, key);
    kv.string(2, m.metadata![key]);
    model.message(14, kv);
  }
  return model.finish();
}
