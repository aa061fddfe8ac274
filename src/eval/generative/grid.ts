/**
 * The generative cells of `medvlm eval`: task `vqa` on VQA-RAD test and task `report-generation` on
 * MedPix 2.0 test, for every generator (local folder or bundled name, or a served / hosted model id such
 * as `openai:http://127.0.0.1:8000/v1#llava-med`) and for the baselines of the same run (majority
 * answer; nearest report and retrieval draft by the retriever's embeddings). One JSON per cell at
 * `<out>/<model slug>/<dataset>/<task>.json`, written atomically, with its per-item outputs. A cell
 * whose file holds the same cache key (model files, items, task, options) is skipped unless `force`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { removeStaleTempFiles, writeAtomic } from '../../core/atomic.js';
import { errorToJSON, type ErrorCode } from '../../core/errors.js';
import { packageVersion } from '../../core/paths.js';
import type { DualEncoder, GenerationResult, VisionLanguageGenerator } from '../../models/capabilities.js';
import { RESEARCH_NOTICE } from '../../models/defaults.js';
import { hashFolderFiles } from '../../runtime/hashing.js';
import { generateForFile } from '../../tasks/generate.js';
import type { ViewOptions } from '../../transforms/index.js';
import { EmbeddingCache } from '../cache.js';
import { resolveDataRoot } from '../datasets/registry.js';
import { cellPath, defaultCacheDir } from '../runner.js';
import { BASELINES, DRAFT_BASELINE_SETTINGS, majorityAnswers, retrievalBaselines } from './baselines.js';
import {
  GENERATIVE_DATASET,
  generativeSource,
  itemsHash,
  loadMedpixReports,
  loadVqaRad,
  type GenerativeTask,
  type MedpixData,
  type ReportItem,
  type VqaData,
  type VqaQuestion,
} from './data.js';
import { reportMetrics, scoreReportItem, scoreVqaItem, vqaMetrics } from './metrics.js';
import { GENERATIVE_CELL_SCHEMA, type CellDataset, type CellModel, type GenerativeCell, type ReportCell, type ReportCellItem, type VqaCell, type VqaCellItem } from './schema.js';

/** How every generative cell decodes (recorded in the cell). */
const GREEDY_NOTE = "greedy / the backend's deterministic setting; local models apply their generation_config.json (e.g. no_repeat_ngram_size)";

/** A generative cell: who (generator or baseline id), on which data set, which task. */
export interface GenerativeCellRef {
  model: string;
  dataset: string;
  task: GenerativeTask;
}

/** What the grid reports while it works (the CLI prints lines and progress bars). */
export type GenerativeEvent =
  | { type: 'dataset-missing'; task: GenerativeTask; message: string }
  | { type: 'cell-skip'; cell: GenerativeCellRef; file: string }
  | { type: 'cell-start'; cell: GenerativeCellRef }
  | { type: 'progress-start'; label: string; total: number }
  | { type: 'progress'; done: number; total: number; name: string }
  | { type: 'progress-end' }
  | { type: 'cell-done'; cell: GenerativeCellRef; file: string; result: GenerativeCell }
  | { type: 'cell-failed'; cell: GenerativeCellRef; error: { code: ErrorCode; message: string } };

/** Options of `runGenerativeEval`. */
export interface GenerativeGridOptions {
  /** Generator ids (bundled name, folder, hub id, or openai:/anthropic:/gemini: ids). */
  generators: string[];
  tasks: GenerativeTask[];
  out: string;
  loadGenerator: (id: string) => Promise<VisionLanguageGenerator>;
  /** Loads the retriever of the report baselines. */
  loadEncoder: (id: string) => Promise<DualEncoder>;
  /** Dual encoder of the nearest-report and draft-report baselines (default medvlm-tiny). */
  retriever?: string;
  /** Compute the baseline cells (default true). */
  baselines?: boolean;
  dataRoot?: string;
  /** Embedding cache folder (default as the classification grid). */
  cacheDir?: string;
  force?: boolean;
  seed?: number;
  /** Bootstrap resamples of per-item means (default 1000). */
  bootstrap?: number;
  /** Bootstrap resamples of the corpus text metrics (default 100: each one scores the whole corpus). */
  textBootstrap?: number;
  /** First N items of each test split only (quick runs; recorded in the cell). */
  limit?: number;
  /** Generations in flight at once (default 1; served generators also obey their own concurrency limit). */
  concurrency?: number;
  /** Most new tokens: VQA answers (default 8) and reports (default 160), as the model card's evaluation. */
  maxTokens?: { vqa?: number; report?: number };
  /** VQA prompt; `{question}` is replaced by the question (default: the question alone). */
  vqaPrompt?: string;
  /** Report prompt (default empty: medvlm-tiny-gen's report prompt; served models want an instruction). */
  reportPrompt?: string;
  view?: ViewOptions;
  batchSize?: number;
  onEvent?: (e: GenerativeEvent) => void;
  signal?: AbortSignal;
}

