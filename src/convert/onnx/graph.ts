/**
 * A small ONNX graph builder on top of proto.ts: named initializers, ops with generated output
 * names, and a `linear` helper that emits either a float MatMul or the dynamic-quantization
 * pattern (DynamicQuantizeLinear + MatMulInteger + Cast + Mul), the way onnxruntime's
 * `quantize_dynamic` rewrites MatMuls with constant weights. Used by the converter
 * (src/convert) and by the tiny test models (test/support/onnx).
 */
import { DataType, type AttributeValue, type ModelSpec, type NodeSpec, type TensorSpec, type ValueInfoSpec } from './proto.js';

/** Opset used by every test graph (LayerNormalization needs 17; Debian's onnx 1.12 checks up to 17). */
export const OPSET = 17;
/** IR version matching opset 17. */
export const IR_VERSION = 8;

/** Float weights by name, shared by every graph built from one configuration. */
export type WeightStore = Map<string, { dims: number[]; data: Float32Array }>;

/** Asymmetric per-tensor uint8 quantization of a weight, as dynamic quantization stores it. */
export function quantizeUint8(w: Float32Array): { q: Uint8Array; scale: number; zeroPoint: number } {
  let min = 0;
  let max = 0;
  for (let i = 0; i < w.length; i++) {
    const v = w[i];
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  const scale = Math.fround((max - min) / 255 || 1);
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-min / scale)));
  const q = new Uint8Array(w.length);
  const inv = 1 / scale;
  for (let i = 0; i < w.length; i++) {
    // Math.round(x) === Math.floor(x + 0.5); the Uint8Array store is then clamped explicitly.
    const r = Math.floor(w[i] * inv + 0.5) + zeroPoint;
    q[i] = r < 0 ? 0 : r > 255 ? 255 : r;
  }
  return { q, scale, zeroPoint };
}

/**
 * Asymmetric uint8 quantization of a [K, N] weight with one scale and zero point per output
 * column (as onnxruntime's `quantize_dynamic(per_channel=True)` stores MatMul weights).
 */
