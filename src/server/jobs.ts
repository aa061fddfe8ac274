/**
 * Long jobs (`/v1/jobs`) over data under `--data-root`: classify every image of a folder, add a folder
 * to the served index, or run an evaluation grid on the served model. A job runs on its own,
 * independent of the request that started it (a client may disconnect and come back), reports progress
 * to any number of server-sent-event listeners, and can be cancelled (between chunks of images, or at
 * the next embedding batch of an evaluation).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { errorToJSON, optionError } from '../core/errors.js';
import { datasetSpecs } from '../eval/datasets/registry.js';
import { EVAL_TASKS, type EvalTask } from '../eval/datasets/types.js';
import { runEval } from '../eval/runner.js';
import { expandInputs } from '../io/inputs.js';
import { DEFAULT_MODEL } from '../models/defaults.js';
import { loadDualEncoder } from '../models/registry.js';
import { addToIndex } from '../tasks/search.js';
import { modelForIndex, openIndexFor } from '../tasks/case-index.js';
import { isFileError } from '../tasks/batch.js';
import { parseLabels } from '../tasks/zero-shot.js';
import type { TemplateSet } from '../tasks/templates.js';
import { isUnderDataRoot, resolveUnderDataRoot } from './data-root.js';
import { HttpError } from './http-errors.js';
import type { ServedModel, WarmPipelines } from './warm-pipelines.js';

/** The kinds of job. */
export const JOB_KINDS = ['classify-folder', 'index-folder', 'eval'] as const;

/** One kind of job. */
export type JobKind = (typeof JOB_KINDS)[number];

/** A job's state as `GET /v1/jobs/:id` returns it. */
export interface JobState {
  id: string;
  kind: JobKind;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  /** Units done and in all: images (classify, index) or images embedded in the current cell (eval). */
  done: number;
  total: number;
  /** What runs now (eval: the cell, as model/dataset/task). */
  stage?: string;
  /**
   * When done. classify-folder: one entry per image, as `medvlm classify --json` (paths relative to
   * the data root). index-folder: `{added, replaced, unchanged, duplicates, errors}` counts and the
   * files that failed. eval: `{cells: [cell results], skipped, failed, missingDatasets}`.
   */
  result?: unknown;
  error?: { code: string; message: string };
}

/** What an index-folder job did (paths relative to the data root). */
export interface IndexJobSummary {
  added: number;
  replaced: number;
  unchanged: number;
  duplicates: number;
  errors: Array<{ file: string; code: string; message: string }>;
  /** The first failed index write (full disk, write conflict): the job stopped there. */
  writeError?: { code: string; message: string };
}

type Listener = (event: 'progress' | 'end', state: JobState) => void;

interface Job {
  state: JobState;
  abort: AbortController;
  listeners: Set<Listener>;
}

/** What a job's work gets: progress reporting and the cancel signal. */
interface JobContext {
  signal: AbortSignal;
  progress(done: number, total: number, stage?: string): void;
}

/** What the server tells the jobs: the served model/index, the data root, and what to do after the index changed. */
export interface JobsOptions {
  pipelines: WarmPipelines;
  served: ServedModel;
  dataRoot: string | undefined;
  /** Called after an index job added entries (the search pipelines reopen the index). */
  onIndexChanged?: () => void;
  /** Jobs kept in memory (default 32); finished ones are evicted first. */
  maxJobs?: number;
}

const CHUNK = 4;
const INDEX_CHUNK = 16;

/** The server's jobs (in memory). */
export class Jobs {
  private readonly jobs = new Map<string, Job>();
  private readonly maxJobs: number;
  private evalOut: string | undefined;

  constructor(private readonly o: JobsOptions) {
    this.maxJobs = o.maxJobs ?? 32;
  }

  private root(): string {
    if (!this.o.dataRoot) throw optionError('path', 'jobs read folders under --data-root; the server runs without one');
    return this.o.dataRoot;
  }

  /** The images of `folder` (relative to the data root), links out of the root left out. */
  private async imagesUnder(folder: string): Promise<string[]> {
    const root = this.root();
    const { files } = await expandInputs([resolveUnderDataRoot(root, folder)]);
    return files.filter((f) => isUnderDataRoot(root, f));
  }

