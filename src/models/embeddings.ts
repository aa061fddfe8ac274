/** Small numeric helpers shared by the dual-encoder implementations. */
import { InferenceError } from '../core/errors.js';
import type { EngineTensor } from '../runtime/engine.js';

/** Split a [B, E] tensor into B L2-normalised Float32Array rows (normalised in float64). */
export function normalisedRows(t: EngineTensor): Float32Array[] {
  if (t.dims.length !== 2) throw new InferenceError('E_INFERENCE_FAILED', `expected a [batch, dim] embedding tensor, got dims [${t.dims.join(', ')}]`);
  const [rows, dim] = t.dims;
  const data = t.data as ArrayLike<number>;
  const out: Float32Array[] = [];
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += data[r * dim + j] ** 2;
    const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    const row = new Float32Array(dim);
    for (let j = 0; j < dim; j++) row[j] = data[r * dim + j] * inv;
    out.push(row);
  }
  return out;
}

export { dot } from '../core/vectors.js';

/** The first of `names` present in `outputs`, or undefined. */
export function pickOutput(outputs: Record<string, EngineTensor>, names: string[]): EngineTensor | undefined {
  for (const n of names) if (outputs[n]) return outputs[n];
  return undefined;
}
