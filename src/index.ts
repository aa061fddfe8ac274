/**
 * medvlm's library API: the same functions the `medvlm` command uses.
 *
 * ```ts
 * import { loadDualEncoder, classifyFiles } from 'medvlm';
 * const model = await loadDualEncoder('medvlm-tiny');
 * const results = await classifyFiles(model, ['scan.dcm'], { labels: 'CT,MRI,X-ray' });
 * ```
 * Every model output is for research use only, not a diagnosis.
 */
export * from './core/errors.js';
export { LIMITS } from './core/limits.js';
export type { ImageFormat, MedicalImage, Window } from './io/types.js';
export { readImage, decodeImage } from './io/read.js';
export { expandInputs } from './io/inputs.js';
export { encodeNpyFloat32 } from './io/npy.js';
export {
  selectSlice,
  parseWindowOption,
  resolveWindow,
  applyWindow,
  toRGB8,
  toModelView,
  WINDOW_PRESETS,
  type WindowSpec,
  type ViewOptions,
} from './transforms/index.js';
export type { DualEncoder, RGBImage, ModelInfo, ScoringRule, StageTimes } from './models/capabilities.js';
export { loadDualEncoder, supportedModelTypes, type LoadDualEncoderOptions } from './models/registry.js';
export {
  streamGeneration,
  type VisionLanguageGenerator,
  type GeneratorInfo,
  type GeneratorBackend,
  type GenerationRequest,
  type GenerationOptions,
  type GenerationResult,
  type GenerationUsage,
  type ImageDestination,
  type FinishReason,
} from './models/capabilities.js';
export { loadGenerator, supportedGeneratorTypes, type LoadGeneratorOptions } from './models/generators.js';
export { parseRemoteModelId, isLoopbackHost, DEFAULT_BASE_URLS, type RemoteProvider, type RemoteModelId } from './models/remote/endpoint.js';
export { DEFAULT_HTTP_POLICY, type HttpPolicy, type Clock } from './models/remote/http.js';
export { generateForFile, generateForFiles, type GenerateFileResult, type GenerateFileError, type GenerateFileOptions } from './tasks/generate.js';
export { listModels, HUB_CATALOG, type ModelListing } from './models/catalog.js';
export { DEFAULT_MODEL, RESEARCH_NOTICE } from './models/defaults.js';
export { describeImage, inspectFile, type InspectResult } from './tasks/inspect.js';
export { encodeFiles, fileToView, type FileError, type FileEmbedding, type ProgressFn } from './tasks/encode-files.js';
export { embedInputs, type EmbeddingRow } from './tasks/embed.js';
export {
  classifyFiles,
  parseLabels,
  labelEmbeddings,
  scoreLabels,
  rankLabels,
  type ClassifyResult,
  type ClassifyOptions,
  type LabelScore,
} from './tasks/zero-shot.js';
export { loadTemplates, builtinTemplateNames, DEFAULT_TEMPLATES, type TemplateSet } from './tasks/templates.js';
export * from './metrics/index.js';
