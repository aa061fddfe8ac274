/** Reading cell results back from a results folder. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { inputError } from '../../core/errors.js';
import { CELL_SCHEMA, type CellResult } from '../result.js';

/** A cell result with the file it came from (relative to the results folder). */
export interface LoadedResult {
  file: string;
  result: CellResult;
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue; // .cache, temporary files
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.json')) out.push(p);
  }
}

/**
 * Every JSON file under `dir` whose `schema` is `schema`, with its path relative to `dir` (other JSON files,
 * such as overlay notes, are ignored; dot folders such as .cache are skipped).
 * @throws InputError E_FILE_NOT_FOUND when `dir` is not a folder, E_DATASET_INVALID for a JSON file that does not parse
 */
export function readCells<T>(dir: string, schema: string): Array<{ file: string; result: T }> {
  const files: string[] = [];
  try {
    walk(dir, files);
  } catch (e) {
    throw inputError('E_FILE_NOT_FOUND', dir, 'not a readable results folder', e);
  }
  const out: Array<{ file: string; result: T }> = [];
  for (const f of files) {
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(f, 'utf8'));
    } catch (e) {
      throw inputError('E_DATASET_INVALID', f, `not valid JSON (${(e as Error).message}); delete it and rerun medvlm eval for that cell`, e);
    }
    if ((v as { schema?: string })?.schema === schema) out.push({ file: relative(dir, f), result: v as T });
  }
  return out;
}

/**
 * Every cell result under `dir` (JSON files with the cell schema; other JSON files are ignored), sorted
 * by model, data set and task.
 * @throws InputError E_FILE_NOT_FOUND when `dir` is not a folder, E_DATASET_INVALID for a cell file that does not parse
 */
export function loadResults(dir: string): LoadedResult[] {
  const out: LoadedResult[] = readCells<CellResult>(dir, CELL_SCHEMA);
  const order = { zeroshot: 0, fewshot: 1, retrieval: 2 } as const;
  return out.sort(
    (a, b) =>
      a.result.model.id.localeCompare(b.result.model.id) ||
      a.result.dataset.id.localeCompare(b.result.dataset.id) ||
      order[a.result.task] - order[b.result.task],
  );
}
