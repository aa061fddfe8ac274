/**
 * JSON Schemas (TypeBox) of the generative evaluation cells — one file per (generator or baseline ×
 * data set × task) — and their TypeScript types. A cell keeps its per-item outputs beside the metrics,
 * so `medvlm report --compare` can run paired statistics on the same items without rerunning.
 * JSON writes NaN as null, so every number that can be undefined (a CI of an empty set) admits null.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Schema tag of a generative cell; bump on incompatible changes. */
export const GENERATIVE_CELL_SCHEMA = 'medvlm.eval.generative-cell/1';

const Num = Type.Union([Type.Number(), Type.Null()]);
const Str = Type.String();
const Int = Type.Integer({ minimum: 0 });
const opt = <T extends TSchema>(t: T) => Type.Optional(t);

/** A value with its 95% percentile bootstrap CI. */
export const CISchema = Type.Object({ value: Num, lo: Num, hi: Num }, { $id: 'GenerativeCI' });

const ErrorSchema = Type.Object({ code: Str, message: Str });

/** What was evaluated: a generator (local or served) or a baseline method. */
const ModelSchema = Type.Object({
  id: Str,
  kind: Type.Union([Type.Literal('generator'), Type.Literal('baseline')]),
  /** Generator: local / openai / anthropic / gemini; baseline: the method name. */
  backend: Str,
  family: Str,
  model: Str,
  /** Folder (local) or base URL (served, never with credentials). */
  location: opt(Str),
  /** sha256 of the model files (local generators; baselines: the retriever's files). */
  fileHashes: Type.Record(Str, Str),
  /** Baselines: how the prediction is made. */
  method: opt(Str),
  /** Baselines that retrieve: the dual encoder used. */
  retriever: opt(Type.Object({ id: Str, dtype: Str, fileHashes: Type.Record(Str, Str) })),
});

const DatasetSchema = Type.Object({
  id: Str,
  title: Str,
  split: Type.Literal('test'),
  /** The data file, relative to the data root. */
  source: Str,
  /** sha256 over the measured items' ids and truths, in order. */
  itemsHash: Str,
  /** Items measured (failures left out). */
  n: Int,
  /** Items of the split before `limit`. */
  available: Int,
  /** First N items only (quick runs). */
  limit: opt(Int),
  licence: Str,
  evaluationOnly: Type.Boolean(),
  notes: Type.Array(Str),
});

const GenerationSettingsSchema = Type.Object({
  prompt: Str,
  maxTokens: Int,
  temperature: Type.Number(),
  /** Requests in flight at once (served generators). */
  concurrency: Int,
  notes: Type.Array(Str),
});

const RunSchema = {
  medvlmVersion: Str,
  node: Str,
  createdAt: Str,
  /** sha256 of what determines the cell (model files, items, task, options): a cell with the same key is not recomputed. */
  cacheKey: Str,
  seed: Type.Integer(),
  bootstrap: Int,
  failures: Type.Array(Type.Object({ id: Str, error: ErrorSchema })),
  /** Token usage summed over the generations (absent for baselines). */
  usage: opt(Type.Object({ requests: Int, promptTokens: Int, completionTokens: Int })),
  /** Where the images went: generations per destination kind and the hosts (no credentials). */
  destinations: opt(Type.Object({ local: Int, loopback: Int, remote: Int, hosts: Type.Array(Str) })),
  timings: Type.Object({ totalMs: Type.Number(), generateMs: Type.Number(), metricsMs: Type.Number() }),
  researchNotice: Str,
};

/** One VQA-RAD question's output. */
export const VqaItemSchema = Type.Object({
  id: Str,
  qid: Type.Integer(),
  image: Str,
  question: Str,
  truth: Str,
  prediction: Str,
  answerType: Type.Union([Type.Literal('CLOSED'), Type.Literal('OPEN')]),
  questionType: Str,
  /** Closed: exact match after normalizeAnswer (0/1). */
  hit: opt(Type.Union([Type.Literal(0), Type.Literal(1)])),
  /** Closed: LLaVA-Med's hit (null: left out by that protocol). */
  llavaMedHit: opt(Type.Union([Type.Literal(0), Type.Literal(1), Type.Null()])),
  /** Open: LLaVA-Med token recall, exact match and F1. */
  recall: opt(Type.Number()),
  exactMatch: opt(Type.Number()),
  f1: opt(Type.Number()),
});