export function quantizeUint8PerColumn(w: Float32Array, k: number, n: number): { q: Uint8Array; scale: Float32Array; zeroPoint: Uint8Array } {
  const lo = new Float32Array(n);
  const hi = new Float32Array(n);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < n; c++) {
      const v = w[r * n + c];
      if (v < lo[c]) lo[c] = v;
      else if (v > hi[c]) hi[c] = v;
    }
  }
  const scale = new Float32Array(n);
  const zeroPoint = new Uint8Array(n);
  for (let c = 0; c < n; c++) {
    scale[c] = (hi[c] - lo[c]) / 255 || 1;
    zeroPoint[c] = Math.min(255, Math.max(0, Math.round(-lo[c] / scale[c])));
  }
  const q = new Uint8Array(w.length);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < n; c++) {
      const v = Math.floor(w[r * n + c] / scale[c] + 0.5) + zeroPoint[c];
      q[r * n + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { q, scale, zeroPoint };
}

/** How `linear` quantizes weights when the builder quantizes: one scale per tensor, or per output column. */
export type QuantGranularity = 'tensor' | 'column';

/** Builds one graph; weights come from a shared store and are added only when referenced. */
export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorSpec[] = [];
  private readonly added = new Set<string>();
  private counter = 0;

  constructor(
    private readonly weights: WeightStore,
    /** Emit MatMuls with constant weights as uint8 dynamic-quantized MatMulInteger. */
    readonly quantize: boolean,
    /** Scale granularity of quantized weights (default 'tensor'). */
    readonly granularity: QuantGranularity = 'tensor',
    /** ModelProto.producer_name. */
    readonly producerName = 'medvlm-test-builder',
  ) {}

  /** Dimensions of a stored weight (throws when unknown). */
  dims(name: string): number[] {
    const w = this.weights.get(name);
    if (!w) throw new Error(`unknown weight ${name}`);
    return w.dims;
  }

  /** True when the store holds `name`. */
  has(name: string): boolean {
    return this.weights.has(name);
  }

  /** Reference a float weight from the store by name (added as an initializer once). */
  weight(name: string): string {
    if (!this.added.has(name)) {
      const w = this.weights.get(name);
      if (!w) throw new Error(`unknown weight ${name}`);
      this.initializers.push({ name, dims: w.dims, dataType: DataType.FLOAT, data: w.data });
      this.added.add(name);
    }
    return name;
  }

  /** An int64 constant initializer. */
  int64(values: number[], dims: number[] = [values.length]): string {
    const name = `const_i64_${this.counter++}`;
    this.initializers.push({ name, dims, dataType: DataType.INT64, data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  /** A float constant initializer. */
  float(values: number[], dims: number[] = [values.length]): string {
    const name = `const_f32_${this.counter++}`;
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, data: Float32Array.from(values) });
    return name;
  }

  /** Append a node; returns its output names (generated unless given). */
  op(opType: string, inputs: string[], attributes?: Record<string, AttributeValue>, outputs?: string[] | number): string[] {
    const id = this.counter++;
    const outs =
      Array.isArray(outputs) ? outputs : Array.from({ length: outputs ?? 1 }, (_, i) => `${opType}_${id}_out${i}`);
    this.nodes.push({ opType, inputs, outputs: outs, name: `${opType}_${id}`, ...(attributes ? { attributes } : {}) });
    return outs;
  }

  /** Single-output convenience for `op`. */
  op1(opType: string, inputs: string[], attributes?: Record<string, AttributeValue>, output?: string): string {
    return this.op(opType, inputs, attributes, output ? [output] : 1)[0];
  }

  /** x @ W (+ b); W is [in, out] in the store. Quantized when the builder quantizes. */
  linear(x: string, weightName: string, biasName?: string, output?: string): string {
    let y: string;
    const done = biasName === undefined ? output : undefined;
    if (!this.quantize) {
      y = this.op1('MatMul', [x, this.weight(weightName)], undefined, done);
    } else {
      const w = this.weights.get(weightName)!;
      const qname = `${weightName}_quantized`;
      if (!this.added.has(qname) && this.granularity === 'column') {
        const [k, n] = w.dims;
        const { q, scale, zeroPoint } = quantizeUint8PerColumn(w.data, k, n);
        this.initializers.push({ name: qname, dims: w.dims, dataType: DataType.UINT8, data: q });
        this.initializers.push({ name: `${weightName}_scale`, dims: [n], dataType: DataType.FLOAT, data: scale });
        this.initializers.push({ name: `${weightName}_zero_point`, dims: [n], dataType: DataType.UINT8, data: zeroPoint });
        this.added.add(qname);
      } else if (!this.added.has(qname)) {
        const { q, scale, zeroPoint } = quantizeUint8(w.data);
        this.initializers.push({ name: qname, dims: w.dims, dataType: DataType.UINT8, data: q });
        this.initializers.push({ name: `${weightName}_scale`, dims: [], dataType: DataType.FLOAT, data: Float32Array.of(scale) });
        this.initializers.push({ name: `${weightName}_zero_point`, dims: [], dataType: DataType.UINT8, data: Uint8Array.of(zeroPoint) });
        this.added.add(qname);
      }
      const [xq, xScale, xZero] = this.op('DynamicQuantizeLinear', [x], undefined, 3);
      const acc = this.op1('MatMulInteger', [xq, qname, xZero, `${weightName}_zero_point`]);
      const accF = this.op1('Cast', [acc], { to: { kind: 'int', value: DataType.FLOAT } });
      const scale = this.op1('Mul', [xScale, `${weightName}_scale`]);
      y = this.op1('Mul', [accF, scale], undefined, done);
    }
    return biasName === undefined ? y : this.op1('Add', [y, this.weight(biasName)], undefined, output);
  }

  /** LayerNormalization over the last axis with `${prefix}.weight` / `${prefix}.bias` (epsilon default 1e-5). */
  layerNorm(x: string, prefix: string, output?: string, epsilon = 1e-5): string {
    return this.op1(
      'LayerNormalization',
      [x, this.weight(`${prefix}.weight`), this.weight(`${prefix}.bias`)],
      { axis: { kind: 'int', value: -1 }, epsilon: { kind: 'float', value: epsilon } },
      output,
    );
  }

  /** x / ||x||₂ over the last axis. */
  l2Normalize(x: string, output?: string): string {
    const norm = this.op1('ReduceL2', [x], { axes: { kind: 'ints', value: [-1] }, keepdims: { kind: 'int', value: 1 } });
    return this.op1('Div', [x, norm], undefined, output);
  }

  /** Assemble the model. */
  model(graphName: string, inputs: ValueInfoSpec[], outputs: ValueInfoSpec[], metadata?: Record<string, string>): ModelSpec {
    return {
      graphName,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs,
      outputs,
      opset: OPSET,
      irVersion: IR_VERSION,
      producerName: this.producerName,
      ...(metadata ? { metadata } : {}),
    };
  }
}