/** What a run did. */
export interface GenerativeSummary {
  written: string[];
  skipped: string[];
  missingDatasets: Array<{ task: GenerativeTask; message: string }>;
  failed: Array<{ cell: GenerativeCellRef; error: { code: ErrorCode; message: string } }>;
}

/** Errors that would fail every item the same way: they fail the cell instead of being recorded per item. */
const FATAL: readonly string[] = ['E_REMOTE_NOT_ALLOWED', 'E_REMOTE_AUTH', 'E_REMOTE_BUDGET'];

const TITLES: Record<GenerativeTask, { title: string; licence: string; evaluationOnly: boolean }> = {
  vqa: { title: 'VQA-RAD test questions (closed and open)', licence: 'VQA-RAD (Lau et al., Scientific Data 2018), CC0 1.0; evaluation only', evaluationOnly: true },
  'report-generation': {
    title: 'MedPix 2.0 test images, reference = caption + findings',
    licence: 'MedPix 2.0 (Siragusa et al., Data Science and Engineering 2025), images from NLM MedPix; research and education use only',
    evaluationOnly: false,
  },
};

/** Files beside onnx/ that change a local generator's outputs (its model card, metrics.json etc. do not). */
const DEFINING_FILES = ['config.json', 'generation_config.json', 'preprocessor_config.json', 'processor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.json'];

/** sha256 of the files that define a local generator (its configuration, tokenizer and onnx/ weights); {} for a served one. */
export async function generatorFileHashes(g: VisionLanguageGenerator): Promise<Record<string, string>> {
  const dir = g.info.location;
  if (g.info.backend !== 'transformers.js' || !existsSync(dir) || !statSync(dir).isDirectory()) return {};
  const files = DEFINING_FILES.filter((f) => existsSync(join(dir, f)));
  if (existsSync(join(dir, 'onnx'))) files.push(...readdirSync(join(dir, 'onnx')).filter((f) => /\.onnx(_data)?$/.test(f)).map((f) => `onnx/${f}`));
  return hashFolderFiles(dir, files);
}

function cacheKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function existingKey(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { schema?: string; cacheKey?: string };
    return v.schema === GENERATIVE_CELL_SCHEMA ? v.cacheKey : undefined;
  } catch {
    return undefined;
  }
}

/** Run `fn` over items with at most `n` in flight, results in item order. */
async function mapPool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  return out;
}

interface Loaded {
  root: string;
  vqa?: VqaData;
  medpix?: MedpixData;
}

interface Generated {
  texts: Array<string | null>;
  failures: Array<{ id: string; error: { code: ErrorCode; message: string } }>;
  usage: { requests: number; promptTokens: number; completionTokens: number };
  destinations: { local: number; loopback: number; remote: number; hosts: string[] };
  ms: number;
}