const TypeRow = Type.Object({ n: Int, value: CISchema });

/** `vqa` cell metrics. */
export const VqaMetricsSchema = Type.Object({
  kind: Type.Literal('vqa'),
  closed: Type.Object({
    n: Int,
    /** Exact match after normalizeAnswer, 95% bootstrap CI over questions. */
    accuracy: CISchema,
    byType: Type.Record(Str, TypeRow),
  }),
  open: Type.Object({
    n: Int,
    recall: CISchema,
    exactMatch: CISchema,
    f1: CISchema,
    /** Open recall by question type. */
    byType: Type.Record(Str, TypeRow),
  }),
  /** LLaVA-Med's protocol (src/metrics/vqa-llava-med.ts): closed accuracy with its drops, and the strict variant. */
  llavaMed: Type.Object({
    closed: Type.Object({ n: Int, counted: Int, dropped: Int, accuracy: CISchema, strictAccuracy: CISchema }),
    open: Type.Object({ n: Int, recall: CISchema, exactMatch: CISchema, f1: CISchema }),
  }),
  /** Most frequent normalised answers in the train split (what the majority baseline predicts). */
  majority: Type.Object({ closed: Type.Object({ answer: Str, count: Int, of: Int }), open: Type.Object({ answer: Str, count: Int, of: Int }) }),
});

/** One MedPix image's generated report. */
export const ReportItemSchema = Type.Object({
  id: Str,
  case: Str,
  reference: Str,
  text: Str,
  modality: Str,
  region: Str,
  modalityRight: Type.Union([Type.Literal(0), Type.Literal(1)]),
  regionRight: Type.Union([Type.Literal(0), Type.Literal(1)]),
  /** Baselines: the train images the text came from. */
  sources: opt(Type.Array(Str)),
});

const TextCI = Type.Object({ bleu1: CISchema, bleu2: CISchema, bleu3: CISchema, bleu4: CISchema, rougeL: CISchema, meteor: CISchema, ciderD: CISchema });

/** `report-generation` cell metrics. */
export const ReportMetricsSchema = Type.Object({
  kind: Type.Literal('report-generation'),
  n: Int,
  cases: Int,
  /** Corpus metrics with case-level bootstrap CIs (`textBootstrap` resamples). */
  text: TextCI,
  textBootstrap: Int,
  modalityRight: CISchema,
  regionRight: CISchema,
  meanWords: Num,
  meanReferenceWords: Num,
  conventions: Str,
});

/** A `vqa` cell. */
export const VqaCellSchema = Type.Object(
  {
    schema: Type.Literal(GENERATIVE_CELL_SCHEMA),
    task: Type.Literal('vqa'),
    ...RunSchema,
    model: ModelSchema,
    dataset: DatasetSchema,
    generation: opt(GenerationSettingsSchema),
    metrics: VqaMetricsSchema,
    items: Type.Array(VqaItemSchema),
  },
  { $id: 'VqaCell' },
);

/** A `report-generation` cell. */
export const ReportCellSchema = Type.Object(
  {
    schema: Type.Literal(GENERATIVE_CELL_SCHEMA),
    task: Type.Literal('report-generation'),
    ...RunSchema,
    model: ModelSchema,
    dataset: DatasetSchema,
    generation: opt(GenerationSettingsSchema),
    metrics: ReportMetricsSchema,
    items: Type.Array(ReportItemSchema),
  },
  { $id: 'ReportGenerationCell' },
);

export type VqaCell = Static<typeof VqaCellSchema>;
export type ReportCell = Static<typeof ReportCellSchema>;
export type VqaCellItem = Static<typeof VqaItemSchema>;
export type ReportCellItem = Static<typeof ReportItemSchema>;
export type GenerativeCell = VqaCell | ReportCell;
export type GenerativeCI = Static<typeof CISchema>;
/** Fields every generative cell has apart from task, metrics and items. */
export type CellModel = Static<typeof ModelSchema>;
export type CellDataset = Static<typeof DatasetSchema>;
