/**
 * medvlm's library API (Node): `pipeline()` for every task, the same functions the `medvlm` command
 * and the server use, and their result types and JSON Schemas.
 *
 * ```ts
 * import { pipeline } from 'medvlm';
 * const classify = await pipeline('zero-shot-image-classification');        // the bundled medvlm-tiny
 * const labels = await classify(bytesOfADicomFile, ['chest', 'head', 'abdomen']);  // [{label, score}], best first
 * ```
 * Subpath entries: `medvlm/io`, `medvlm/transforms`, `medvlm/metrics`, `medvlm/eval`, `medvlm/index`
 * (the case index) and `medvlm/browser` (no Node built-ins). Every model output is for research use
 * only, not a diagnosis.
 */
import './io/platform-node.js';

export * from './core/errors.js';
export { LIMITS } from './core/limits.js';
export { dot, normalise, meanNormalised } from './core/vectors.js';
export type { ImageFormat, MedicalImage, Window } from './io/types.js';
export type { ImageInput } from './io/image-input.js';
export { readImage, decodeImage } from './io/read.js';
export type { ViewOptions, WindowSpec } from './transforms/index.js';
export {
  pipeline,
  PIPELINE_TASKS,
  type PipelineTask,
  type PipelineOptions,
  type PipelineOf,
  type SimilarCaseSearchPipeline,
  type SearchOutput,
  type SearchCallOptions,
  type DraftReportPipeline,
  type DraftOutput,
  type DraftCallOptions,
} from './tasks/pipeline.js';
export type {
  ZeroShotImageClassificationPipeline,
  ImageFeatureExtractionPipeline,
  TextFeatureExtractionPipeline,
  VisualQuestionAnsweringPipeline,
  InspectPipeline,
  ImageEmbeddingRow,
  TextEmbeddingRow,
  AskOutput,
  ClassifyCallOptions,
  ImageCallOptions,
} from './tasks/pipeline-builders.js';
export { RESULT_SCHEMAS, type ResultSchemaName } from './tasks/schemas.js';
export type { DualEncoder, RGBImage, ModelInfo, ScoringRule, StageTimes } from './models/capabilities.js';
export type { DualEncoderFamily, DefaultLogits } from './models/family.js';
export { loadDualEncoder, registerDualEncoderFamily, supportedModelTypes, type LoadDualEncoderOptions } from './models/registry.js';
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
export type { InspectResult } from './tasks/inspect.js';
export { encodeImageInputs, isFileError, type FileError, type EncodedImage, type ProgressFn, type BatchOptions } from './tasks/batch.js';
export { parseLabels, scoreLabels, rankLabels, type ClassifyResult, type LabelScore } from './tasks/zero-shot.js';
export type { AskResult, AnswerCandidate } from './tasks/ask.js';
export type { DraftReport, DraftSentence, DroppedSentence } from './tasks/draft-report.js';
export type { SearchResult } from './tasks/search.js';
export { DEFAULT_TEMPLATES, fillTemplate, type TemplateSet } from './tasks/templates.js';
export { loadTemplates, builtinTemplateNames, resolveTemplates } from './tasks/templates-files.js';
// dense tasks (issue 11): maps, anomaly detection, text-prompted segmentation, their metrics and writers
export {
  requireDense,
  type DenseEncoder,
  type DenseFeatures,
  type TextPromptedSegmenter,
  type PromptableSegmenter,
  type SegmenterPrompt,
  type PromptedSegmentation,
  type ProbabilityMap,
  type SegmenterInfo,
} from './models/capabilities.js';
export { loadTextSegmenter, loadPromptableSegmenter, SamSegmenter, type SamPrediction, type LoadSegmenterOptions } from './models/registry.js';
export { denseMaps, denseEmbeddings, MAP_METHODS, type MapMethod, type DenseMap, type DenseMapOptions } from './tasks/dense-map.js';
export { AnomalyDetector, DEFAULT_ANOMALY_PROMPTS, type AnomalyOptions, type AnomalyOutput, type VolumeAnomaly } from './tasks/anomaly.js';
export { segmentViews, promptFromMap, segmentFromMap, segmentViaMap, type ViewSegmentation, type PromptedViewSegmentation } from './tasks/segment.js';
export { prepareDenseInput, mapInInputGeometry, type DenseInput } from './tasks/dense-input.js';
export { encodeMapPng, encodeOverlayPng, encodeMapNpy, encodeNiftiFloat32, encodeNiftiUint8 } from './io/dense-write.js';
export { dice, iou, hd95, boundaryF, segmentationScores, type Mask } from './metrics/segmentation.js';
export { pixelAuroc, aupro } from './metrics/pixel-anomaly.js';