/** Generate for each (image, prompt) pair, failures recorded per item except the fatal ones. */
async function generateAll(g: VisionLanguageGenerator, jobs: Array<{ id: string; path: string; prompt: string }>, maxTokens: number, o: GenerativeGridOptions, label: string): Promise<Generated> {
  const emit = o.onEvent ?? (() => {});
  const t0 = performance.now();
  const res: Generated = { texts: [], failures: [], usage: { requests: 0, promptTokens: 0, completionTokens: 0 }, destinations: { local: 0, loopback: 0, remote: 0, hosts: [] }, ms: 0 };
  const hosts = new Set<string>();
  let done = 0;
  emit({ type: 'progress-start', label, total: jobs.length });
  try {
    res.texts = await mapPool(jobs, o.concurrency ?? 1, async (job) => {
      o.signal?.throwIfAborted();
      let r: GenerationResult | undefined;
      try {
        r = await generateForFile(g, job.path, job.prompt, { maxTokens, temperature: 0, ...(o.view ? { view: o.view } : {}), ...(o.signal ? { signal: o.signal } : {}) });
      } catch (e) {
        const error = errorToJSON(e, job.path);
        if (FATAL.includes(error.code) || o.signal?.aborted) throw e;
        res.failures.push({ id: job.id, error: { code: error.code, message: error.message } });
      }
      emit({ type: 'progress', done: ++done, total: jobs.length, name: job.id });
      if (!r) return null;
      res.usage.requests++;
      res.usage.promptTokens += r.usage.promptTokens ?? 0;
      res.usage.completionTokens += r.usage.completionTokens ?? 0;
      res.destinations[r.image.kind]++;
      if (r.image.host) hosts.add(r.image.host);
      return r.text.trim();
    });
  } finally {
    emit({ type: 'progress-end' });
  }
  res.destinations.hosts = [...hosts].sort();
  res.ms = performance.now() - t0;
  return res;
}

function limited<T>(items: T[], limit: number | undefined): T[] {
  return limit ? items.slice(0, limit) : items;
}

function datasetRecord(task: GenerativeTask, root: string, lines: string[], n: number, available: number, o: GenerativeGridOptions, notes: string[]): CellDataset {
  return {
    id: GENERATIVE_DATASET[task],
    title: TITLES[task].title,
    split: 'test',
    source: generativeSource(task, '').replace(/^[\\/]/, ''),
    itemsHash: itemsHash(lines),
    n,
    available,
    ...(o.limit ? { limit: o.limit } : {}),
    licence: TITLES[task].licence,
    evaluationOnly: TITLES[task].evaluationOnly,
    notes: [`data root: ${root === resolveDataRoot() ? 'default' : 'given'}`, ...notes],
  };
}

function header(o: GenerativeGridOptions, key: string): Pick<GenerativeCell, 'medvlmVersion' | 'node' | 'createdAt' | 'cacheKey' | 'seed' | 'bootstrap' | 'researchNotice'> {
  return { medvlmVersion: packageVersion(), node: process.version, createdAt: new Date().toISOString(), cacheKey: key, seed: o.seed ?? 0, bootstrap: o.bootstrap ?? 1000, researchNotice: RESEARCH_NOTICE };
}

const vqaLines = (qs: VqaQuestion[]) => qs.map((q) => `${q.qid}\t${q.image}\t${q.question}\t${q.answer}`);
const reportLines = (its: ReportItem[]) => its.map((it) => `${it.id}\t${it.caseId}\t${it.reference}`);

/** The options that change a cell's numbers (part of every cache key). */
function keyOptions(o: GenerativeGridOptions, task: GenerativeTask): unknown {
  return {
    task,
    limit: o.limit ?? null,
    seed: o.seed ?? 0,
    bootstrap: o.bootstrap ?? 1000,
    textBootstrap: task === 'report-generation' ? (o.textBootstrap ?? 100) : null,
    view: o.view ?? {},
  };
}

function vqaPrompt(o: GenerativeGridOptions, q: VqaQuestion): string {
  const t = o.vqaPrompt ?? '{question}';
  return t.includes('{question}') ? t.split('{question}').join(q.question) : `${t} ${q.question}`.trim();
}

