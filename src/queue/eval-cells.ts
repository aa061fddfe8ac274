/**
 * Evaluation grids on the work queue: one job per (model, data set, task) cell on the queue
 * `<name>-eval`. A worker runs the cell with the same `runEval` a local run uses (on its own data
 * root and embedding cache) and returns the cell's JSON; the orchestrating `medvlm eval --queue`
 * writes it where a local run would. Job ids are a hash of the cell and its options, so a restarted
 * orchestrator picks up cells finished meanwhile instead of running them again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, UnrecoverableError, WaitingChildrenError, Worker, type Job } from 'bullmq';
import type { ErrorCode } from '../core/errors.js';
import { datasetPresent, findDatasetSpec, resolveDataRoot } from '../eval/datasets/registry.js';
import { defaultCacheDir, runEval, type Cell, type RunEvalOptions } from '../eval/runner.js';
import type { CellResult } from '../eval/result.js';
import type { DualEncoder } from '../models/capabilities.js';
import { bullConnection, type QueueAddress } from './connection.js';
import { batchResultsOf, cacheBatchResults, DatasetMemo, encodeEvalBatch, EVAL_BATCH_JOB, evalBatchJobs, type EvalBatchData, type EvalBatchResult } from './eval-batches.js';
import { BULL_PREFIX } from './keys.js';

/** The options of a cell that change its result (the rest is the worker's business). */
export type EvalCellOptions = Pick<RunEvalOptions, 'seed' | 'seeds' | 'shots' | 'bootstrap' | 'probeC' | 'view' | 'batchSize' | 'dataRoot'>;

/** Data of an eval job. */
export interface EvalJobData {
  cell: Cell;
  options: EvalCellOptions;
  /** Split the cell's images into jobs of this many (eval-batches.ts); absent: one job runs the whole cell. */
  imageBatch?: number;
  /** Set by the worker once the cell's image batches are enqueued. */
  step?: 'batches-enqueued';
}

/** What a worker sends back: the cell's result, or why there is none. */
export type EvalJobResult = { result: CellResult } | { missing: string } | { skipped: string };

/** The eval queue beside the encode queue `name`. */
export function evalQueue(addr: QueueAddress, name: string): Queue {
  const q = new Queue(`${name}-eval`, { connection: bullConnection(addr), prefix: BULL_PREFIX });
  q.on('error', () => {});
  return q;
}

/** Job id of a cell with its options. */
export function evalJobId(data: EvalJobData): string {
  return `eval-${createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 40)}`;
}

/** Enqueue cells; a cell already queued (or finished and not yet collected) is not added twice. */
export async function enqueueEvalCells(queue: Queue, cells: Cell[], options: EvalCellOptions, imageBatch?: number): Promise<string[]> {
  const jobs = cells.map((cell) => {
    const data: EvalJobData = { cell, options, ...(imageBatch ? { imageBatch } : {}) };
    return { name: 'eval', data, opts: { jobId: evalJobId(data), attempts: 2, backoff: { type: 'exponential', delay: 2_000 }, removeOnComplete: false, removeOnFail: false } };
  });
  await queue.addBulk(jobs);
  return jobs.map((j) => j.opts.jobId);
}

/** A finished cell as the orchestrator sees it. */
export type EvalOutcome = { cell: Cell } & (EvalJobResult | { error: { code: ErrorCode; message: string } });

/**
 * Wait for the cells' jobs and hand each outcome to `onOutcome` (which writes the result), then remove
 * the job. Resolves when all are done or `stop` resolves.
 */
export async function collectEvalResults(queue: Queue, jobIds: string[], onOutcome: (o: EvalOutcome) => Promise<void>, stop?: Promise<void>): Promise<void> {
  let stopped = false;
  void stop?.then(() => (stopped = true));
  const open = new Set(jobIds);
  while (open.size && !stopped) {
    for (const id of [...open]) {
      const job = (await queue.getJob(id)) as Job<EvalJobData, EvalJobResult> | undefined;
      if (!job) {
        open.delete(id);
        continue;
      }
      const state = await job.getState();
      if (state === 'completed') {
        await onOutcome({ cell: job.data.cell, ...job.returnvalue });
      } else if (state === 'failed') {
        const m = /^(E_[A-Z_]+): (.*)$/s.exec(job.failedReason ?? '');
        await onOutcome({ cell: job.data.cell, error: { code: (m?.[1] as ErrorCode) ?? 'E_INTERNAL', message: m?.[2] ?? job.failedReason ?? 'failed' } });
      } else continue;
      await job.remove();
      open.delete(id);
    }
    if (open.size) await new Promise((r) => setTimeout(r, 300));
  }
}

