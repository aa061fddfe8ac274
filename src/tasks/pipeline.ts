/**
 * `pipeline(task, model?, options?)`: the library's one entry, used by the CLI and the server alike.
 *
 * ```ts
 * import { pipeline } from 'medvlm';
 * const classify = await pipeline('zero-shot-image-classification');   // the bundled medvlm-tiny
 * const labels = await classify(bytesOfADicomFile, ['chest', 'head', 'abdomen']);  // [{label, score}], best first
 * await classify.dispose();
 * ```
 * Every model output is for research use only, not a diagnosis.
 */
import { resolve } from 'node:path';
import { optionError } from '../core/errors.js';
import '../io/platform-node.js';
import type { ImageInput } from '../io/image-input.js';
import { indexModelFrom } from '../index-store/meta.js';
import { CaseIndex } from '../index-store/store.js';
import type { DualEncoder } from '../models/capabilities.js';
import { DEFAULT_MODEL, RESEARCH_NOTICE } from '../models/defaults.js';
import { loadDualEncoder, type LoadDualEncoderOptions } from '../models/registry.js';
import type { ViewOptions } from '../transforms/index.js';
import { modelForIndex, openIndexFor, toWhere, withoutPhi } from './case-index.js';
import { readTextCorpus, isJsonlCorpus } from './draft-corpus.js';
import { draftReport, similarCases, type DraftCorpus, type DraftReport, type SimilarCase } from './draft-report.js';
import {
  callable,
  imageFeatureExtraction,
  inspect,
  textFeatureExtraction,
  visualQuestionAnswering,
  zeroShotClassification,
  type ImageCallOptions,
  type ImageFeatureExtractionPipeline,
  type InspectPipeline,
  type PipelineBase,
  type TextFeatureExtractionPipeline,
  type VisualQuestionAnsweringPipeline,
  type ZeroShotImageClassificationPipeline,
} from './pipeline-builders.js';
import { searchIndex, type SearchResult } from './search.js';
import { resolveTemplates } from './templates-files.js';
import type { TemplateSet } from './templates.js';
import type { WhereFilter } from '../index-store/where.js';

/** The tasks `pipeline()` builds. */
export const PIPELINE_TASKS = [
  'zero-shot-image-classification',
  'image-feature-extraction',
  'text-feature-extraction',
  'similar-case-search',
  'draft-report',
  'visual-question-answering',
  'inspect',
] as const;

/** A task name. */
export type PipelineTask = (typeof PIPELINE_TASKS)[number];

/** Options of `pipeline()`: how the model loads, and the task's defaults. */
export interface PipelineOptions extends LoadDualEncoderOptions {
  /** Default view (frame, slice, window) for every call. */
  view?: ViewOptions;
  /** Prompt templates: a built-in name (`medical`, `chest-xray`, `plain`), a JSON file, or a set (default `medical`). */
  templates?: string | TemplateSet;
  /** `similar-case-search`: the index folder (required). */
  index?: string;
  /** `draft-report`: an index folder or a JSONL of cases with texts (required). */
  corpus?: string;
  /** `draft-report` with a JSONL corpus: the text fields to read (default: all known). */
  fields?: string[];
}

/** The answer of `similar-case-search`, as `medvlm search --json` prints it. */
export type SearchOutput = { notice: string; index: string; model: string } & SearchResult;

/** Options of a search call. */
export interface SearchCallOptions {
  /** Number of results (default 10). */
  k?: number;
  /** Metadata filters, `key=value` strings or parsed. */
  where?: ReadonlyArray<string | WhereFilter>;
  /** Return images (default) or the stored texts nearest an image query. */
  target?: 'image' | 'text';
  /** Exact scan even when an approximate index exists. */
  exact?: boolean;
  /** Keep DICOM study/series/SOP instance UIDs in the hits. */
  showPhi?: boolean;
  view?: ViewOptions;
}

/** `similar-case-search`: nearest images (or texts) of an index, by text or by image. */
export interface SimilarCaseSearchPipeline extends PipelineBase<'similar-case-search'> {
  (query: { text: string } | { image: ImageInput }, options?: SearchCallOptions): Promise<SearchOutput>;
}

/** The answer of `draft-report`, as `medvlm draft-report --json` prints it. */
export type DraftOutput = { model: string } & DraftReport;

/** Options of a draft call. */
export interface DraftCallOptions extends ImageCallOptions {
  /** Similar cases to draw from (default 5). */
  k?: number;
  /** Sentences in the draft (default 3). */
  sentences?: number;
  /** Weight of the case's similarity against the sentence's own, 0..1 (default 0.5). */
  caseWeight?: number;
  /** Text fields to draw from (default: all). */
  fields?: string[];
  where?: ReadonlyArray<string | WhereFilter>;
}

/** `draft-report`: a research draft from the reports of the most similar cases, each sentence with its source. */
export interface DraftReportPipeline extends PipelineBase<'draft-report'> {
  (input: ImageInput, options?: DraftCallOptions): Promise<DraftOutput>;
  /** Only the retrieval: the k most similar cases with their texts (for generated drafts). */
  similar(input: ImageInput, options?: Pick<DraftCallOptions, 'k' | 'where' | 'view'>): Promise<{ file: string; cases: SimilarCase[] }>;
}

/** The pipeline type of each task. */
export interface PipelineOf {
  'zero-shot-image-classification': ZeroShotImageClassificationPipeline;
  'image-feature-extraction': ImageFeatureExtractionPipeline;
  'text-feature-extraction': TextFeatureExtractionPipeline;
  'similar-case-search': SimilarCaseSearchPipeline;
  'draft-report': DraftReportPipeline;
  'visual-question-answering': VisualQuestionAnsweringPipeline;
  inspect: InspectPipeline;
}