async function generatorCell(g: VisionLanguageGenerator, task: GenerativeTask, data: Loaded, o: GenerativeGridOptions, key: string, model: CellModel): Promise<GenerativeCell> {
  const t0 = performance.now();
  const common = { ...header(o, key), model };
  if (task === 'vqa') {
    const all = data.vqa!;
    const qs = limited(all.test, o.limit);
    const maxTokens = o.maxTokens?.vqa ?? 8;
    const gen = await generateAll(g, qs.map((q) => ({ id: String(q.qid), path: q.path, prompt: vqaPrompt(o, q) })), maxTokens, o, `  ${g.info.id} × VQA-RAD questions`);
    const m0 = performance.now();
    const answered = qs.flatMap((q, i) => (gen.texts[i] === null ? [] : [{ q, text: gen.texts[i]! }]));
    const kept = answered.map((a) => a.q);
    const items: VqaCellItem[] = answered.map((a) => scoreVqaItem(a.q, a.text));
    const cell: VqaCell = {
      schema: GENERATIVE_CELL_SCHEMA,
      task: 'vqa',
      ...common,
      dataset: datasetRecord('vqa', data.root, vqaLines(kept), kept.length, all.test.length, o, []),
      generation: { prompt: o.vqaPrompt ?? '{question}', maxTokens, temperature: 0, concurrency: o.concurrency ?? 1, notes: [GREEDY_NOTE] },
      metrics: vqaMetrics(items, all.majority, { samples: o.bootstrap ?? 1000, seed: o.seed ?? 0 }),
      items,
      failures: gen.failures,
      usage: gen.usage,
      destinations: gen.destinations,
      timings: { totalMs: 0, generateMs: gen.ms, metricsMs: performance.now() - m0 },
    };
    cell.timings.totalMs = performance.now() - t0;
    return cell;
  }
  const all = data.medpix!;
  const its = limited(all.test, o.limit);
  const maxTokens = o.maxTokens?.report ?? 160;
  const prompt = o.reportPrompt ?? '';
  const gen = await generateAll(g, its.map((it) => ({ id: it.id, path: it.path, prompt })), maxTokens, o, `  ${g.info.id} × MedPix reports`);
  const m0 = performance.now();
  const answered = its.flatMap((it, i) => (gen.texts[i] === null ? [] : [{ it, text: gen.texts[i]! }]));
  const kept = answered.map((a) => a.it);
  const items: ReportCellItem[] = answered.map((a) => scoreReportItem(a.it, a.text));
  const cell: ReportCell = {
    schema: GENERATIVE_CELL_SCHEMA,
    task: 'report-generation',
    ...common,
    dataset: datasetRecord('report-generation', data.root, reportLines(kept), kept.length, all.test.length, o, []),
    generation: { prompt, maxTokens, temperature: 0, concurrency: o.concurrency ?? 1, notes: [GREEDY_NOTE] },
    metrics: reportMetrics(items, { samples: o.bootstrap ?? 1000, seed: o.seed ?? 0, textSamples: o.textBootstrap ?? 100 }),
    items,
    failures: gen.failures,
    usage: gen.usage,
    destinations: gen.destinations,
    timings: { totalMs: 0, generateMs: gen.ms, metricsMs: performance.now() - m0 },
  };
  cell.timings.totalMs = performance.now() - t0;
  return cell;
}

function generatorModel(g: VisionLanguageGenerator, fileHashes: Record<string, string>): CellModel {
  return { id: g.info.id, kind: 'generator', backend: g.info.backend, family: g.info.family, model: g.info.model, location: g.info.location, fileHashes };
}

/** Load the data of the asked tasks; a missing data set is reported and its task dropped. */
function loadData(o: GenerativeGridOptions, summary: GenerativeSummary): { data: Loaded; tasks: GenerativeTask[] } {
  const emit = o.onEvent ?? (() => {});
  const root = resolveDataRoot(o.dataRoot);
  const data: Loaded = { root };
  const tasks: GenerativeTask[] = [];
  for (const task of o.tasks) {
    const file = generativeSource(task, root);
    if (!existsSync(file)) {
      const message = `data set ${GENERATIVE_DATASET[task]}: ${file} not found; ${task} skipped (set --data-root or MEDVLM_DATA)`;
      summary.missingDatasets.push({ task, message });
      emit({ type: 'dataset-missing', task, message });
      continue;
    }
    if (task === 'vqa') data.vqa = loadVqaRad(root);
    else data.medpix = loadMedpixReports(root);
    tasks.push(task);
  }
  return { data, tasks };
}

/** Write a finished cell and report it. */
async function finish(o: GenerativeGridOptions, summary: GenerativeSummary, cell: GenerativeCellRef, result: GenerativeCell): Promise<void> {
  const file = cellPath(o.out, cell);
  await writeAtomic(file, JSON.stringify(result, null, 2) + '\n');
  summary.written.push(file);
  o.onEvent?.({ type: 'cell-done', cell, file, result });
}

function fail(o: GenerativeGridOptions, summary: GenerativeSummary, cell: GenerativeCellRef, e: unknown): void {
  const err = errorToJSON(e);
  const error = { code: err.code, message: err.message };
  summary.failed.push({ cell, error });
  o.onEvent?.({ type: 'cell-failed', cell, error });
}

