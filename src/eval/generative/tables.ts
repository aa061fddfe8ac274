/**
 * The generative cells in `medvlm report`: reading them from a results folder, their tables (one row per
 * generator or baseline, side by side on the same data set) and their long-format CSV rows.
 */
import { readCells } from '../report/load.js';
import type { CsvRow, Table } from '../report/tables.js';
import { GENERATIVE_CELL_SCHEMA, type GenerativeCell, type GenerativeCI, type ReportCell, type VqaCell } from './schema.js';

/** A generative cell with the file it came from (relative to the results folder). */
export interface LoadedGenerativeCell {
  file: string;
  result: GenerativeCell;
}

/**
 * Every generative cell under `dir`, generators first then baselines, each sorted by id.
 * @throws InputError E_FILE_NOT_FOUND when `dir` is not a folder, E_DATASET_INVALID for a JSON file that does not parse
 */
export function loadGenerativeCells(dir: string): LoadedGenerativeCell[] {
  const out: LoadedGenerativeCell[] = readCells<GenerativeCell>(dir, GENERATIVE_CELL_SCHEMA);
  const rank = (c: GenerativeCell) => (c.model.kind === 'generator' ? 0 : 1);
  return out.sort((a, b) => a.result.task.localeCompare(b.result.task) || rank(a.result) - rank(b.result) || a.result.model.id.localeCompare(b.result.model.id));
}

const f3 = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(3));
const f4 = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(4));
const ci = (c: GenerativeCI, f = f3): string => (c.lo === null || c.hi === null || !Number.isFinite(c.lo) || !Number.isFinite(c.hi) ? f(c.value) : `${f(c.value)} [${f(c.lo)}, ${f(c.hi)}]`);

function who(c: GenerativeCell): string {
  return c.model.kind === 'baseline' ? `${c.model.id} (baseline)` : c.model.id;
}

function limitNote(c: GenerativeCell): string {
  return c.dataset.limit ? `${c.dataset.n} (first ${c.dataset.limit} of ${c.dataset.available})` : String(c.dataset.n);
}

/** One line that says what a finished generative cell measured. */
export function generativeHeadline(c: GenerativeCell): string {
  if (c.task === 'vqa') return `closed accuracy ${ci(c.metrics.closed.accuracy)} (n=${c.metrics.closed.n}), open recall ${f3(c.metrics.open.recall.value)} (n=${c.metrics.open.n})`;
  return `CIDEr-D ${ci(c.metrics.text.ciderD, f4)}, ROUGE-L ${f4(c.metrics.text.rougeL.value)}, BLEU-4 ${f4(c.metrics.text.bleu4.value)}, modality right ${f3(c.metrics.modalityRight.value)}`;
}