/** Options of `startEvalWorker`. */
export interface EvalWorkerOptions {
  /** Data root of this machine (overrides the orchestrator's when given). */
  dataRoot?: string;
  /** Embedding cache of this machine (default: MEDVLM_CACHE, else a folder per job). */
  cacheDir?: string;
  concurrency?: number;
  lockMs?: number;
  onCellDone?: (cell: Cell) => void;
}

/**
 * Run cells (and image batches of split cells) from the eval queue with `load` until closed. A split
 * cell's job enqueues its image batches as BullMQ children and waits for them (WaitingChildrenError);
 * when all are done it runs again, caches their embeddings and runs the cell.
 */
export function startEvalWorker(addr: QueueAddress, name: string, load: (model: string) => Promise<DualEncoder>, opts: EvalWorkerOptions = {}): Worker<EvalJobData | EvalBatchData, EvalJobResult | EvalBatchResult> {
  const lockMs = opts.lockMs ?? 60_000;
  const queue = evalQueue(addr, name);
  const datasets = new DatasetMemo();
  // batches of one model in a row share one loaded encoder (a cell itself loads its model through runEval)
  let batchEncoder: { model: string; encoder: Promise<DualEncoder> } | undefined;
  const encoderFor = async (model: string): Promise<DualEncoder> => {
    if (batchEncoder?.model !== model) {
      const previous = batchEncoder;
      batchEncoder = { model, encoder: load(model) };
      if (previous) await (await previous.encoder).dispose();
    }
    return batchEncoder.encoder;
  };
  const dataRootOf = (options: { dataRoot?: string }): string | undefined => opts.dataRoot ?? options.dataRoot;

  const runBatch = async (data: EvalBatchData): Promise<EvalBatchResult> => {
    const dataset = datasets.get(data.cell.dataset, dataRootOf(data.options));
    return encodeEvalBatch(await encoderFor(data.cell.model), dataset, data);
  };

  const runCellJob = async (job: Job<EvalJobData, EvalJobResult>, token: string | undefined): Promise<EvalJobResult> => {
    const { cell, options, imageBatch } = job.data;
    const spec = findDatasetSpec(cell.dataset);
    if (imageBatch && job.data.step !== 'batches-enqueued') {
      const root = resolveDataRoot(dataRootOf(options));
      if (!datasetPresent(spec, root)) return { missing: `${hostname()}: data set ${spec.id}: ${join(root, spec.source.path)} not found` };
      const children = evalBatchJobs(String(job.id), datasets.get(cell.dataset, root), { cell, options }, imageBatch);
      const parent = { id: String(job.id), queue: job.queueQualifiedName };
      await queue.addBulk(children.map((c) => ({ name: c.name, data: c.data, opts: { jobId: c.jobId, parent, failParentOnFailure: true, attempts: 2, backoff: { type: 'exponential', delay: 2_000 } } })));
      await job.updateData({ ...job.data, step: 'batches-enqueued' });
      if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
    }
    const out = mkdtempSync(join(tmpdir(), 'medvlm-eval-job-'));
    try {
      const cacheDir = opts.cacheDir ?? defaultCacheDir(out);
      if (imageBatch) await cacheBatchResults(cacheDir, cell.dataset, options.view ?? {}, await batchResultsOf(job));
      const summary = await runEval({
        ...options,
        ...(opts.dataRoot ? { dataRoot: opts.dataRoot } : {}),
        cacheDir,
        models: [cell.model],
        datasets: [cell.dataset],
        tasks: [cell.task],
        out,
        load,
        force: true,
      });
      opts.onCellDone?.(cell);
      if (summary.missingDatasets.length) return { missing: `${hostname()}: ${summary.missingDatasets[0].message}` };
      if (summary.failed.length) throw new UnrecoverableError(`${summary.failed[0].error.code}: ${summary.failed[0].error.message}`);
      const file = summary.written[0];
      if (!file || !existsSync(file)) return { skipped: summary.skipped[0]?.reason ?? 'not run' };
      return { result: JSON.parse(readFileSync(file, 'utf8')) as CellResult };
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  };

  const worker = new Worker<EvalJobData | EvalBatchData, EvalJobResult | EvalBatchResult>(
    `${name}-eval`,
    async (job, token) => (job.name === EVAL_BATCH_JOB ? runBatch(job.data as EvalBatchData) : runCellJob(job as Job<EvalJobData, EvalJobResult>, token)),
    { connection: bullConnection(addr), prefix: BULL_PREFIX, concurrency: Math.max(1, opts.concurrency ?? 1), lockDuration: lockMs, stalledInterval: Math.max(1_000, Math.round(lockMs / 2)), maxStalledCount: 2 },
  );
  worker.on('error', () => {});
  worker.on('closed', () => {
    void queue.close();
    void batchEncoder?.encoder.then((e) => e.dispose(), () => undefined);
  });
  return worker;
}