/** True (and reported) when the cell's file already holds this cache key. */
function upToDate(o: GenerativeGridOptions, summary: GenerativeSummary, cell: GenerativeCellRef, key: string): boolean {
  const file = cellPath(o.out, cell);
  if (o.force || existingKey(file) !== key) return false;
  summary.skipped.push(file);
  o.onEvent?.({ type: 'cell-skip', cell, file });
  return true;
}

async function runBaselines(o: GenerativeGridOptions, data: Loaded, tasks: GenerativeTask[], summary: GenerativeSummary): Promise<void> {
  const emit = o.onEvent ?? (() => {});
  if (tasks.includes('vqa')) {
    const cell: GenerativeCellRef = { model: BASELINES.majority, dataset: 'vqa-rad', task: 'vqa' };
    const key = cacheKey({ model: BASELINES.majority, items: itemsHash(vqaLines(limited(data.vqa!.test, o.limit))), majority: data.vqa!.majority, options: keyOptions(o, 'vqa') });
    if (!upToDate(o, summary, cell, key)) {
      emit({ type: 'cell-start', cell });
      const t0 = performance.now();
      const qs = limited(data.vqa!.test, o.limit);
      const items = majorityAnswers(qs, data.vqa!.majority);
      const m = data.vqa!.majority;
      const result: VqaCell = {
        schema: GENERATIVE_CELL_SCHEMA,
        task: 'vqa',
        ...header(o, key),
        model: {
          id: BASELINES.majority, kind: 'baseline', backend: 'majority-answer', family: 'baseline', model: 'majority-answer', fileHashes: {},
          method: `the most frequent normalised answer of VQA-RAD's train split: closed "${m.closed.answer}" (${m.closed.count} of ${m.closed.of}), open "${m.open.answer}" (${m.open.count} of ${m.open.of})`,
        },
        dataset: datasetRecord('vqa', data.root, vqaLines(qs), qs.length, data.vqa!.test.length, o, []),
        metrics: vqaMetrics(items, m, { samples: o.bootstrap ?? 1000, seed: o.seed ?? 0 }),
        items,
        failures: [],
        timings: { totalMs: performance.now() - t0, generateMs: 0, metricsMs: performance.now() - t0 },
      };
      await finish(o, summary, cell, result);
    }
  }
  if (!tasks.includes('report-generation')) return;
  const retrieverId = o.retriever ?? 'medvlm-tiny';
  const cells = [BASELINES.nearest, BASELINES.draft].map((model) => ({ model, dataset: 'medpix2', task: 'report-generation' as const }));
  const test = limited(data.medpix!.test, o.limit);
  let encoder: DualEncoder;
  try {
    encoder = await o.loadEncoder(retrieverId);
  } catch (e) {
    for (const c of cells) fail(o, summary, c, e);
    return;
  }
  try {
    const info = encoder.info;
    const keys = cells.map((c) =>
      cacheKey({ model: c.model, retriever: { files: info.fileHashes, dtype: info.dtype }, settings: c.model === BASELINES.draft ? DRAFT_BASELINE_SETTINGS : null, items: itemsHash(reportLines(test)), corpus: itemsHash(reportLines(data.medpix!.train)), options: keyOptions(o, 'report-generation') }),
    );
    const todo = cells.filter((c, i) => !upToDate(o, summary, c, keys[i]));
    if (todo.length === 0) return;
    for (const c of todo) emit({ type: 'cell-start', cell: c });
    const t0 = performance.now();
    const cacheRoot = o.cacheDir ?? defaultCacheDir(o.out);
    removeStaleTempFiles(cacheRoot);
    const cache = new EmbeddingCache(cacheRoot, info, 'medpix2-reports', o.view ?? {});
    let out: Awaited<ReturnType<typeof retrievalBaselines>>;
    try {
      out = await retrievalBaselines(encoder, data.medpix!.train, test, {
        cache,
        ...(o.view ? { view: o.view } : {}),
        ...(o.batchSize ? { batchSize: o.batchSize } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        onEmbedStart: (n) => emit({ type: 'progress-start', label: `  ${retrieverId} images (train corpus + test)`, total: n }),
        onProgress: (done, total, name) => emit({ type: 'progress', done, total, name }),
      });
    } finally {
      emit({ type: 'progress-end' });
    }
    const genMs = performance.now() - t0;
    for (const c of todo) {
      const i = cells.indexOf(c);
      const items = c.model === BASELINES.nearest ? out.nearest : out.draft;
      const keptIds = new Set(items.map((x) => x.id));
      const kept = test.filter((it) => keptIds.has(it.id));
      const m0 = performance.now();
      const result: ReportCell = {
        schema: GENERATIVE_CELL_SCHEMA,
        task: 'report-generation',
        ...header(o, keys[i]),
        model: {
          id: c.model, kind: 'baseline', backend: c.model.replace(/^baseline:/, ''), family: 'baseline', model: c.model.replace(/^baseline:/, ''), fileHashes: info.fileHashes,
          method: c.model === BASELINES.nearest
            ? `the caption + findings of the most similar MedPix train image (exact cosine of ${retrieverId} image embeddings; ${data.medpix!.train.length} train images)`
            : `medvlm draft-report from the MedPix train images (${retrieverId}; k ${DRAFT_BASELINE_SETTINGS.k}, ${DRAFT_BASELINE_SETTINGS.maxSentences} sentences, case weight ${DRAFT_BASELINE_SETTINGS.caseWeight}: the settings docs/search.md chose on MedPix dev)`,
          retriever: { id: retrieverId, dtype: info.dtype, fileHashes: info.fileHashes },
        },
        dataset: datasetRecord('report-generation', data.root, reportLines(kept), kept.length, data.medpix!.test.length, o, []),
        metrics: reportMetrics(items, { samples: o.bootstrap ?? 1000, seed: o.seed ?? 0, textSamples: o.textBootstrap ?? 100 }),
        items,
        failures: out.failures.map((f) => ({ id: f.id, error: { code: f.code, message: f.message } })),
        timings: { totalMs: 0, generateMs: genMs, metricsMs: 0 },
      };
      result.timings.metricsMs = performance.now() - m0;
      result.timings.totalMs = performance.now() - t0;
      await finish(o, summary, c, result);
    }
  } catch (e) {
    if (o.signal?.aborted) throw e;
    for (const c of cells) if (!summary.written.includes(cellPath(o.out, c)) && !summary.skipped.includes(cellPath(o.out, c))) fail(o, summary, c, e);
  } finally {
    await encoder.dispose();
  }
}

/**
 * Run the generative cells. Missing data sets are reported and skipped; a failing cell is reported and
 * the grid goes on.
 */
export async function runGenerativeEval(o: GenerativeGridOptions): Promise<GenerativeSummary> {
  const summary: GenerativeSummary = { written: [], skipped: [], missingDatasets: [], failed: [] };
  removeStaleTempFiles(o.out);
  const { data, tasks } = loadData(o, summary);
  if (tasks.length === 0) return summary;
  for (const id of o.generators) {
    if (o.signal?.aborted) break;
    const cells = tasks.map((task) => ({ model: id, dataset: GENERATIVE_DATASET[task], task }));
    let g: VisionLanguageGenerator;
    try {
      g = await o.loadGenerator(id);
    } catch (e) {
      for (const c of cells) fail(o, summary, c, e);
      continue;
    }
    try {
      const fileHashes = await generatorFileHashes(g);
      for (const cell of cells) {
        if (o.signal?.aborted) break;
        const task = cell.task;
        const maxTokens = task === 'vqa' ? (o.maxTokens?.vqa ?? 8) : (o.maxTokens?.report ?? 160);
        const prompt = task === 'vqa' ? (o.vqaPrompt ?? '{question}') : (o.reportPrompt ?? '');
        const lines = task === 'vqa' ? vqaLines(limited(data.vqa!.test, o.limit)) : reportLines(limited(data.medpix!.test, o.limit));
        const key = cacheKey({ model: { id: g.info.id, backend: g.info.backend, model: g.info.model, files: fileHashes }, items: itemsHash(lines), prompt, maxTokens, options: keyOptions(o, task) });
        if (upToDate(o, summary, cell, key)) continue;
        o.onEvent?.({ type: 'cell-start', cell });
        try {
          await finish(o, summary, cell, await generatorCell(g, task, data, o, key, generatorModel(g, fileHashes)));
        } catch (e) {
          if (o.signal?.aborted) break;
          fail(o, summary, cell, e);
        }
      }
    } finally {
      await g.dispose();
    }
  }
  if ((o.baselines ?? true) && !o.signal?.aborted) await runBaselines(o, data, tasks, summary);
  return summary;
}
