/**
 * `medvlm/browser`: the browser entry, with no Node built-ins. Decodes DICOM, NIfTI and PNG/JPEG from
 * bytes, makes the model's view with the same transforms as in Node, and runs the dual-encoder
 * pipelines on transformers.js' web build (ONNX Runtime on WebAssembly), with model files fetched
 * from the page's own server. No image byte leaves the page.
 *
 * ```ts
 * import { pipeline } from 'medvlm/browser';
 * const classify = await pipeline('zero-shot-image-classification', '/models/medvlm-tiny/', { templates, wasmPaths: '/ort/' });
 * const labels = await classify(new Uint8Array(await file.arrayBuffer()), ['chest', 'head']);
 * ```
 * Every model output is for research use only, not a diagnosis.
 */
import './io/platform-browser.js';
import { optionError } from './core/errors.js';
import { ioPlatform, setIoPlatform } from './io/platform.js';
import { loadDualEncoderFromUrl, type LoadFromUrlOptions } from './models/load-url.js';
import type { ViewOptions } from './transforms/index.js';
import {
  imageFeatureExtraction,
  inspect,
  textFeatureExtraction,
  visualQuestionAnswering,
  zeroShotClassification,
  type ImageFeatureExtractionPipeline,
  type InspectPipeline,
  type TextFeatureExtractionPipeline,
  type VisualQuestionAnsweringPipeline,
  type ZeroShotImageClassificationPipeline,
} from './tasks/pipeline-builders.js';
import type { TemplateSet } from './tasks/templates.js';

export * from './core/errors.js';
export { LIMITS } from './core/limits.js';
export { dot, normalise, meanNormalised } from './core/vectors.js';
export type { ImageFormat, MedicalImage, Window, RGBImage } from './io/types.js';
export { decodeImage } from './io/decode.js';
export { decodeInput, loadInput, inputName, type ImageInput } from './io/image-input.js';
export * from './transforms/index.js';
export { describeImage, inspectImage, type InspectResult } from './tasks/inspect.js';
export { encodeImageInputs, isFileError, type FileError, type EncodedImage, type BatchOptions } from './tasks/batch.js';
export { parseLabels, scoreLabels, rankLabels, labelEmbeddings, LabelEmbeddingCache, type ClassifyResult, type LabelScore } from './tasks/zero-shot.js';
export { templateSetFrom, fillTemplate, DEFAULT_TEMPLATES, type TemplateSet } from './tasks/templates.js';
export { RESULT_SCHEMAS, type ResultSchemaName } from './tasks/schemas.js';
export { RESEARCH_NOTICE } from './models/defaults.js';
export type { DualEncoder, ModelInfo, ScoringRule } from './models/capabilities.js';
export { registerDualEncoderFamily, supportedModelTypes } from './models/families.js';
export { loadDualEncoderFromUrl, type LoadFromUrlOptions } from './models/load-url.js';
export type { ZeroShotImageClassificationPipeline, ImageFeatureExtractionPipeline, TextFeatureExtractionPipeline, VisualQuestionAnsweringPipeline, InspectPipeline } from './tasks/pipeline-builders.js';

/**
 * Where the page serves dcmjs-codecs' `dcmjs-native-codecs.wasm` (from the npm package
 * `dcmjs-codecs/build/`), needed to decode compressed DICOM (JPEG, JPEG-LS, JPEG 2000, RLE).
 */
export function setDicomCodecsUrl(url: string): void {
  setIoPlatform({ ...ioPlatform(), dicomCodecsWasm: url });
}

/** The tasks the browser entry builds (the index tasks need the server). */
export type BrowserTask = 'zero-shot-image-classification' | 'image-feature-extraction' | 'text-feature-extraction' | 'visual-question-answering' | 'inspect';

/** Pipeline types by task in the browser. */
export interface BrowserPipelineOf {
  'zero-shot-image-classification': ZeroShotImageClassificationPipeline;
  'image-feature-extraction': ImageFeatureExtractionPipeline;
  'text-feature-extraction': TextFeatureExtractionPipeline;
  'visual-question-answering': VisualQuestionAnsweringPipeline;
  inspect: InspectPipeline;
}

/** Options of the browser `pipeline()`: how the model loads, and the task's defaults. */
export interface BrowserPipelineOptions extends LoadFromUrlOptions {
  /** URL of dcmjs-codecs' `dcmjs-native-codecs.wasm` (compressed DICOM transfer syntaxes); see `setDicomCodecsUrl`. */
  dicomCodecsUrl?: string;
  view?: ViewOptions;
  /** Prompt templates (required for classification and choice questions: fetch `templates/medical.json` from the server for the default set). */
  templates?: TemplateSet;
}

/**
 * Build a pipeline in the browser. `modelUrl` is the URL of a model folder in the Hugging Face layout
 * (not needed for `inspect`).
 */
export async function pipeline<T extends BrowserTask>(task: T, modelUrl?: string, options: BrowserPipelineOptions = {}): Promise<BrowserPipelineOf[T]> {
  if (task === 'inspect') return inspect() as BrowserPipelineOf[T];
  if (!modelUrl) throw optionError('model', `the ${task} pipeline needs the URL of a model folder`);
  const needsTemplates = task === 'zero-shot-image-classification' || task === 'visual-question-answering';
  if (needsTemplates && !options.templates) throw optionError('templates', `the ${task} pipeline needs a template set in the browser (e.g. the server's templates/medical.json)`);
  const { view, templates, dicomCodecsUrl, ...load } = options;
  if (dicomCodecsUrl) setDicomCodecsUrl(dicomCodecsUrl);
  const encoder = await loadDualEncoderFromUrl(modelUrl, load);
  const defaults = { ...(view ? { view } : {}) };
  switch (task) {
    case 'zero-shot-image-classification':
      return zeroShotClassification(encoder, { ...defaults, templates: templates! }) as BrowserPipelineOf[T];
    case 'visual-question-answering':
      return visualQuestionAnswering(encoder, { ...defaults, templates: templates! }) as BrowserPipelineOf[T];
    case 'image-feature-extraction':
      return imageFeatureExtraction(encoder, defaults) as BrowserPipelineOf[T];
    case 'text-feature-extraction':
      return textFeatureExtraction(encoder) as BrowserPipelineOf[T];
    default:
      await encoder.dispose();
      throw optionError('task', `${JSON.stringify(task)} is not a task of the browser entry`);
  }
}
