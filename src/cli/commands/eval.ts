import { Command, Option } from 'commander';
import { OptionError } from '../../core/errors.js';
import { removeLiveTempFiles } from '../../core/atomic.js';
import { datasetSpecs } from '../../eval/datasets/registry.js';
import { EVAL_TASKS, type EvalTask } from '../../eval/datasets/types.js';
import { runEval, type Cell, type EvalEvent } from '../../eval/runner.js';
import type { CellResult } from '../../eval/result.js';
import { DEFAULT_GENERATOR, DEFAULT_MODEL, RESEARCH_NOTICE } from '../../models/defaults.js';
import { exitCodeFor } from '../exit-codes.js';
import { loadDualEncoder, loadTextSegmenter } from '../../models/registry.js';
import { DENSE_DATASETS, DENSE_TASKS, runDenseEval, type DenseTask } from '../../eval/dense/grid.js';
import { GENERATIVE_TASKS, type GenerativeTask } from '../../eval/generative/data.js';
import { runGenerativeEval, type GenerativeEvent } from '../../eval/generative/grid.js';
import { generativeHeadline } from '../../eval/generative/tables.js';
import { loadGenerator } from '../../models/generators.js';
import { generatorOptions, pipelineOptions, type ModelCliOptions } from '../model.js';
import { intOption, modelOptions, toViewOptions, viewOptions, type ViewCliOptions } from '../options.js';
import { note, out } from '../output.js';
import { progressBar } from '../progress.js';
import { runQueuedEval } from './eval-queue.js';
import { queueOptions } from './queue.js';

interface EvalCliOptions extends Omit<ModelCliOptions, 'model'>, ViewCliOptions {
  models: string;
  datasets: string;
  tasks: string;
  segmenters: string;
  out: string;
  dataRoot?: string;
  cache?: string;
  force?: boolean;
  seed: number;
  seeds: number;
  shots: string;
  bootstrap: number;
  probeC: number;
  json?: boolean;
  queue?: string;
  queueName: string;
  imageBatch?: number;
  generators: string;
  retriever: string;
  baselines: boolean;
  limit?: number;
  concurrency: number;
  requestBudget?: number;
  allowRemote?: boolean;
  apiKeyFile?: string;
  vqaPrompt?: string;
  reportPrompt?: string;
  maxTokensVqa: number;
  maxTokensReport: number;
  textBootstrap: number;
}

function list(name: string, v: string): string[] {
  const items = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new OptionError('E_BAD_OPTION', `${name}: empty list`);
  return [...new Set(items)];
}

function positiveNumber(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n)) throw new OptionError('E_BAD_OPTION', `${name} ${v}: expected a positive number`);
    return n;
  };
}

function cellName(c: Cell): string {
  return `${c.model} × ${c.dataset} × ${c.task}`;
}

/** One line that says what a finished cell measured. */
export function headline(r: CellResult): string {
  const m = r.metrics;
  const pct = (v: number | null) => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(3));
  switch (m.kind) {
    case 'single-label':
      return `accuracy ${pct(m.accuracy.value)} [${pct(m.accuracy.lo)}, ${pct(m.accuracy.hi)}], macro-AUROC ${pct(m.macroAuroc.value)}`;
    case 'multi-label':
      return `macro-AUROC ${pct(m.macroAuroc)}, macro-F1 ${pct(m.macroF1)}`;
    case 'few-shot': {
      const last = m.methods.linearProbe[m.methods.linearProbe.length - 1];
      const tip = m.methods.tipAdapter[m.methods.tipAdapter.length - 1];
      return `${last.k}-shot accuracy: linear probe ${pct(last.accuracy.mean)} ± ${pct(last.accuracy.sd)}, Tip-Adapter ${pct(tip.accuracy.mean)} ± ${pct(tip.accuracy.sd)}`;
    }
    case 'retrieval':
      return `image→text R@1/5/10 ${[1, 5, 10].map((k) => pct(m.imageToText.recallAtK[k])).join('/')}, text→image ${[1, 5, 10].map((k) => pct(m.textToImage.recallAtK[k])).join('/')}`;
  }
}

