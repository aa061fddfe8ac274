/**
 * The dense cells of `medvlm eval`: tasks `segmentation` (a text-prompted segmenter: Dice, IoU, HD95,
 * boundary F), `anomaly` (a dual encoder: image/pixel AUROC, AUPRO; zero-shot and k-shot) and `maps`
 * (zero-shot text maps vs the centre prior) over the mask data sets busi-seg, kvasir-seg and lgg. One JSON
 * per cell at `<out>/<model slug>/<dataset>/<task>.json`, written atomically; existing cells are skipped. The best,
 * median and worst cases of each cell are drawn as overlays into `<out>/<model slug>/<dataset>/overlays/`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeAtomic } from '../../core/atomic.js';
import { errorToJSON, type ErrorCode } from '../../core/errors.js';
import { packageVersion } from '../../core/paths.js';
import type { DualEncoder, TextPromptedSegmenter } from '../../models/capabilities.js';
import { RESEARCH_NOTICE } from '../../models/defaults.js';
import { resolveDataRoot } from '../datasets/registry.js';
import { cellPath } from '../runner.js';
import { DENSE_DATASETS, densePresent, loadDenseDataset, type DenseDatasetId } from './data.js';
import { evalAnomaly, evalMaps, evalSegmentation, type DenseEvalOptions } from './run.js';

/** Folder beside a data set's cells that holds the best/median/worst overlays (`<task-prefix>-{best,median,worst}.{png,json}`). */
export const OVERLAYS_DIR = 'overlays';

/** The dense evaluation tasks. */
export const DENSE_TASKS = ['segmentation', 'anomaly', 'maps'] as const;
export type DenseTask = (typeof DENSE_TASKS)[number];

/** Which data sets offer which dense task (Kvasir has no normal images: no anomaly cell). */
const OFFERS: Record<DenseDatasetId, DenseTask[]> = { 'busi-seg': ['segmentation', 'anomaly', 'maps'], 'kvasir-seg': ['segmentation', 'maps'], lgg: ['anomaly', 'maps'] };

/** Options of `runDenseEval`. */
export interface DenseGridOptions extends DenseEvalOptions {
  /** Dual encoders (anomaly, maps). */
  models: string[];
  /** Text-prompted segmenters (segmentation). */
  segmenters: string[];
  datasets: DenseDatasetId[];
  tasks: DenseTask[];
  out: string;
  loadEncoder: (id: string) => Promise<DualEncoder>;
  loadSegmenter: (id: string) => Promise<TextPromptedSegmenter>;
  dataRoot?: string;
  force?: boolean;
  /** Anomaly shots (default [0, 4]; 0 = zero-shot). */
  shots?: number[];
  onNote?: (line: string) => void;
}

/** What a dense run did. */
export interface DenseGridSummary {
  written: string[];
  skipped: string[];
  failed: Array<{ cell: string; error: { code: ErrorCode; message: string } }>;
}

/** Run the dense cells. A failing cell is reported and the grid goes on. */
export async function runDenseEval(o: DenseGridOptions): Promise<DenseGridSummary> {
  const note = o.onNote ?? (() => {});
  const root = resolveDataRoot(o.dataRoot);
  const summary: DenseGridSummary = { written: [], skipped: [], failed: [] };
  const datasets = o.datasets.filter((d) => {
    if (densePresent(d, root)) return true;
    note(`medvlm: data set ${d} not found under ${root}; skipped`);
    return false;
  });
  const jobs: Array<{ model: string; kind: 'encoder' | 'segmenter'; dataset: DenseDatasetId; task: DenseTask }> = [];
  for (const dataset of datasets) {
    for (const task of o.tasks) {
      if (!OFFERS[dataset].includes(task)) continue;
      for (const model of task === 'segmentation' ? o.segmenters : o.models) jobs.push({ model, kind: task === 'segmentation' ? 'segmenter' : 'encoder', dataset, task });
    }
  }
  for (const key of [...new Set(jobs.map((j) => `${j.kind}\u0000${j.model}`))]) {
    const [kind, id] = key.split('\u0000') as ['encoder' | 'segmenter', string];
    const mine = jobs.filter((j) => j.kind === kind && j.model === id);
    const todo = mine.filter((j) => {
      const file = cellPath(o.out, { model: id, dataset: j.dataset, task: j.task as never });
      if (!o.force && existsSync(file)) {
        summary.skipped.push(file);
        note(`skip ${id} × ${j.dataset} × ${j.task}: result exists (--force to recompute)`);
        return false;
      }
      return true;
    });
    if (!todo.length) continue;
    let model: DualEncoder | TextPromptedSegmenter;
    try {
      model = kind === 'encoder' ? await o.loadEncoder(id) : await o.loadSegmenter(id);
    } catch (e) {
      for (const j of todo) summary.failed.push({ cell: `${id} × ${j.dataset} × ${j.task}`, error: errorToJSON(e) });
      note(`medvlm: ${id}: ${errorToJSON(e).message}`);
      continue;
    }
    try {
      for (const j of todo) {
        const name = `${id} × ${j.dataset} × ${j.task}`;
        note(name);
        try {
          const ds = loadDenseDataset(j.dataset, root);
          const file = cellPath(o.out, { model: id, dataset: j.dataset, task: j.task as never });
          const cellOpts: DenseEvalOptions = { ...o, overlaysDir: o.overlaysDir ?? join(dirname(file), OVERLAYS_DIR) };
          const t0 = performance.now();
          let metrics: Record<string, unknown>;
          if (j.task === 'segmentation') metrics = await evalSegmentation(model as TextPromptedSegmenter, ds, cellOpts);
          else if (j.task === 'maps') metrics = await evalMaps(model as DualEncoder, ds, ['patch', 'windows'].filter((m) => m === 'windows' || (model as DualEncoder).dense) as Array<'patch' | 'windows'>, cellOpts);
          else {
            const byK: Record<string, unknown> = {};
            for (const k of o.shots ?? [0, 4]) byK[`k${k}`] = await evalAnomaly(model as DualEncoder, ds, k, cellOpts);
            metrics = { task: 'anomaly', byShots: byK };
          }
          const result = {
            schema: 'medvlm-dense-eval/1',
            medvlmVersion: packageVersion(),
            createdAt: new Date().toISOString(),
            model: { id, info: model.info },
            dataset: { id: ds.id, title: ds.title, split: o.split ?? 'test', splitFile: ds.splitFile, licence: ds.licence, ...(o.limit ? { limit: o.limit } : {}) },
            seed: o.seed ?? 0,
            metrics,
            totalMs: performance.now() - t0,
            researchNotice: RESEARCH_NOTICE,
          };
          await writeAtomic(file, JSON.stringify(result, null, 2) + '\n');
          summary.written.push(file);
          note(`  → ${file}`);
        } catch (e) {
          summary.failed.push({ cell: name, error: errorToJSON(e) });
          note(`medvlm: ${name} failed: ${errorToJSON(e).message}`);
        }
      }
    } finally {
      await model.dispose();
    }
  }
  return summary;
}

export { DENSE_DATASETS };
