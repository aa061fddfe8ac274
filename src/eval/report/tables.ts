/**
 * The report's tables as plain data (header + rows of strings), shared by the Markdown and HTML
 * renderers, and the long-format CSV rows. Numbers are shown with 3 decimals; the CSV keeps full precision.
 * JSON turns NaN into null: both read as "n/a".
 */
import type { CI } from '../../metrics/index.js';
import type { CellResult, MeanSd } from '../result.js';
import type { LoadedResult } from './load.js';

/** A table: a title, what it measures, header and rows. */
export interface Table {
  title: string;
  note?: string;
  header: string[];
  rows: string[][];
}

/** A number with 3 decimals, or "n/a". */
export function f3(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(3);
}

/** "0.842 [0.801, 0.880]" */
export function fci(c: CI | { value: number | null; lo: number | null; hi: number | null }): string {
  return c.lo === null || c.hi === null || !Number.isFinite(c.lo) || !Number.isFinite(c.hi) ? f3(c.value) : `${f3(c.value)} [${f3(c.lo)}, ${f3(c.hi)}]`;
}

/** "0.842 ± 0.013" */
export function fsd(m: MeanSd): string {
  return `${f3(m.mean)} ± ${f3(m.sd)}`;
}

/** Short model label: id, dtype. */
export function modelLabel(r: CellResult): string {
  return r.model.dtype === 'fp32' ? r.model.id : `${r.model.id} (${r.model.dtype})`;
}

function where(r: CellResult): string[] {
  return [modelLabel(r), r.dataset.id, r.dataset.split, String(r.dataset.n)];
}

/** All tables of a report, in order. */
export function reportTables(results: LoadedResult[]): Table[] {
  const rs = results.map((x) => x.result);
  const tables: Table[] = [];
  const single = rs.filter((r) => r.metrics.kind === 'single-label');
  if (single.length) {
    tables.push({
      title: 'Zero-shot classification',
      note: '95% percentile bootstrap CIs over test items; ECE with 15 equal-width bins.',
      header: ['model', 'dataset', 'split', 'n', 'accuracy', 'balanced accuracy', 'macro-F1', 'macro-AUROC', 'ECE'],
      rows: single.map((r) => {
        const m = r.metrics as Extract<CellResult['metrics'], { kind: 'single-label' }>;
        return [...where(r), fci(m.accuracy), fci(m.balancedAccuracy), fci(m.macroF1), fci(m.macroAuroc), f3(m.ece)];
      }),
    });
    tables.push({
      title: 'Zero-shot AUROC per class (one-vs-rest)',
      header: ['model', 'dataset', 'split', 'n', 'class', 'AUROC', 'F1'],
      rows: single.flatMap((r) => {
        const m = r.metrics as Extract<CellResult['metrics'], { kind: 'single-label' }>;
        return r.dataset.classes.map((c, i) => [...where(r), c, f3(m.perClassAuroc[i]), f3(m.perClassF1[i])]);
      }),
    });
  }
  const multi = rs.filter((r) => r.metrics.kind === 'multi-label');
  if (multi.length) {
    tables.push({
      title: 'Zero-shot multi-label classification',
      note: 'Threshold 0.5 on per-class scores.',
      header: ['model', 'dataset', 'split', 'n', 'macro-AUROC', 'macro-F1', 'micro-F1', 'subset accuracy'],
      rows: multi.map((r) => {
        const m = r.metrics as Extract<CellResult['metrics'], { kind: 'multi-label' }>;
        return [...where(r), f3(m.macroAuroc), f3(m.macroF1), f3(m.microF1), f3(m.subsetAccuracy)];
      }),
    });
  }
  const few = rs.filter((r) => r.metrics.kind === 'few-shot');
  if (few.length) {
    const shots = [...new Set(few.flatMap((r) => (r.metrics as Extract<CellResult['metrics'], { kind: 'few-shot' }>).shots))].sort((a, b) => a - b);
    for (const [metric, label] of [
      ['accuracy', 'accuracy'],
      ['macroAuroc', 'macro-AUROC'],
    ] as const) {
      tables.push({
        title: `Few-shot ${label} (mean ± sd over seeds)`,
        note: 'k shots per class from the train split; k = 0 is the zero-shot classifier. Linear probe: L2 logistic regression; Tip-Adapter: training-free.',
        header: ['model', 'dataset', 'split', 'n', 'method', 'k=0', ...shots.map((k) => `k=${k}`)],
        rows: few.flatMap((r) => {
          const m = r.metrics as Extract<CellResult['metrics'], { kind: 'few-shot' }>;
          return (['linearProbe', 'tipAdapter'] as const).map((method) => [
            ...where(r),
            method === 'linearProbe' ? `linear probe (C=${m.hyper.linearProbe.C})` : `Tip-Adapter (α=${m.hyper.tipAdapter.alpha}, β=${m.hyper.tipAdapter.beta})`,
            f3(m.zeroShot[metric]),
            ...shots.map((k) => {
              const row = m.methods[method].find((x) => x.k === k);
              return row ? fsd(row[metric]) : '';
            }),
          ]);
        }),
      });
    }
  }
  const ret = rs.filter((r) => r.metrics.kind === 'retrieval');
  if (ret.length) {
    tables.push({
      title: 'Image-text retrieval',
      note: 'R@k: share of queries with at least one relevant item in the top k (the CLIP-paper definition); true recall@k: |relevant ∩ top k| / |relevant|; ranks are of the best-ranked relevant item.',
      header: ['model', 'dataset', 'split', 'n', 'direction', 'queries', 'gallery', 'R@1', 'R@5', 'R@10', 'true R@1', 'true R@5', 'true R@10', 'mean rank', 'median rank'],
      rows: ret.flatMap((r) => {
        const m = r.metrics as Extract<CellResult['metrics'], { kind: 'retrieval' }>;
        return (['imageToText', 'textToImage'] as const).map((d) => {
          const x = m[d];
          return [
            ...where(r),
            d === 'imageToText' ? 'image→text' : 'text→image',
            String(x.nQueries),
            String(x.nGallery),
            ...[1, 5, 10].map((k) => f3(x.recallAtK[k])),
            ...[1, 5, 10].map((k) => f3(x.trueRecallAtK[k])),
            f3(x.meanRank),
            f3(x.medianRank),
          ];
        });
      }),
    });
  }
  tables.push({
    title: 'Provenance',
    header: ['model', 'dataset', 'split', 'n', 'task', 'split sha256', 'model files sha256', 'seed', 'medvlm', 'node', 'date', 'file'],
    rows: results.map(({ file, result: r }) => [
      ...where(r),
      r.task,
      r.dataset.splitHash.slice(0, 12),
      Object.entries(r.model.fileHashes)
        .map(([f, h]) => `${f}:${h.slice(0, 8)}`)
        .join(' '),
      String(r.seed),
      r.medvlmVersion,
      r.node,
      r.createdAt.slice(0, 10),
      file,
    ]),
  });
  return tables;
}

