/**
 * Task pipelines over a loaded model, in the spirit of transformers.js: each is a function you call
 * with inputs (paths, URLs, bytes or decoded images) and get the same plain JSON the CLI prints with
 * `--json`, plus `dispose()`. Label and prompt embeddings are cached per pipeline. Platform-free: the
 * Node entry (pipeline.ts) and the browser entry build on these with their own model loading.
 */
import type { ImageInput } from '../io/image-input.js';
import type { DualEncoder } from '../models/capabilities.js';
import type { ViewOptions } from '../transforms/index.js';
import { ask, type AskResult } from './ask.js';
import { embedOne, encodeImageInputs, isFileError, type FileError, type ProgressFn } from './batch.js';
import { inspectImage, type InspectResult } from './inspect.js';
import type { TemplateSet } from './templates.js';
import { classifyInputs, LabelEmbeddingCache, parseLabels, rankLabels, scoreLabels, type ClassifyResult, type LabelScore } from './zero-shot.js';

/** Options every image-taking call accepts. */
export interface ImageCallOptions {
  /** How an image becomes the 2D view the model sees (frame, slice, window); overrides the pipeline's. */
  view?: ViewOptions;
  /** For arrays of inputs: progress after each input. */
  onProgress?: ProgressFn;
  /** For arrays of inputs: images per encoder call (default 16). */
  batchSize?: number;
}

/** Options of the zero-shot classification call. */
export interface ClassifyCallOptions extends ImageCallOptions {
  /** Prompt templates (default: the pipeline's). */
  templates?: TemplateSet;
  /** Keep only the best `top` labels. */
  top?: number;
}

/** What every model pipeline carries. */
export interface PipelineBase<T extends string> {
  readonly task: T;
  /** The loaded model (id, family, dtype, file hashes, embedding dimension). */
  readonly encoder: DualEncoder;
  /** Release the model (and any index) the pipeline holds. */
  dispose(): Promise<void>;
}

/** `zero-shot-image-classification`: labels with scores, sorted best first. */
export interface ZeroShotImageClassificationPipeline extends PipelineBase<'zero-shot-image-classification'> {
  /** One image: its labels (a bad input throws its typed error). */
  (input: ImageInput, labels: string | string[], options?: ClassifyCallOptions): Promise<LabelScore[]>;
  /** Several images: `{file, labels}` or `{file, error}` per input, in order; a bad input does not stop the others. */
  (inputs: ImageInput[], labels: string | string[], options?: ClassifyCallOptions): Promise<Array<ClassifyResult | FileError>>;
}

/** An image embedding as the CLI writes it (`medvlm embed`). */
export interface ImageEmbeddingRow {
  kind: 'image';
  file: string;
  embedding: number[];
  model: string;
}

/** A text embedding as the CLI writes it. */
export interface TextEmbeddingRow {
  kind: 'text';
  text: string;
  embedding: number[];
  model: string;
}

/** `image-feature-extraction`: L2-normalised image embeddings in the model's joint space. */
export interface ImageFeatureExtractionPipeline extends PipelineBase<'image-feature-extraction'> {
  (input: ImageInput, options?: ImageCallOptions): Promise<ImageEmbeddingRow>;
  (inputs: ImageInput[], options?: ImageCallOptions): Promise<Array<ImageEmbeddingRow | FileError>>;
}

/** `text-feature-extraction`: L2-normalised text embeddings in the model's joint space. */
export interface TextFeatureExtractionPipeline extends PipelineBase<'text-feature-extraction'> {
  (text: string): Promise<TextEmbeddingRow>;
  (texts: string[]): Promise<TextEmbeddingRow[]>;
}

/** The answer of `visual-question-answering`, as `medvlm ask --json` prints it. */
export type AskOutput = { model: string } & AskResult;

/** `visual-question-answering` (closed questions: yes/no, "A or B", or given choices). */
export interface VisualQuestionAnsweringPipeline extends PipelineBase<'visual-question-answering'> {
  (input: ImageInput, question: string, options?: ImageCallOptions & { choices?: string[]; templates?: TemplateSet }): Promise<AskOutput>;
}

/** `inspect`: what a file holds, in physical units (no model). */
export interface InspectPipeline {
  readonly task: 'inspect';
  (input: ImageInput, options?: { showPhi?: boolean }): Promise<InspectResult>;
  dispose(): Promise<void>;
}

/** Make a callable pipeline object. */
export function callable<F extends (...args: never[]) => unknown, P extends object>(fn: F, props: P): F & P {
  return Object.assign(fn, props);
}