function required(value: string | undefined, option: string, task: string): string {
  if (!value) throw optionError(option, `the ${task} pipeline needs it`);
  return value;
}

async function indexPipelineModel(dir: string, model: string | undefined, opts: PipelineOptions, mustExist: boolean): Promise<DualEncoder> {
  const choice = modelForIndex(dir, { ...(model ? { model } : {}), ...(opts.dtype ? { dtype: opts.dtype } : {}) }, mustExist);
  return loadDualEncoder(choice.model, { ...opts, dtype: choice.dtype });
}

/**
 * Build a reusable pipeline for a task. `model` is a bundled name, a local folder in the Hugging Face
 * layout or a hub id (default: the bundled medvlm-tiny; for index tasks, the index's own model).
 * @throws OptionError for an unknown task or a missing required option; ModelLoadError when the model cannot load
 */
export async function pipeline<T extends PipelineTask>(task: T, model?: string, options: PipelineOptions = {}): Promise<PipelineOf[T]> {
  const { view } = options;
  const made = await (async (): Promise<PipelineOf[PipelineTask]> => {
    switch (task as PipelineTask) {
      case 'inspect':
        return inspect();
      case 'zero-shot-image-classification': {
        const templates = resolveTemplates(options.templates);
        return zeroShotClassification(await loadDualEncoder(model ?? DEFAULT_MODEL, options), { templates, ...(view ? { view } : {}) });
      }
      case 'visual-question-answering': {
        const templates = resolveTemplates(options.templates);
        return visualQuestionAnswering(await loadDualEncoder(model ?? DEFAULT_MODEL, options), { templates, ...(view ? { view } : {}) });
      }
      case 'image-feature-extraction':
        return imageFeatureExtraction(await loadDualEncoder(model ?? DEFAULT_MODEL, options), view ? { view } : {});
      case 'text-feature-extraction':
        return textFeatureExtraction(await loadDualEncoder(model ?? DEFAULT_MODEL, options));
      case 'similar-case-search':
        return similarCaseSearch(required(options.index, 'index', task), model, options);
      case 'draft-report':
        return draftReportPipeline(required(options.corpus, 'corpus', task), model, options);
      default:
        throw optionError('task', `${JSON.stringify(task)} is not a medvlm task (known: ${PIPELINE_TASKS.join(', ')})`);
    }
  })();
  return made as PipelineOf[T];
}

async function similarCaseSearch(dir: string, model: string | undefined, options: PipelineOptions): Promise<SimilarCaseSearchPipeline> {
  const encoder = await indexPipelineModel(dir, model, options, true);
  let index: CaseIndex;
  try {
    index = await openIndexFor(dir, encoder);
  } catch (e) {
    await encoder.dispose();
    throw e;
  }
  const run = async (query: { text: string } | { image: ImageInput }, o: SearchCallOptions = {}): Promise<SearchOutput> => {
    const view = o.view ?? options.view;
    const r = await searchIndex(encoder, index, query, {
      k: o.k ?? 10,
      where: toWhere(o.where),
      exact: Boolean(o.exact),
      target: o.target ?? 'image',
      ...(view ? { view } : {}),
    });
    return { notice: RESEARCH_NOTICE, index: resolve(dir), model: encoder.info.id, ...r, hits: r.hits.map((h) => withoutPhi(h, Boolean(o.showPhi))) };
  };
  const dispose = async () => {
    index.close();
    await encoder.dispose();
  };
  return callable(run as SimilarCaseSearchPipeline, { task: 'similar-case-search' as const, encoder, dispose });
}

async function draftReportPipeline(corpusPath: string, model: string | undefined, options: PipelineOptions): Promise<DraftReportPipeline> {
  const jsonl = isJsonlCorpus(corpusPath);
  const encoder = jsonl ? await loadDualEncoder(model ?? DEFAULT_MODEL, options) : await indexPipelineModel(corpusPath, model, options, true);
  let corpus: DraftCorpus;
  let index: CaseIndex | undefined;
  try {
    corpus = jsonl ? { records: readTextCorpus(corpusPath, options.fields) } : { index: (index = await CaseIndex.open(corpusPath, { model: indexModelFrom(encoder.info) })) };
  } catch (e) {
    await encoder.dispose();
    throw e;
  }
  const run = async (input: ImageInput, o: DraftCallOptions = {}): Promise<DraftOutput> => {
    const view = o.view ?? options.view;
    const draft = await draftReport(encoder, corpus, input, {
      ...(o.k !== undefined ? { k: o.k } : {}),
      ...(o.sentences !== undefined ? { maxSentences: o.sentences } : {}),
      ...(o.caseWeight !== undefined ? { caseWeight: o.caseWeight } : {}),
      ...(o.fields ? { fields: o.fields } : {}),
      where: toWhere(o.where),
      ...(view ? { view } : {}),
    });
    return { model: encoder.info.id, ...draft };
  };
  const dispose = async () => {
    index?.close();
    await encoder.dispose();
  };
  const similar = async (input: ImageInput, o: Pick<DraftCallOptions, 'k' | 'where' | 'view'> = {}) => {
    const view = o.view ?? options.view;
    return similarCases(encoder, corpus, input, { ...(o.k !== undefined ? { k: o.k } : {}), where: toWhere(o.where), ...(view ? { view } : {}) });
  };
  return callable(run as unknown as DraftReportPipeline, { task: 'draft-report' as const, encoder, dispose, similar });
}
