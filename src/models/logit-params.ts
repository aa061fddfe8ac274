/**
 * Finding a model's logit scale and bias (logits = scale * cos + bias):
 *  1. a `"medvlm": {"logit_scale": s, "logit_bias": b}` block in config.json (s is the multiplier);
 *  2. otherwise, run the joint model (onnx/model*.onnx) once on one small image and a few texts and
 *     solve logits = s*cos + b by least squares (through the origin when the family has no bias);
 *  3. otherwise, the family's initial values from config.json, noted in `info.notes`.
 */
import type { ModelFiles } from '../runtime/model-files.js';
import { loadModel, rgbToEngineImage, type EngineLoadContext, type EngineProcessor, type EngineTokenizer } from '../runtime/engine.js';
import { onnxFileFor, type ModelDtype } from '../runtime/dtype.js';
import type { DualEncoderFamily } from './family.js';
import { dot, normalisedRows, pickOutput } from './embeddings.js';

/** Where the logit parameters came from. */
export type LogitSource = 'config' | 'joint-model' | 'default';

/** Resolved logit parameters. */
export interface LogitParams {
  scale: number;
  bias: number;
  source: LogitSource;
  /** Joint model file used (relative path), when `source` is 'joint-model'. */
  file?: string;
  note?: string;
}

/** Texts used to probe the joint model: short, and tokenizable by any vocabulary. */
export const PROBE_TEXTS = ['a photo', 'chest x-ray', 'brain mri', 'normal', 'a b c d e f'];

/** A 64×64 deterministic RGB probe image (gradients and a checkerboard). */
export function probeImage(): { data: Uint8Array; width: number; height: number } {
  const size = 64;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      data[i] = x * 4;
      data[i + 1] = y * 4;
      data[i + 2] = ((x >> 3) + (y >> 3)) % 2 === 0 ? 220 : 30;
    }
  }
  return { data, width: size, height: size };
}

/** Read the `medvlm` block of config.json, when present and valid. */
export function logitsFromConfig(config: Record<string, unknown>): LogitParams | undefined {
  const block = config.medvlm as { logit_scale?: unknown; logit_bias?: unknown } | undefined;
  if (!block || typeof block.logit_scale !== 'number' || !(block.logit_scale > 0)) return undefined;
  const bias = typeof block.logit_bias === 'number' ? block.logit_bias : 0;
  return { scale: block.logit_scale, bias, source: 'config' };
}

/**
 * Joint model dtypes to try, in order. A folder: the requested dtype, then fp32, then q8, among
 * the files present. A hub id (nothing local yet): q8 first, the smallest download (scale and bias
 * come out exact from any variant, since its logits are computed from its own embeddings).
 */
export async function jointCandidates(files: ModelFiles | undefined, dtype: ModelDtype): Promise<ModelDtype[]> {
  const unique = (list: ModelDtype[]): ModelDtype[] => list.filter((d, i) => list.indexOf(d) === i);
  if (files === undefined || files.remote) return unique(['q8', dtype]);
  const out: ModelDtype[] = [];
  for (const d of unique([dtype, 'fp32', 'q8'])) if (await files.exists(onnxFileFor('model', d))) out.push(d);
  return out;
}

/** Solve logits = s*cos (+ b) from pairs; returns undefined when the cosines do not vary enough. */
export function fitLogits(cos: number[], logits: number[], withBias: boolean): { scale: number; bias: number; residual: number } | undefined {
  const n = cos.length;
  let scale: number;
  let bias = 0;
  if (withBias) {
    const mc = cos.reduce((a, b) => a + b, 0) / n;
    const ml = logits.reduce((a, b) => a + b, 0) / n;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < n; i++) {
      sxy += (cos[i] - mc) * (logits[i] - ml);
      sxx += (cos[i] - mc) ** 2;
    }
    if (sxx < 1e-10) return undefined;
    scale = sxy / sxx;
    bias = ml - scale * mc;
  } else {
    const sxx = dot(cos, cos);
    if (sxx < 1e-12) return undefined;
    scale = dot(cos, logits) / sxx;
  }
  const residual = Math.max(...cos.map((c, i) => Math.abs(scale * c + bias - logits[i])));
  return Number.isFinite(scale) && Number.isFinite(bias) ? { scale, bias, residual } : undefined;
}

/** Derive scale/bias by running the joint model once; undefined when there is no usable joint model. */
export async function logitsFromJointModel(
  ctx: EngineLoadContext,
  family: DualEncoderFamily,
  tokenizer: EngineTokenizer,
  processor: EngineProcessor,
  files: ModelFiles | undefined,
): Promise<LogitParams | undefined> {
  for (const dtype of await jointCandidates(files, ctx.dtype)) {
    let model;
    try {
      model = await loadModel(ctx, family.jointModel, dtype);
    } catch {
      continue;
    }
    try {
      const texts = tokenizer(PROBE_TEXTS, { padding: family.textPadding, truncation: true });
      const img = probeImage();
      const pixels = await processor([rgbToEngineImage(img.data, img.width, img.height)]);
      const inputs: Record<string, unknown> = {};
      for (const name of model.inputNames) inputs[name] = name === 'pixel_values' ? pixels.pixel_values : texts[name];
      const out = await model(inputs);
      const textEmb = pickOutput(out, ['text_embeds']);
      const imageEmb = pickOutput(out, ['image_embeds']);
      const logits = pickOutput(out, ['logits_per_text']);
      if (!textEmb || !imageEmb || !logits) continue;
      const image = normalisedRows(imageEmb)[0];
      const cos = normalisedRows(textEmb).map((t) => dot(t, image));
      const values = Array.from(logits.data as ArrayLike<number>, Number);
      const fit = fitLogits(cos, values, family.hasLogitBias);
      if (!fit || !(fit.scale > 0) || fit.residual > 1e-3 * Math.max(1, fit.scale)) continue;
      return { scale: fit.scale, bias: fit.bias, source: 'joint-model', file: onnxFileFor('model', dtype) };
    } finally {
      await model.dispose();
    }
  }
  return undefined;
}
