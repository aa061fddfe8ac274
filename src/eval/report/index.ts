/** `writeReport`: aggregate a results folder into report.md, results.csv and report.html. */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { OptionError } from '../../core/errors.js';
import { writeAtomic } from '../../core/atomic.js';
import { denseCsvRows, denseOverlays, denseTables, loadDenseCells, type DenseOverlay, type LoadedDenseCell } from '../dense/tables.js';
import { generativeCsvRows, generativeTables, loadGenerativeCells, type LoadedGenerativeCell } from '../generative/tables.js';
import { loadResults, type LoadedResult } from './load.js';
import { CSV_MARK, HTML_MARK, MD_MARK, reportCsv, reportHtml, reportMarkdown } from './render.js';

export { loadResults, type LoadedResult } from './load.js';
export { reportCsv, reportHtml, reportMarkdown } from './render.js';
export { csvRows, reportTables, type CsvRow, type Table } from './tables.js';

/** Names of the report files. */
export const REPORT_FILES = { markdown: 'report.md', csv: 'results.csv', html: 'report.html' } as const;

const MARKS: Record<string, string> = { [REPORT_FILES.markdown]: MD_MARK, [REPORT_FILES.csv]: CSV_MARK, [REPORT_FILES.html]: HTML_MARK };

/** Options of `writeReport`. */
export interface WriteReportOptions {
  /** Output folder (default: the results folder). */
  out?: string;
  /** Replace report files that medvlm did not write. */
  force?: boolean;
}

/**
 * Write the three report files. An existing report file written by `medvlm report` is replaced; any
 * other existing file of the same name is kept unless `force`.
 * @throws OptionError E_OUTPUT_EXISTS for a foreign file in the way; InputError when the folder holds no results
 */
export async function writeReport(resultsDir: string, opts: WriteReportOptions = {}): Promise<{ results: LoadedResult[]; generative: LoadedGenerativeCell[]; dense: LoadedDenseCell[]; files: string[] }> {
  const results = loadResults(resultsDir);
  const generative = loadGenerativeCells(resultsDir);
  const dense = loadDenseCells(resultsDir);
  const extra = [...generativeTables(generative), ...denseTables(dense)];
  const out = opts.out ?? resultsDir;
  const overlays: Array<DenseOverlay & { href: string; png: Buffer }> = denseOverlays(resultsDir, dense).map((o) => ({
    ...o, href: relative(out, join(resultsDir, o.file)).split(sep).join('/'), png: readFileSync(join(resultsDir, o.file)),
  }));
  await mkdir(out, { recursive: true });
  for (const [name, mark] of Object.entries(MARKS)) {
    const p = join(out, name);
    if (existsSync(p) && !opts.force && !readFileSync(p, 'utf8').slice(0, 4096).includes(mark)) {
      throw new OptionError('E_OUTPUT_EXISTS', `${p}: already exists and was not written by medvlm report; choose another output folder or replace it (force)`, { file: p, option: 'out' });
    }
  }
  const files = [join(out, REPORT_FILES.markdown), join(out, REPORT_FILES.csv), join(out, REPORT_FILES.html)];
  const extraDates = [...generative, ...dense].map((c) => c.result.createdAt);
  await writeAtomic(files[0], reportMarkdown(results, extra, extraDates, overlays));
  await writeAtomic(files[1], reportCsv(results, [...generativeCsvRows(generative), ...denseCsvRows(dense)]));
  await writeAtomic(files[2], await reportHtml(results, extra, extraDates, overlays));
  return { results, generative, dense, files };
}