/** One long-format CSV row. */
export interface CsvRow {
  model: string;
  dtype: string;
  dataset: string;
  split: string;
  n: number;
  task: string;
  method: string;
  k: number | '';
  metric: string;
  class: string;
  value: number | null;
  lo: number | null;
  hi: number | null;
  sd: number | null;
  split_sha256: string;
}

/** Every number of every cell as long-format rows (full precision). */
export function csvRows(results: LoadedResult[]): CsvRow[] {
  const rows: CsvRow[] = [];
  for (const { result: r } of results) {
    const base = { model: r.model.id, dtype: r.model.dtype, dataset: r.dataset.id, split: r.dataset.split, n: r.dataset.n, task: r.task, split_sha256: r.dataset.splitHash };
    const add = (method: string, metric: string, value: number | null, extra: Partial<CsvRow> = {}) =>
      rows.push({ ...base, method, k: '', metric, class: '', value, lo: null, hi: null, sd: null, ...extra });
    const m = r.metrics;
    if (m.kind === 'single-label') {
      for (const key of ['accuracy', 'balancedAccuracy', 'macroF1', 'macroAuroc'] as const) add('zeroshot', key, m[key].value, { lo: m[key].lo, hi: m[key].hi });
      add('zeroshot', 'ece', m.ece);
      r.dataset.classes.forEach((c, i) => {
        add('zeroshot', 'auroc', m.perClassAuroc[i], { class: c });
        add('zeroshot', 'f1', m.perClassF1[i], { class: c });
      });
    } else if (m.kind === 'multi-label') {
      for (const key of ['macroAuroc', 'macroF1', 'microF1', 'subsetAccuracy'] as const) add('zeroshot', key, m[key]);
      r.dataset.classes.forEach((c, i) => add('zeroshot', 'auroc', m.perClassAuroc[i], { class: c }));
    } else if (m.kind === 'few-shot') {
      for (const key of ['accuracy', 'balancedAccuracy', 'macroF1', 'macroAuroc'] as const) add('zeroshot', key, m.zeroShot[key], { k: 0 });
      for (const method of ['linearProbe', 'tipAdapter'] as const) {
        for (const row of m.methods[method]) {
          for (const key of ['accuracy', 'balancedAccuracy', 'macroF1', 'macroAuroc'] as const) add(method, key, row[key].mean, { k: row.k, sd: row[key].sd });
        }
      }
    } else {
      for (const d of ['imageToText', 'textToImage'] as const) {
        for (const k of m.ks) {
          add(d, 'recallAtK', m[d].recallAtK[k], { k });
          add(d, 'trueRecallAtK', m[d].trueRecallAtK[k], { k });
        }
        add(d, 'meanRank', m[d].meanRank);
        add(d, 'medianRank', m[d].medianRank);
      }
    }
  }
  return rows;
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV text: a `#` comment line with the notice, a header, one row per number. */
export function toCsv(rows: CsvRow[], notice: string): string {
  const header: (keyof CsvRow)[] = ['model', 'dtype', 'dataset', 'split', 'n', 'task', 'method', 'k', 'metric', 'class', 'value', 'lo', 'hi', 'sd', 'split_sha256'];
  return [`# medvlm report. ${notice}`, header.join(','), ...rows.map((r) => header.map((h) => csvField(r[h])).join(','))].join('\n') + '\n';
}
