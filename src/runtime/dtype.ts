/** Weight variants and the ONNX file names they select. */

/** Weight variants medvlm loads. */
export type ModelDtype = 'fp32' | 'q8';

/** All supported dtypes, in display order. */
export const MODEL_DTYPES: readonly ModelDtype[] = ['fp32', 'q8'];

/** File-name suffix transformers.js uses for a dtype (`onnx/text_model_quantized.onnx` for q8). */
export function dtypeSuffix(dtype: ModelDtype): string {
  return dtype === 'q8' ? '_quantized' : '';
}

/** Relative path of an ONNX file (`text_model`, `vision_model`, `model`) for a dtype. */
export function onnxFileFor(baseName: string, dtype: ModelDtype): string {
  return `onnx/${baseName}${dtypeSuffix(dtype)}.onnx`;
}

/** True when `value` is a supported dtype. */
export function isModelDtype(value: unknown): value is ModelDtype {
  return typeof value === 'string' && (MODEL_DTYPES as readonly string[]).includes(value);
}
