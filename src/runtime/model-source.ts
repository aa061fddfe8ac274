/** What a model source is and what a model folder must hold (platform-free: Node folders and browser URLs alike). */
import { onnxFileFor, type WeightDtype } from './dtype.js';

/** How a model id was interpreted. */
export type ModelSourceKind = 'bundled' | 'folder' | 'hub' | 'url';

/** A resolved model source. `location` is an absolute folder, the hub id for `hub`, or a base URL for `url`. */
export interface ModelSource {
  kind: ModelSourceKind;
  location: string;
}

/** The JSON files every model folder needs. */
export const REQUIRED_JSON_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json'] as const;

/** The ONNX files a dual encoder needs for a dtype. */
export function requiredOnnxFiles(dtype: WeightDtype): string[] {
  return [onnxFileFor('text_model', dtype), onnxFileFor('vision_model', dtype)];
}

/** One sentence telling the user the hub cannot be reached and how to use a local folder instead. */
export function offlineMessage(hubId: string, dtype: WeightDtype, reason: string): string {
  const files = [...REQUIRED_JSON_FILES, ...requiredOnnxFiles(dtype)].join(', ');
  return (
    `${hubId}: the Hugging Face hub cannot be reached (${reason}) and the model is not in the cache; ` +
    `to run without network, give a local folder in the Hugging Face layout as the model (CLI: --model /path/to/folder) ` +
    `(containing ${files}).`
  );
}
