/**
 * Which ONNX files a local generator folder holds for each weights variant (dtype), and the check
 * that the requested per-file dtypes are all there before transformers.js is asked to load them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModelLoadError } from '../../core/errors.js';
import { describeDtypes, onnxFileFor, WEIGHT_DTYPES, type WeightDtype } from '../../runtime/dtype.js';

/** A family's files: JSON files every folder needs, and the base names of its ONNX sessions. */
export interface GeneratorLayout {
  /** Family name for messages (`llava`, `vision-encoder-decoder`). */
  family: string;
  jsonFiles: readonly string[];
  /** ONNX base names (`decoder_model_merged`), the keys of a per-file dtype map. */
  sessions: readonly string[];
}

/** Relative paths a folder needs for resolved per-file dtypes (JSON files first). */
export function layoutFiles(layout: GeneratorLayout, dtypes: Readonly<Record<string, WeightDtype>>): string[] {
  return [...layout.jsonFiles, ...layout.sessions.map((s) => onnxFileFor(s, dtypes[s] ?? 'fp32'))];
}

/** For each session, the dtypes whose file is present in `folder`. */
export function presentDtypes(folder: string, layout: GeneratorLayout): Record<string, WeightDtype[]> {
  return Object.fromEntries(layout.sessions.map((s) => [s, WEIGHT_DTYPES.filter((d) => existsSync(join(folder, onnxFileFor(s, d))))]));
}

/**
 * Throws E_MODEL_INVALID naming missing JSON files or ONNX sessions the folder has in no dtype at
 * all, or E_MODEL_NO_DTYPE naming the missing ONNX files of the requested dtypes and the dtypes the
 * folder does hold (complete ones, else per file).
 */
export function checkGeneratorFolder(folder: string, layout: GeneratorLayout, dtypes: Readonly<Record<string, WeightDtype>>): void {
  const missingJson = layout.jsonFiles.filter((f) => !existsSync(join(folder, f)));
  if (missingJson.length > 0) {
    throw new ModelLoadError('E_MODEL_INVALID', `${folder}: not a complete ${layout.family} folder: missing ${missingJson.join(', ')}`, { file: folder });
  }
  const missingOnnx = layout.sessions.filter((s) => !existsSync(join(folder, onnxFileFor(s, dtypes[s] ?? 'fp32'))));
  if (missingOnnx.length === 0) return;
  const present = presentDtypes(folder, layout);
  const absent = missingOnnx.filter((s) => present[s].length === 0);
  if (absent.length > 0) {
    const files = absent.map((s) => onnxFileFor(s, dtypes[s] ?? 'fp32'));
    throw new ModelLoadError('E_MODEL_INVALID', `${folder}: not a complete ${layout.family} folder: missing ${files.join(', ')} (in any dtype)`, { file: folder });
  }
  const complete = WEIGHT_DTYPES.filter((d) => layout.sessions.every((s) => present[s].includes(d)));
  const held =
    complete.length > 0
      ? `it holds ${complete.join(', ')}`
      : `it holds ${layout.sessions.map((s) => `${s}: ${present[s].join(', ') || 'none'}`).join('; ')}`;
  const hint = missingOnnx.some((s) => dtypes[s] === 'q4') ? '; make q4 files with scripts/quantize-q4.py' : '';
  throw new ModelLoadError(
    'E_MODEL_NO_DTYPE',
    `${folder}: no ${describeDtypes(dtypes)} weights for this ${layout.family} model: missing ${missingOnnx.map((s) => onnxFileFor(s, dtypes[s] ?? 'fp32')).join(', ')} (${held})${hint}`,
    { file: join(folder, onnxFileFor(missingOnnx[0], dtypes[missingOnnx[0]] ?? 'fp32')) },
  );
}