/** `medvlm eval`: the evaluation grid of models × data sets × tasks, one JSON result per cell. */
export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('evaluate models on benchmark data sets (zero-shot, few-shot, retrieval); one JSON result per cell, resumable')
    .option('--models <ids>', 'comma-separated model ids (bundled name, folder or hub id)', DEFAULT_MODEL)
    .option('--datasets <ids>', 'comma-separated data set ids, or "all" (see `medvlm datasets`)', 'all')
    .option(
      '--tasks <tasks>',
      `comma-separated tasks: ${[...EVAL_TASKS, ...DENSE_TASKS, ...GENERATIVE_TASKS].join(', ')} (the dense tasks ${DENSE_TASKS.join(', ')} run on ${DENSE_DATASETS.join(', ')}; vqa on VQA-RAD test and report-generation on MedPix 2.0 test run the --generators)`,
      EVAL_TASKS.join(','),
    )
    .option('--segmenters <ids>', 'text-prompted segmenters for the segmentation task', 'medvlm-tiny-seg')
    .option('--generators <ids>', 'generators for vqa and report-generation: bundled name, folder, hub id, openai:URL#MODEL, anthropic:MODEL, gemini:MODEL', DEFAULT_GENERATOR)
    .option('--retriever <id>', 'dual encoder of the nearest-report and draft-report baselines', DEFAULT_MODEL)
    .option('--no-baselines', 'skip the baseline cells of vqa / report-generation (majority answer, nearest report, draft report)')
    .addOption(new Option('--limit <n>', 'vqa, report-generation and the dense tasks: only the first N test items (quick runs; recorded in each cell)').argParser(intOption('--limit', 1)))
    .addOption(new Option('--concurrency <n>', 'generations in flight at once (served generators; local ones run one at a time best)').argParser(intOption('--concurrency', 1)).default(1))
    .addOption(new Option('--request-budget <n>', 'most HTTP requests per served generator, retries included').argParser(intOption('--request-budget', 1)))
    .option('--allow-remote', 'allow sending images (re-encoded PNG pixels only) to a generator on another host')
    .option('--api-key-file <file>', 'file holding the API key of a served generator (else OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY)')
    .option('--vqa-prompt <template>', 'VQA prompt, {question} is replaced by the question (default: the question alone)')
    .option('--report-prompt <text>', 'report-generation prompt (default: empty, the report prompt of medvlm-tiny-gen; served models want an instruction)')
    .addOption(new Option('--max-tokens-vqa <n>', 'most new tokens of a VQA answer').argParser(intOption('--max-tokens-vqa', 1)).default(8))
    .addOption(new Option('--max-tokens-report <n>', 'most new tokens of a report').argParser(intOption('--max-tokens-report', 1)).default(160))
    .addOption(new Option('--text-bootstrap <n>', 'case-level bootstrap resamples of the report text metrics (each scores the whole corpus)').argParser(intOption('--text-bootstrap')).default(100))
    .option('-o, --out <dir>', 'results folder', 'results')
    .option('--data-root <dir>', 'folder holding the data sets (default: MEDVLM_DATA, else ../shared/data next to the package)')
    .option('--cache <dir>', 'embedding cache folder (default: $MEDVLM_CACHE/embeddings, else <out>/.cache/medvlm/embeddings)')
    .option('--force', 'recompute cells whose result file exists')
    .addOption(new Option('--seed <n>', 'first seed: bootstrap and few-shot draws').argParser(intOption('--seed')).default(0))
    .addOption(new Option('--seeds <n>', 'few-shot seeds').argParser(intOption('--seeds', 1)).default(3))
    .option('--shots <list>', 'few-shot shots per class', '1,2,4,8,16')
    .addOption(new Option('--bootstrap <n>', 'bootstrap resamples for 95% CIs (0: none)').argParser(intOption('--bootstrap')).default(1000))
    .addOption(new Option('--probe-c <c>', 'linear probe inverse regularisation C (as sklearn)').argParser(positiveNumber('--probe-c')).default(1))
    .option('--json', 'print the run summary as JSON on stdout')
    .addOption(new Option('--image-batch <n>', 'with --queue: split each cell into jobs of this many images (a multiple of --batch-size) spread over the workers').argParser(intOption('--image-batch', 1)));
  for (const o of [...modelOptions(DEFAULT_MODEL).filter((o) => o.long !== '--model'), ...viewOptions(), ...queueOptions(false)]) cmd.addOption(o);
  return cmd.action(async (o: EvalCliOptions) => {
    if (o.imageBatch && !o.queue) throw new OptionError('E_BAD_OPTION', '--image-batch: only with --queue (a local run embeds each cell in one process)');
    const models = list('--models', o.models);
    const datasets = o.datasets === 'all' ? datasetSpecs().map((s) => s.id) : list('--datasets', o.datasets);
    const asked = list('--tasks', o.tasks);
    const known: string[] = [...EVAL_TASKS, ...DENSE_TASKS, ...GENERATIVE_TASKS];
    for (const t of asked) {
      if (!known.includes(t)) throw new OptionError('E_BAD_OPTION', `--tasks ${t}: unknown task; known: ${known.join(', ')}`);
    }
    const genTasks = asked.filter((t): t is GenerativeTask => (GENERATIVE_TASKS as readonly string[]).includes(t));
    const tasks = asked.filter((t): t is EvalTask => (EVAL_TASKS as readonly string[]).includes(t));
    const denseTasks = asked.filter((t): t is DenseTask => (DENSE_TASKS as readonly string[]).includes(t));
    if (genTasks.length) {
      await runGenerativeCli(o, genTasks);
      if (tasks.length === 0 && denseTasks.length === 0) return;
    }
    if (denseTasks.length) {
      const denseSets = o.datasets === 'all' ? [...DENSE_DATASETS] : DENSE_DATASETS.filter((d) => datasets.includes(d));
      const dense = await runDenseEval({
        models,
        segmenters: list('--segmenters', o.segmenters),
        datasets: denseSets,
        tasks: denseTasks,
        out: o.out,
        loadEncoder: (id) => loadDualEncoder(id, pipelineOptions(o)),
        loadSegmenter: (id) => loadTextSegmenter(id, { ...pipelineOptions(o), batchSize: o.batchSize }),
        ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}),
        force: Boolean(o.force),
        seed: o.seed,
        bootstrap: o.bootstrap,
        ...(o.limit ? { limit: o.limit } : {}),
        onNote: note,
      });
      note(`medvlm eval (dense): ${dense.written.length} written, ${dense.skipped.length} skipped, ${dense.failed.length} failed. ${RESEARCH_NOTICE}`);
      if (dense.failed.length) process.exitCode = exitCodeFor(dense.failed[0].error.code);
      if (o.json && tasks.length === 0) out(JSON.stringify(dense, null, 2));
      if (tasks.length === 0) return;
    }
    const shots = list('--shots', o.shots).map((s) => intOption('--shots', 1)(s)).sort((a, b) => a - b);
    let bar: ReturnType<typeof progressBar> | undefined;
    let written = 0;
    const inapplicable: string[] = [];
    const onSigint = () => {
      bar?.stop();
      removeLiveTempFiles();
      note(`medvlm eval: interrupted; ${written} cell(s) completed in ${o.out} this run are intact; run the same command again to resume`);
      process.exit(130);
    };
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);
    const onEvent = (e: EvalEvent) => {
      switch (e.type) {
        case 'dataset-missing':
          return note(`medvlm: ${e.message}`);
        case 'cell-skip':
          if (e.reason === 'exists') return note(`skip ${cellName(e.cell)}: result exists (--force to recompute)`);
          inapplicable.push(`${e.cell.dataset} × ${e.cell.task}`);
          return;
        case 'cell-start':
          return note(`[${e.index}/${e.total}] ${cellName(e.cell)}`);
        case 'embed-start':
          bar = progressBar(`  ${e.split} images`, e.images);
          return;
        case 'embed-progress':
          return bar?.onProgress?.(e.done, e.total, e.name);
        case 'embed-end':
          bar?.stop();
          bar = undefined;
          return;
        case 'cell-done':
          written++;
          return note(`  n=${e.result.dataset.n}: ${headline(e.result)} → ${e.file}`);
        case 'cell-failed':
          return note(`medvlm: ${cellName(e.cell)} failed: ${e.error.message} [${e.error.code}]`);
      }
    };
    try {
      const summary = o.queue
        ? await runQueuedEval({
            queue: o.queue,
            queueName: o.queueName,
            models,
            datasets,
            tasks,
            out: o.out,
            force: Boolean(o.force),
            ...(o.imageBatch ? { imageBatch: o.imageBatch } : {}),
            options: { seed: o.seed, seeds: o.seeds, shots, bootstrap: o.bootstrap, probeC: o.probeC, view: toViewOptions(o), batchSize: o.batchSize, ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}) },
          })
        : await runEval({
        models,
        datasets,
        tasks,
        out: o.out,
        load: (model) => loadDualEncoder(model, pipelineOptions(o)),
        ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}),
        ...(o.cache ? { cacheDir: o.cache } : {}),
        force: Boolean(o.force),
        seed: o.seed,
        seeds: o.seeds,
        shots,
        bootstrap: o.bootstrap,
        probeC: o.probeC,
        view: toViewOptions(o),
        batchSize: o.batchSize,
        onEvent,
      });
      if (inapplicable.length) note(`not applicable (the data set does not offer the task): ${[...new Set(inapplicable)].join(', ')}`);
      if (o.json) out(JSON.stringify(summary, null, 2));
      note(
        `medvlm eval: ${summary.written.length} written, ${summary.skipped.length} skipped, ${summary.failed.length} failed, ` +
          `${summary.missingDatasets.length} data set(s) missing. ${RESEARCH_NOTICE}`,
      );
      if (summary.failed.length) process.exitCode = exitCodeFor(summary.failed[0].error.code);
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  });
}