/** The report's tables of generative cells. */
export function generativeTables(cells: LoadedGenerativeCell[]): Table[] {
  const tables: Table[] = [];
  const vqa = cells.map((c) => c.result).filter((c): c is VqaCell => c.task === 'vqa');
  if (vqa.length) {
    tables.push({
      title: 'VQA (VQA-RAD test)',
      note:
        'Closed accuracy: exact match after normalizeAnswer; open: LLaVA-Med token recall / exact match (src/metrics/vqa-llava-med.ts); LLaVA-Med closed: that protocol (answers naming yes/no but not the truth are dropped). ' +
        '95% percentile bootstrap CIs over questions. The majority-answer baseline answers every closed question with the train split\'s most frequent closed answer.',
      header: ['model', 'dataset', 'split', 'n', 'closed n', 'closed accuracy', 'open n', 'open recall', 'open exact match', 'LLaVA-Med closed (counted)', 'LLaVA-Med closed strict'],
      rows: vqa.map((c) => [
        who(c), c.dataset.id, c.dataset.split, limitNote(c),
        String(c.metrics.closed.n), ci(c.metrics.closed.accuracy), String(c.metrics.open.n), ci(c.metrics.open.recall), ci(c.metrics.open.exactMatch),
        `${f3(c.metrics.llavaMed.closed.accuracy.value)} (${c.metrics.llavaMed.closed.counted})`, f3(c.metrics.llavaMed.closed.strictAccuracy.value),
      ]),
    });
    const types = [...new Set(vqa.flatMap((c) => Object.keys(c.metrics.closed.byType)))].sort((a, b) => (vqa[0].metrics.closed.byType[b]?.n ?? 0) - (vqa[0].metrics.closed.byType[a]?.n ?? 0) || a.localeCompare(b));
    tables.push({
      title: 'VQA closed accuracy by question type (VQA-RAD test)',
      header: ['model', 'n', ...types],
      rows: vqa.map((c) => [who(c), limitNote(c), ...types.map((t) => (c.metrics.closed.byType[t] ? `${ci(c.metrics.closed.byType[t].value)} (n=${c.metrics.closed.byType[t].n})` : ''))]),
    });
  }
  const rep = cells.map((c) => c.result).filter((c): c is ReportCell => c.task === 'report-generation');
  if (rep.length) {
    tables.push({
      title: 'Report generation (MedPix 2.0 test)',
      note: `${rep[0].metrics.conventions}. CIs for BLEU/ROUGE-L/METEOR/CIDEr-D from ${rep[0].metrics.textBootstrap} case-level resamples, for the facts from ${rep[0].bootstrap}.`,
      header: ['model', 'dataset', 'split', 'n', 'cases', 'BLEU-1', 'BLEU-2', 'BLEU-3', 'BLEU-4', 'ROUGE-L', 'METEOR', 'CIDEr-D', 'modality right', 'region right', 'mean words'],
      rows: rep.map((c) => {
        const t = c.metrics.text;
        return [
          who(c), c.dataset.id, c.dataset.split, limitNote(c), String(c.metrics.cases),
          f4(t.bleu1.value), f4(t.bleu2.value), f4(t.bleu3.value), f4(t.bleu4.value), ci(t.rougeL, f4), f4(t.meteor.value), ci(t.ciderD, f4),
          ci(c.metrics.modalityRight), ci(c.metrics.regionRight), c.metrics.meanWords === null ? 'n/a' : c.metrics.meanWords.toFixed(1),
        ];
      }),
    });
  }
  if (cells.length) {
    tables.push({
      title: 'Provenance of the generative cells',
      header: ['model', 'task', 'dataset', 'n', 'how', 'model files sha256', 'requests', 'images sent to', 'seed', 'medvlm', 'date', 'file'],
      rows: cells.map(({ file, result: c }) => [
        who(c), c.task, c.dataset.id, limitNote(c),
        c.model.method ?? `${c.model.backend} ${c.model.model}; prompt ${JSON.stringify(c.generation?.prompt ?? '')}, ≤ ${c.generation?.maxTokens ?? '?'} tokens`,
        Object.entries(c.model.fileHashes).map(([k, h]) => `${k}:${h.slice(0, 8)}`).join(' ') || '—',
        c.usage ? String(c.usage.requests) : '—',
        c.destinations ? (['local', 'loopback', 'remote'] as const).filter((k) => c.destinations![k] > 0).map((k) => `${k} ${c.destinations![k]}`).concat(c.destinations.hosts).join(', ') || '—' : 'none (baseline)',
        String(c.seed), c.medvlmVersion, c.createdAt.slice(0, 10), file,
      ]),
    });
  }
  return tables;
}

/** Every number of the generative cells as long-format CSV rows. */
export function generativeCsvRows(cells: LoadedGenerativeCell[]): CsvRow[] {
  const rows: CsvRow[] = [];
  for (const { result: c } of cells) {
    const base = { model: c.model.id, dtype: '', dataset: c.dataset.id, split: c.dataset.split, n: c.dataset.n, task: c.task, split_sha256: c.dataset.itemsHash, k: '' as const, sd: null };
    const add = (method: string, metric: string, v: GenerativeCI, cls = '') => rows.push({ ...base, method, metric, class: cls, value: v.value, lo: v.lo, hi: v.hi });
    if (c.task === 'vqa') {
      add('closed', 'accuracy', c.metrics.closed.accuracy);
      for (const [t, r] of Object.entries(c.metrics.closed.byType)) add('closed', 'accuracy', r.value, t);
      add('open', 'recall', c.metrics.open.recall);
      add('open', 'exactMatch', c.metrics.open.exactMatch);
      add('open', 'f1', c.metrics.open.f1);
      add('llava-med', 'closedAccuracy', c.metrics.llavaMed.closed.accuracy);
      add('llava-med', 'closedStrictAccuracy', c.metrics.llavaMed.closed.strictAccuracy);
    } else {
      for (const [k, v] of Object.entries(c.metrics.text)) add('text', k, v);
      add('facts', 'modalityRight', c.metrics.modalityRight);
      add('facts', 'regionRight', c.metrics.regionRight);
    }
  }
  return rows;
}