  /** Start classifying the images of `folder` (relative to the data root) with `labels`. */
  async startClassifyFolder(folder: string, labels: string, templates?: TemplateSet): Promise<JobState> {
    const names = parseLabels(labels);
    const files = await this.imagesUnder(folder);
    const root = this.root();
    return this.start('classify-folder', files.length, async ({ signal, progress }) => {
      const classify = await this.o.pipelines.get('zero-shot-image-classification');
      const result: unknown[] = [];
      for (let i = 0; i < files.length; i += CHUNK) {
        if (signal.aborted) return undefined;
        const chunk = files.slice(i, i + CHUNK);
        const scored = await classify(chunk, names, templates ? { templates } : {});
        for (const r of scored) {
          const file = relative(root, r.file);
          result.push(isFileError(r) ? { file, error: { code: r.error.code, message: r.error.message.split(r.file).join(file) } } : { ...r, file });
        }
        progress(i + chunk.length, files.length);
      }
      return result;
    });
  }

  /** Index and eval jobs load a model of their own: one such job at a time, others are refused (503, Retry-After). */
  private oneHeavyJob(): void {
    if ([...this.jobs.values()].some((j) => j.state.status === 'running' && j.state.kind !== 'classify-folder')) {
      throw new HttpError('E_HTTP_BUSY', 'an index or eval job is running; retry when it has finished', { retryAfter: 10 });
    }
  }

  /** Start adding the images of `folder` (relative to the data root) to the served index, with the index's own model. */
  async startIndexFolder(folder: string): Promise<JobState> {
    const dir = this.o.served.index;
    if (!dir) throw optionError('index', 'index jobs add to the served index; the server runs without --index');
    this.oneHeavyJob();
    const files = await this.imagesUnder(folder);
    const root = this.root();
    return this.start('index-folder', files.length, async ({ signal, progress }) => {
      const options = this.o.served.options ?? {};
      const choice = modelForIndex(dir, { ...(this.o.served.model ? { model: this.o.served.model } : {}), ...(options.dtype ? { dtype: options.dtype } : {}) }, false);
      const encoder = await loadDualEncoder(choice.model, { ...options, dtype: choice.dtype });
      const summary: IndexJobSummary = { added: 0, replaced: 0, unchanged: 0, duplicates: 0, errors: [] };
      try {
        const index = await openIndexFor(dir, encoder, true);
        try {
          for (let i = 0; i < files.length && !signal.aborted; i += INDEX_CHUNK) {
            const chunk = files.slice(i, i + INDEX_CHUNK);
            const r = await addToIndex(encoder, index, chunk, { ann: false });
            summary.added += r.added.length;
            summary.replaced += r.replaced.length;
            summary.unchanged += r.unchanged.length;
            summary.duplicates += r.duplicates.length;
            for (const e of r.errors) summary.errors.push({ file: relative(root, e.file), code: e.error.code, message: e.error.message.split(e.file).join(relative(root, e.file)) });
            if (r.added.length || r.replaced.length) this.o.onIndexChanged?.();
            progress(i + chunk.length, files.length);
            if (r.writeError) {
              summary.writeError = { code: r.writeError.code, message: 'the index could not be written; the files not added are in errors' };
              break;
            }
          }
        } finally {
          index.close();
        }
      } finally {
        await encoder.dispose();
      }
      return signal.aborted ? undefined : summary;
    });
  }