const viewOf = (pipelineView: ViewOptions | undefined, o: ImageCallOptions | undefined): ViewOptions | undefined => o?.view ?? pipelineView;

/** A zero-shot classification pipeline over a loaded encoder. */
export function zeroShotClassification(encoder: DualEncoder, defaults: { templates: TemplateSet; view?: ViewOptions }): ZeroShotImageClassificationPipeline {
  const cache = new LabelEmbeddingCache(encoder);
  const run = async (input: ImageInput | ImageInput[], labels: string | string[], o: ClassifyCallOptions = {}) => {
    const templates = o.templates ?? defaults.templates;
    const view = viewOf(defaults.view, o);
    const cut = (ls: LabelScore[]) => (o.top ? ls.slice(0, o.top) : ls);
    if (Array.isArray(input)) {
      const results = await classifyInputs(encoder, input, { labels, templates, labelCache: cache, ...(view ? { view } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.batchSize ? { batchSize: o.batchSize } : {}) });
      return results.map((r) => (isFileError(r) ? r : { ...r, labels: cut(r.labels) }));
    }
    const names = parseLabels(labels);
    const labelEmbs = await cache.get(names, templates);
    const { embedding } = await embedOne(encoder, input, view ? { view } : {});
    return cut(rankLabels(names, scoreLabels(encoder, embedding, labelEmbs)));
  };
  return callable(run as ZeroShotImageClassificationPipeline, { task: 'zero-shot-image-classification' as const, encoder, dispose: () => encoder.dispose() });
}

/** An image feature-extraction pipeline over a loaded encoder. */
export function imageFeatureExtraction(encoder: DualEncoder, defaults: { view?: ViewOptions } = {}): ImageFeatureExtractionPipeline {
  const row = (file: string, e: Float32Array): ImageEmbeddingRow => ({ kind: 'image', file, embedding: Array.from(e), model: encoder.info.id });
  const run = async (input: ImageInput | ImageInput[], o: ImageCallOptions = {}) => {
    const view = viewOf(defaults.view, o);
    if (!Array.isArray(input)) {
      const r = await embedOne(encoder, input, view ? { view } : {});
      return row(r.file, r.embedding);
    }
    const results = await encodeImageInputs(encoder, input, { ...(view ? { view } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.batchSize ? { batchSize: o.batchSize } : {}) });
    return results.map((r) => (isFileError(r) ? r : row(r.file, r.embedding)));
  };
  return callable(run as ImageFeatureExtractionPipeline, { task: 'image-feature-extraction' as const, encoder, dispose: () => encoder.dispose() });
}

/** A text feature-extraction pipeline over a loaded encoder. */
export function textFeatureExtraction(encoder: DualEncoder): TextFeatureExtractionPipeline {
  const run = async (text: string | string[]) => {
    const texts = Array.isArray(text) ? text : [text];
    const embs = texts.length ? await encoder.encodeTexts(texts) : [];
    const rows: TextEmbeddingRow[] = texts.map((t, i) => ({ kind: 'text', text: t, embedding: Array.from(embs[i]), model: encoder.info.id }));
    return Array.isArray(text) ? rows : rows[0];
  };
  return callable(run as TextFeatureExtractionPipeline, { task: 'text-feature-extraction' as const, encoder, dispose: () => encoder.dispose() });
}

/** A closed-question VQA pipeline over a loaded encoder. */
export function visualQuestionAnswering(encoder: DualEncoder, defaults: { templates: TemplateSet; view?: ViewOptions }): VisualQuestionAnsweringPipeline {
  const cache = new LabelEmbeddingCache(encoder);
  const run = async (input: ImageInput, question: string, o: ImageCallOptions & { choices?: string[]; templates?: TemplateSet } = {}): Promise<AskOutput> => {
    const view = viewOf(defaults.view, o);
    const r = await ask(encoder, input, question, { ...(o.choices?.length ? { choices: o.choices } : {}), templates: o.templates ?? defaults.templates, labelCache: cache, ...(view ? { view } : {}) });
    return { model: encoder.info.id, ...r };
  };
  return callable(run as VisualQuestionAnsweringPipeline, { task: 'visual-question-answering' as const, encoder, dispose: () => encoder.dispose() });
}

/** The inspect pipeline (no model). */
export function inspect(): InspectPipeline {
  const run = (input: ImageInput, o: { showPhi?: boolean } = {}) => inspectImage(input, o);
  return callable(run as InspectPipeline, { task: 'inspect' as const, dispose: async () => undefined });
}
