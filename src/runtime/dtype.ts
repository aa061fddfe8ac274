/** Weight variants and the ONNX file names they select. */
import { OptionError } from '../core/errors.js';

/** Weight variants medvlm loads for every model kind. */
export type ModelDtype = 'fp32' | 'q8';

/** All supported dtypes, in display order. */
export const MODEL_DTYPES: readonly ModelDtype[] = ['fp32', 'q8'];

/**
 * Weight variants of local generators: the model dtypes plus `q4`, 4-bit block-quantized MatMul
 * weights (onnxruntime's com.microsoft MatMulNBits; files `*_q4.onnx`).
 */
export type WeightDtype = ModelDtype | 'q4';

/** All generator dtypes, in display order. */
export const WEIGHT_DTYPES: readonly WeightDtype[] = ['fp32', 'q8', 'q4'];

/**
 * One dtype for every ONNX file of a model, or one per file keyed by the file's base name
 * (`{ decoder_model_merged: 'q4', encoder_model: 'fp32' }`), as transformers.js accepts `dtype`.
 */
export type DtypeSpec = WeightDtype | Readonly<Record<string, WeightDtype>>;

const SUFFIX: Record<WeightDtype, string> = { fp32: '', q8: '_quantized', q4: '_q4' };

/** File-name suffix transformers.js uses for a dtype (`onnx/text_model_quantized.onnx` for q8, `_q4` for q4). */
export function dtypeSuffix(dtype: WeightDtype): string {
  return SUFFIX[dtype];
}

/** Relative path of an ONNX file (`text_model`, `vision_model`, `model`) for a dtype. */
export function onnxFileFor(baseName: string, dtype: WeightDtype): string {
  return `onnx/${baseName}${dtypeSuffix(dtype)}.onnx`;
}

/** True when `value` is a supported dtype. */
export function isModelDtype(value: unknown): value is ModelDtype {
  return typeof value === 'string' && (MODEL_DTYPES as readonly string[]).includes(value);
}

/** True when `value` is a supported generator dtype. */
export function isWeightDtype(value: unknown): value is WeightDtype {
  return typeof value === 'string' && (WEIGHT_DTYPES as readonly string[]).includes(value);
}

/**
 * The dtype of every file of a model, keyed by base name: a single dtype applies to all; a per-file
 * map must name only files of the model, and files it leaves out stay fp32. Throws E_BAD_OPTION for
 * an unknown dtype or file name.
 */
export function resolveDtypes(spec: DtypeSpec, baseNames: readonly string[], where: string): Record<string, WeightDtype> {
  if (typeof spec === 'string') {
    if (!isWeightDtype(spec)) throw new OptionError('E_BAD_OPTION', `${where}: dtype ${JSON.stringify(spec)}: expected one of ${WEIGHT_DTYPES.join(', ')}`, { option: 'dtype' });
    return Object.fromEntries(baseNames.map((b) => [b, spec]));
  }
  const out: Record<string, WeightDtype> = Object.fromEntries(baseNames.map((b) => [b, 'fp32' as WeightDtype]));
  for (const [name, dtype] of Object.entries(spec)) {
    if (!baseNames.includes(name)) {
      throw new OptionError('E_BAD_OPTION', `${where}: dtype names the file ${JSON.stringify(name)}, which this model does not have (files: ${baseNames.join(', ')})`, {
        option: 'dtype',
      });
    }
    if (!isWeightDtype(dtype)) throw new OptionError('E_BAD_OPTION', `${where}: dtype of ${name} ${JSON.stringify(dtype)}: expected one of ${WEIGHT_DTYPES.join(', ')}`, { option: 'dtype' });
    out[name] = dtype;
  }
  return out;
}

/** A resolved per-file dtype map as one short string: `q4` when uniform, else `decoder_model_merged=q4,encoder_model=fp32`. */
export function describeDtypes(dtypes: Readonly<Record<string, WeightDtype>>): string {
  const values = [...new Set(Object.values(dtypes))];
  if (values.length === 1) return values[0];
  return Object.entries(dtypes)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * Parse a CLI dtype: `fp32`, `q8`, `q4`, or a per-file list `decoder_model_merged=q4,encoder_model=fp32`.
 * Throws E_BAD_OPTION naming `option` when malformed.
 */
export function parseDtypeSpec(value: string, option = '--dtype'): DtypeSpec {
  const text = value.trim();
  if (!text.includes('=')) {
    if (!isWeightDtype(text)) throw new OptionError('E_BAD_OPTION', `${option} ${value}: expected ${WEIGHT_DTYPES.join(', ')} or FILE=DTYPE,... (e.g. decoder_model_merged=q4)`, { option: 'dtype' });
    return text;
  }
  const map: Record<string, WeightDtype> = {};
  for (const part of text.split(',')) {
    const [name, dtype, extra] = part.split('=').map((s) => s.trim());
    if (!name || extra !== undefined || !isWeightDtype(dtype)) {
      throw new OptionError('E_BAD_OPTION', `${option} ${value}: "${part}" is not FILE=DTYPE with DTYPE one of ${WEIGHT_DTYPES.join(', ')}`, { option: 'dtype' });
    }
    map[name] = dtype;
  }
  return map;
}