  /** Start an evaluation grid of the served model on data sets (by id) under the data root. */
  async startEval(datasets: string[], tasks: string[]): Promise<JobState> {
    const dataRoot = this.root();
    const known = new Set(datasetSpecs().map((s) => s.id));
    const unknown = datasets.filter((d) => !known.has(d));
    if (!datasets.length || unknown.length) throw optionError('datasets', `expected data set ids from medvlm datasets (${[...known].join(', ')})`);
    const bad = tasks.filter((t) => !(EVAL_TASKS as readonly string[]).includes(t));
    if (bad.length) throw optionError('tasks', `expected some of ${EVAL_TASKS.join(', ')}`);
    this.oneHeavyJob();
    this.evalOut ??= mkdtempSync(join(tmpdir(), 'medvlm-serve-eval-'));
    const out = this.evalOut;
    const model = this.o.served.model ?? DEFAULT_MODEL;
    const options = this.o.served.options ?? {};
    return this.start('eval', 0, async ({ signal, progress }) => {
      const cells: unknown[] = [];
      let stage = '';
      const summary = await runEval({
        models: [model],
        datasets,
        tasks: (tasks.length ? tasks : ['zeroshot']) as EvalTask[],
        out,
        force: true,
        dataRoot,
        signal,
        load: (m) => loadDualEncoder(m, options),
        onEvent: (e) => {
          if (e.type === 'cell-start') stage = `${e.cell.dataset}/${e.cell.task} (${e.index}/${e.total})`;
          if (e.type === 'embed-progress') progress(e.done, e.total, stage);
          if (e.type === 'cell-done') cells.push(e.result);
        },
      });
      if (signal.aborted) return undefined;
      return { cells, skipped: summary.skipped, failed: summary.failed, missingDatasets: summary.missingDatasets.map((m) => m.dataset) };
    });
  }

  private start(kind: JobKind, total: number, work: (ctx: JobContext) => Promise<unknown>): JobState {
    this.evict();
    const job: Job = { state: { id: randomUUID(), kind, status: 'running', done: 0, total }, abort: new AbortController(), listeners: new Set() };
    this.jobs.set(job.state.id, job);
    const ctx: JobContext = {
      signal: job.abort.signal,
      progress: (done, all, stage) => {
        job.state.done = done;
        job.state.total = all;
        if (stage !== undefined) job.state.stage = stage;
        this.emit(job, 'progress');
      },
    };
    void work(ctx).then(
      (result) => {
        if (job.abort.signal.aborted) return this.finish(job, 'cancelled');
        job.state.result = result;
        this.finish(job, 'done');
      },
      (e: unknown) => {
        if (job.abort.signal.aborted) return this.finish(job, 'cancelled');
        const { code, message } = errorToJSON(e);
        job.state.error = { code, message: code === 'E_INTERNAL' ? 'internal error' : message };
        this.finish(job, 'failed');
      },
    );
    return { ...job.state };
  }

  private finish(job: Job, status: JobState['status']): void {
    job.state.status = status;
    this.emit(job, 'end');
    job.listeners.clear();
  }

  private emit(job: Job, event: 'progress' | 'end'): void {
    for (const l of job.listeners) l(event, { ...job.state, result: undefined });
  }

  private evict(): void {
    if (this.jobs.size < this.maxJobs) return;
    const finished = [...this.jobs.values()].find((j) => j.state.status !== 'running');
    if (!finished) throw new HttpError('E_HTTP_BUSY', `${this.maxJobs} jobs are running; retry later`, { retryAfter: 10 });
    this.jobs.delete(finished.state.id);
  }

  private get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new HttpError('E_HTTP_NOT_FOUND', 'no such job');
    return job;
  }

  /** A job's state. */
  state(id: string): JobState {
    return { ...this.get(id).state };
  }

  /** Cancel a running job. */
  cancel(id: string): JobState {
    const job = this.get(id);
    if (job.state.status === 'running') job.abort.abort();
    return { ...job.state };
  }

  /** Listen to a job's progress; returns the current state and an unsubscribe function. */
  listen(id: string, listener: Listener): { state: JobState; stop: () => void } {
    const job = this.get(id);
    if (job.state.status === 'running') job.listeners.add(listener);
    return { state: { ...job.state, result: undefined }, stop: () => job.listeners.delete(listener) };
  }

  /** Cancel every job, wait until none runs, remove the evaluation results folder. */
  async close(): Promise<void> {
    for (const j of this.jobs.values()) j.abort.abort();
    while ([...this.jobs.values()].some((j) => j.state.status === 'running')) await new Promise((ok) => setTimeout(ok, 20));
    if (this.evalOut) rmSync(this.evalOut, { recursive: true, force: true });
  }
}
