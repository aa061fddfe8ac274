/**
 * Long jobs (`/v1/jobs`): classify every image of a folder under `--data-root`. A job runs on its own,
 * independent of the request that started it (a client may disconnect and come back), reports progress
 * to any number of server-sent-event listeners, and can be cancelled between chunks of images.
 */
import { randomUUID } from 'node:crypto';
import { relative } from 'node:path';
import { errorToJSON, optionError } from '../core/errors.js';
import { expandInputs } from '../io/inputs.js';
import { isFileError } from '../tasks/batch.js';
import { parseLabels } from '../tasks/zero-shot.js';
import { isUnderDataRoot, resolveUnderDataRoot } from './data-root.js';
import { HttpError } from './http-errors.js';
import type { WarmPipelines } from './warm-pipelines.js';

/** A job's state as `GET /v1/jobs/:id` returns it. */
export interface JobState {
  id: string;
  kind: 'classify-folder';
  status: 'running' | 'done' | 'failed' | 'cancelled';
  done: number;
  total: number;
  /** When done: one entry per image, as `medvlm classify --json` (paths relative to the data root). */
  result?: unknown[];
  error?: { code: string; message: string };
}

type Listener = (event: 'progress' | 'end', state: JobState) => void;

interface Job {
  state: JobState;
  abort: AbortController;
  listeners: Set<Listener>;
}

const CHUNK = 4;

/** The server's jobs (in memory, at most `maxJobs` kept; finished ones are evicted first). */
export class Jobs {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly pipelines: WarmPipelines,
    private readonly dataRoot: string | undefined,
    private readonly maxJobs = 32,
  ) {}

  /** Start classifying the images of `folder` (relative to the data root) with `labels`. */
  async startClassifyFolder(folder: string, labels: string): Promise<JobState> {
    if (!this.dataRoot) throw optionError('path', 'jobs read folders under --data-root; the server runs without one');
    const names = parseLabels(labels);
    const root = this.dataRoot;
    const real = resolveUnderDataRoot(root, folder);
    const { files } = await expandInputs([real]);
    const inside = files.filter((f) => isUnderDataRoot(root, f));
    this.evict();
    const job: Job = { state: { id: randomUUID(), kind: 'classify-folder', status: 'running', done: 0, total: inside.length }, abort: new AbortController(), listeners: new Set() };
    this.jobs.set(job.state.id, job);
    void this.run(job, inside, names);
    return { ...job.state };
  }

  private async run(job: Job, files: string[], labels: string[]): Promise<void> {
    const result: unknown[] = [];
    try {
      const classify = await this.pipelines.get('zero-shot-image-classification');
      for (let i = 0; i < files.length; i += CHUNK) {
        if (job.abort.signal.aborted) return this.finish(job, 'cancelled');
        const chunk = files.slice(i, i + CHUNK);
        const scored = await classify(chunk, labels);
        for (const r of scored) {
          const file = relative(this.dataRoot!, r.file);
          result.push(isFileError(r) ? { file, error: { code: r.error.code, message: r.error.message.split(r.file).join(file) } } : { ...r, file });
        }
        job.state.done += chunk.length;
        this.emit(job, 'progress');
      }
      if (job.abort.signal.aborted) return this.finish(job, 'cancelled');
      job.state.result = result;
      this.finish(job, 'done');
    } catch (e) {
      const { code, message } = errorToJSON(e);
      job.state.error = { code, message: code === 'E_INTERNAL' ? 'internal error' : message };
      this.finish(job, 'failed');
    }
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

  /** Cancel a running job (it stops before its next chunk). */
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

  /** Cancel every job and wait until none runs. */
  async close(): Promise<void> {
    for (const j of this.jobs.values()) j.abort.abort();
    while ([...this.jobs.values()].some((j) => j.state.status === 'running')) await new Promise((ok) => setTimeout(ok, 20));
  }
}
