/**
 * medvlm-tiny-seg's ONNX file, run directly through onnxruntime-node (no medvlm preprocessing in between),
 * reproduces the PyTorch logits recorded in models/medvlm-tiny-seg/reference/parity.json, and the folder
 * keeps the contract the segment loader is written against (names, shapes, config keys, size budget).
 *
 * The inputs are the reference entries that come from `samples/` (their processor output is stored in
 * parity.json as uint8, so this checks the graph alone); the data-folder entries are checked by
 * training/seg/check_onnx.py where ../shared/data exists.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/paths.js';

const dir = join(packageRoot(), 'models', 'medvlm-tiny-seg');

interface ParityEntry {
  id: string;
  image: string;
  prompt: string;
  input_ids: number[];
  pixels_u8_chw_base64?: string;
  logits: { dims: number[]; mean: number; std: number; min: number; max: number; stride: number; sample: number[]; area_fraction_at_threshold: number };
}
const parity = JSON.parse(readFileSync(join(dir, 'reference', 'parity.json'), 'utf8')) as {
  threshold: number;
  tolerance_logits_max_abs: number;
  inputs: ParityEntry[];
};
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
const pre = JSON.parse(readFileSync(join(dir, 'preprocessor_config.json'), 'utf8')) as {
  size: { height: number; width: number };
  do_center_crop: boolean;
  image_mean: number[];
  image_std: number[];
  rescale_factor: number;
};
const withPixels = parity.inputs.filter((e) => e.pixels_u8_chw_base64);
const S = config.image_size as number;

let session: ort.InferenceSession;
beforeAll(async () => {
  session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'), { intraOpNumThreads: 1 });
});
afterAll(async () => {
  await session?.release();
});

/** The recorded processor output of one entry, rescaled and normalised as the preprocessor config says. */
function pixelValues(e: ParityEntry): Float32Array {
  const u8 = Buffer.from(e.pixels_u8_chw_base64!, 'base64');
  expect(u8.length).toBe(3 * S * S);
  const out = new Float32Array(u8.length);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < S * S; i++) {
      const k = c * S * S + i;
      out[k] = (u8[k] * pre.rescale_factor - pre.image_mean[c]) / pre.image_std[c];
    }
  }
  return out;
}

describe('medvlm-tiny-seg folder contract', () => {
  it('config.json and preprocessor_config.json say what the loader expects', () => {
    expect(config.model_type).toBe('medvlm-text-segmenter');
    expect(pre.size).toEqual({ height: S, width: S });
    expect(pre.do_center_crop).toBe(false);
    expect(config.max_text_length).toBeGreaterThan(0);
    expect(config.threshold).toBeGreaterThan(0);
    expect(config.threshold).toBeLessThan(1);
    expect(Object.keys(config.prompts as object).sort()).toEqual(['lesion', 'polyp']);
  });

  it('the ONNX graph has the contract inputs and output, and fits the 30 MB budget', () => {
    expect([...session.inputNames].sort()).toEqual(['attention_mask', 'input_ids', 'pixel_values']);
    expect(session.outputNames).toEqual(['logits']);
    expect(statSync(join(dir, 'onnx', 'model.onnx')).size).toBeLessThan(30e6);
  });
});

describe('medvlm-tiny-seg ONNX parity with PyTorch (parity.json)', () => {
  it('has at least two repo-sample entries with stored pixels', () => {
    expect(withPixels.length).toBeGreaterThanOrEqual(2);
  });

  it.each(withPixels.map((e) => [e.id, e] as const))('%s: logits within tolerance of PyTorch', async (_id, e) => {
    const ids = BigInt64Array.from(e.input_ids.map((v) => BigInt(v)));
    const mask = BigInt64Array.from(e.input_ids.map(() => 1n));
    const out = await session.run({
      pixel_values: new ort.Tensor('float32', pixelValues(e), [1, 3, S, S]),
      input_ids: new ort.Tensor('int64', ids, [1, ids.length]),
      attention_mask: new ort.Tensor('int64', mask, [1, ids.length]),
    });
    const logits = out.logits;
    expect([...logits.dims]).toEqual(e.logits.dims);
    const data = logits.data as Float32Array;
    let worst = 0;
    e.logits.sample.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(data[i * e.logits.stride] - v));
    });
    const mean = data.reduce((a, b) => a + b, 0) / data.length;
    const area = data.filter((v) => 1 / (1 + Math.exp(-v)) >= parity.threshold).length / data.length;
    console.log(`[medvlm-tiny-seg parity] ${e.id}: max|Δ| ${worst.toExponential(2)} on ${e.logits.sample.length} values`);
    expect(worst).toBeLessThanOrEqual(parity.tolerance_logits_max_abs);
    expect(Math.abs(mean - e.logits.mean)).toBeLessThan(1e-4);
    expect(Math.abs(area - e.logits.area_fraction_at_threshold)).toBeLessThan(0.002);
  });

  it('padding the prompt (attention_mask 0) does not change the logits', async () => {
    const e = withPixels[0];
    const n = e.input_ids.length;
    const ids = BigInt64Array.from([...e.input_ids, 0, 0, 0].map((v) => BigInt(v)));
    const mask = BigInt64Array.from([...e.input_ids.map(() => 1n), 0n, 0n, 0n]);
    const out = await session.run({
      pixel_values: new ort.Tensor('float32', pixelValues(e), [1, 3, S, S]),
      input_ids: new ort.Tensor('int64', ids, [1, n + 3]),
      attention_mask: new ort.Tensor('int64', mask, [1, n + 3]),
    });
    const data = out.logits.data as Float32Array;
    e.logits.sample.forEach((v, i) => expect(Math.abs(data[i * e.logits.stride] - v)).toBeLessThanOrEqual(parity.tolerance_logits_max_abs));
  });
});
