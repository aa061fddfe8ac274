/**
 * A small ONNX graph builder on top of proto.ts: named initializers, ops with generated output
 * names, and a `linear` helper that emits either a float MatMul or the dynamic-quantization
 * pattern (DynamicQuantizeLinear + MatMulInteger + Cast + Mul), the way onnxruntime's
 * `quantize_dynamic` rewrites MatMuls with constant weights.
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
  ) {}

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
      if (!this.added.has(qname)) {
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

  /** LayerNormalization over the last axis with `${prefix}.weight` / `${prefix}.bias`. */
  layerNorm(x: string, prefix: string, output?: string): string {
    return this.op1(
      'LayerNormalization',
      [x, this.weight(`${prefix}.weight`), this.weight(`${prefix}.bias`)],
      { axis: { kind: 'int', value: -1 }, epsilon: { kind: 'float', value: 1e-5 } },
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
      producerName: 'medvlm-test-builder',
      ...(metadata ? { metadata } : {}),
    };
  }
}
