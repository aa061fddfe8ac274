import { existsSync, readFileSync } from 'node:fs';
import { writeAtomic } from '../../core/atomic.js';
import { findDatasetSpec } from '../../eval/datasets/registry.js';
import type { EvalTask } from '../../eval/datasets/types.js';
import { CELL_SCHEMA } from '../../eval/result.js';
import { cellPath, notApplicable, type Cell, type EvalSummary } from '../../eval/runner.js';
import { parseQueueUrl } from '../../queue/connection.js';
import { checkImageBatch } from '../../queue/eval-batches.js';
import { collectEvalResults, enqueueEvalCells, evalQueue, type EvalCellOptions } from '../../queue/eval-cells.js';
import { note } from '../output.js';
import { onStopSignal } from './queue.js';

/** What `medvlm eval --queue` needs. */
export interface QueuedEvalRequest {
  queue: string;
  queueName: string;
  models: string[];
  datasets: string[];
  tasks: EvalTask[];
  out: string;
  force: boolean;
  options: EvalCellOptions;
  /** Split each cell into jobs of this many images (a multiple of options.batchSize). */
  imageBatch?: number;
}

function complete(file: string): boolean {
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { schema?: string }).schema === CELL_SCHEMA;
  } catch {
    return false;
  }
}

/**
 * `medvlm eval --queue`: enqueue the grid's cells (skipping those that do not apply and, unless
 * `force`, those whose result exists), wait for `medvlm worker --eval` processes to run them, and write
 * each result where a local run would.
 */
export async function runQueuedEval(req: QueuedEvalRequest): Promise<EvalSummary> {
  const summary: EvalSummary = { written: [], skipped: [], missingDatasets: [], failed: [] };
  const todo: Cell[] = [];
  for (const model of req.models) {
    for (const id of req.datasets) {
      const spec = findDatasetSpec(id);
      for (const task of req.tasks) {
        const cell: Cell = { model, dataset: spec.id, task };
        const why = notApplicable(spec, task);
        if (why) summary.skipped.push({ cell, reason: why });
        else if (!req.force && complete(cellPath(req.out, cell))) {
          summary.skipped.push({ cell, reason: 'result exists' });
          note(`skip ${model} × ${spec.id} × ${task}: result exists (--force to recompute)`);
        } else todo.push({ ...cell, dataset: id });
      }
    }
  }
  if (req.imageBatch !== undefined) checkImageBatch(req.imageBatch, req.options.batchSize);
  const addr = parseQueueUrl(req.queue);
  const queue = evalQueue(addr, req.queueName);
  try {
    const ids = await enqueueEvalCells(queue, todo, req.options, req.imageBatch);
    note(`medvlm eval: ${todo.length} cell(s)${req.imageBatch ? `, each split into jobs of ${req.imageBatch} images,` : ''} on ${addr.display} ${req.queueName}-eval; run medvlm worker --eval --queue ${addr.display} on the machines`);
    let done = 0;
    await collectEvalResults(
      queue,
      ids,
      async (o) => {
        done++;
        const name = `${o.cell.model} × ${o.cell.dataset} × ${o.cell.task}`;
        if ('result' in o) {
          const file = cellPath(req.out, { ...o.cell, dataset: o.result.dataset.id });
          await writeAtomic(file, JSON.stringify(o.result, null, 2) + '\n');
          summary.written.push(file);
          note(`[${done}/${todo.length}] ${name}: n=${o.result.dataset.n} → ${file}`);
        } else if ('missing' in o) {
          summary.missingDatasets.push({ dataset: o.cell.dataset, message: o.missing });
          note(`medvlm: ${o.missing}`);
        } else if ('skipped' in o) {
          summary.skipped.push({ cell: o.cell, reason: o.skipped });
        } else {
          summary.failed.push({ cell: o.cell, error: o.error });
          note(`medvlm: ${name} failed: ${o.error.message} [${o.error.code}]`);
        }
      },
      onStopSignal(),
    );
  } finally {
    await queue.close();
  }
  return summary;
}
