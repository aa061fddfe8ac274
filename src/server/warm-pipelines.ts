/** One pipeline per task, built on first use and kept warm for every later request. */
import { pipeline, type PipelineOf, type PipelineOptions, type PipelineTask } from '../tasks/pipeline.js';

/** What the served pipelines are built from. */
export interface ServedModel {
  /** Model id (bundled name, folder or hub id); default: the bundled model, or an index's own model for index tasks. */
  model?: string;
  /** Index folder for `similar-case-search` and `draft-report`. */
  index?: string;
  /** Load options (dtype, threads, offline). */
  options?: PipelineOptions;
}

/** Lazily built, shared pipelines. A pipeline that failed to load is retried on the next request. */
export class WarmPipelines {
  private readonly made = new Map<PipelineTask, Promise<unknown>>();
  private readonly retired = new Set<Promise<unknown>>();

  constructor(private readonly served: ServedModel) {}

  /** The pipeline of `task`, loading it on first use. */
  get<T extends PipelineTask>(task: T): Promise<PipelineOf[T]> {
    let p = this.made.get(task) as Promise<PipelineOf[T]> | undefined;
    if (!p) {
      const { model, index, options = {} } = this.served;
      const taskOptions: PipelineOptions = { ...options, ...(task === 'similar-case-search' ? { index } : {}), ...(task === 'draft-report' ? { corpus: index } : {}) };
      p = pipeline(task, model, taskOptions);
      this.made.set(task, p);
      p.catch(() => this.made.delete(task));
    }
    return p;
  }

  /**
   * Build `tasks` afresh on their next use (after the index changed on disk). The old pipelines are
   * disposed once requests that may still hold them have had their time (`graceMs`), or on close.
   */
  reload(tasks: PipelineTask[], graceMs = 150_000): void {
    for (const task of tasks) {
      const old = this.made.get(task);
      if (!old) continue;
      this.made.delete(task);
      this.retired.add(old);
      const timer = setTimeout(() => {
        if (this.retired.delete(old)) void disposeOf(old); // else close() disposed it
      }, graceMs);
      timer.unref();
    }
  }

  /** Tasks whose pipeline is loaded (or loading). */
  loaded(): PipelineTask[] {
    return [...this.made.keys()];
  }

  /** Dispose every pipeline. */
  async close(): Promise<void> {
    const all = [...this.made.values(), ...this.retired];
    this.made.clear();
    this.retired.clear();
    await Promise.all(all.map(disposeOf));
  }
}

async function disposeOf(p: Promise<unknown>): Promise<void> {
  await (await (p as Promise<{ dispose(): Promise<void> }>).catch(() => undefined))?.dispose();
}