/** The generative cells (vqa, report-generation) of `medvlm eval`, with a progress bar per long step. */
async function runGenerativeCli(o: EvalCliOptions, tasks: GenerativeTask[]): Promise<void> {
  let bar: ReturnType<typeof progressBar> | undefined;
  const controller = new AbortController();
  const onSigint = () => {
    bar?.stop();
    controller.abort();
    removeLiveTempFiles();
    note(`medvlm eval: interrupted; the cells completed in ${o.out} are intact; run the same command again to resume`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  const onEvent = (e: GenerativeEvent) => {
    const name = (c: { model: string; dataset: string; task: string }) => `${c.model} × ${c.dataset} × ${c.task}`;
    switch (e.type) {
      case 'dataset-missing':
        return note(`medvlm: ${e.message}`);
      case 'cell-skip':
        return note(`skip ${name(e.cell)}: result exists with the same model files, items and options (--force to recompute)`);
      case 'cell-start':
        return note(name(e.cell));
      case 'progress-start':
        bar = progressBar(e.label, e.total);
        return;
      case 'progress':
        return bar?.onProgress?.(e.done, e.total, e.name);
      case 'progress-end':
        bar?.stop();
        bar = undefined;
        return;
      case 'cell-done':
        return note(`  n=${e.result.dataset.n}: ${generativeHeadline(e.result)} → ${e.file}`);
      case 'cell-failed':
        return note(`medvlm: ${name(e.cell)} failed: ${e.error.message} [${e.error.code}]`);
    }
  };
  try {
    const summary = await runGenerativeEval({
      generators: list('--generators', o.generators),
      tasks,
      out: o.out,
      loadGenerator: (id) =>
        loadGenerator(id, {
          ...generatorOptions(o, false),
          policy: { concurrency: o.concurrency, ...(o.requestBudget !== undefined ? { requestBudget: o.requestBudget } : {}) },
        }),
      loadEncoder: (id) => loadDualEncoder(id, pipelineOptions(o)),
      retriever: o.retriever,
      baselines: o.baselines,
      ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}),
      ...(o.cache ? { cacheDir: o.cache } : {}),
      force: Boolean(o.force),
      seed: o.seed,
      bootstrap: o.bootstrap,
      textBootstrap: o.textBootstrap,
      ...(o.limit ? { limit: o.limit } : {}),
      concurrency: o.concurrency,
      maxTokens: { vqa: o.maxTokensVqa, report: o.maxTokensReport },
      ...(o.vqaPrompt !== undefined ? { vqaPrompt: o.vqaPrompt } : {}),
      ...(o.reportPrompt !== undefined ? { reportPrompt: o.reportPrompt } : {}),
      view: toViewOptions(o),
      batchSize: o.batchSize,
      onEvent,
      signal: controller.signal,
    });
    if (o.json) out(JSON.stringify(summary, null, 2));
    note(`medvlm eval (generative): ${summary.written.length} written, ${summary.skipped.length} skipped, ${summary.failed.length} failed, ${summary.missingDatasets.length} data set(s) missing. ${RESEARCH_NOTICE}`);
    if (summary.failed.length) process.exitCode = exitCodeFor(summary.failed[0].error.code);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
