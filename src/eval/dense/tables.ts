/**
 * The dense cells in `medvlm report`: tables for segmentation (Dice, IoU, HD95, boundary F), anomaly (image
 * and pixel AUROC, AUPRO by shots) and maps (pixel AUROC of each map method beside the centre prior), CSV rows,
 * and the best/median/worst overlays the grid drew beside each data set's cells.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CI } from '../../metrics/index.js';
import { readCells } from '../report/load.js';
import { f3, type CsvRow, type Table } from '../report/tables.js';
import { OVERLAYS_DIR } from './grid.js';

/** The schema id of a dense cell. */
export const DENSE_CELL_SCHEMA = 'medvlm-dense-eval/1';

/** A dense cell as `runDenseEval` writes it (the fields the report reads). */
export interface DenseCell {
  schema: typeof DENSE_CELL_SCHEMA;
  createdAt: string;
  model: { id: string; info: { dtype?: string } };
  dataset: { id: string; title: string; split: string; limit?: number };
  metrics: Record<string, unknown> & { task: 'segmentation' | 'anomaly' | 'maps' };
}

/** A dense cell and its file, relative to the results folder. */
export interface LoadedDenseCell {
  file: string;
  result: DenseCell;
}

type CIish = CI & { undefinedCount?: number };

/** Every dense cell under `dir`, sorted by task, data set and model. */
export function loadDenseCells(dir: string): LoadedDenseCell[] {
  return readCells<DenseCell>(dir, DENSE_CELL_SCHEMA).sort(
    (a, b) => a.result.metrics.task.localeCompare(b.result.metrics.task) || a.result.dataset.id.localeCompare(b.result.dataset.id) || a.result.model.id.localeCompare(b.result.model.id),
  );
}

const ci = (c: CIish | undefined): string => (!c ? 'n/a' : Number.isFinite(c.lo) && Number.isFinite(c.hi) ? `${f3(c.value)} [${f3(c.lo)}, ${f3(c.hi)}]` : f3(c.value));
const split = (c: DenseCell): string => `${c.dataset.split}${c.dataset.limit ? ` (first ${c.dataset.limit})` : ''}`;

/** The dense tables (one per task present). */
export function denseTables(cells: LoadedDenseCell[]): Table[] {
  const by = (task: string) => cells.map((c) => c.result).filter((c) => c.metrics.task === task);
  const tables: Table[] = [];
  const seg = by('segmentation');
  if (seg.length) {
    tables.push({
      title: 'Text-prompted segmentation',
      note: 'Mean over test images with a lesion (images without one are left out), each at its own size; 95% bootstrap CIs over images. HD95 in pixels; "undefined" counts images where it is not defined (an empty prediction).',
      header: ['model', 'dataset', 'split', 'n', 'prompt', 'threshold', 'Dice', 'IoU', 'HD95 (px)', 'boundary F'],
      rows: seg.map((c) => {
        const m = c.metrics as unknown as { n: number; text: string; threshold: number; dice: CIish; iou: CIish; hd95: CIish; boundaryF: CIish };
        const hd = `${ci(m.hd95)}${m.hd95?.undefinedCount ? ` (${m.hd95.undefinedCount} undefined)` : ''}`;
        return [c.model.id, c.dataset.id, split(c), String(m.n), m.text, String(m.threshold), ci(m.dice), ci(m.iou), hd, ci(m.boundaryF)];
      }),
    });
  }
  const anomaly = by('anomaly');
  if (anomaly.length) {
    const rows: string[][] = [];
    for (const c of anomaly) {
      const byShots = (c.metrics.byShots ?? {}) as Record<string, { n: number; anomalous: number; imageAuroc: CI; pixelAuroc: CI; aupro: number; mode?: { mode?: string } }>;
      for (const [k, m] of Object.entries(byShots)) rows.push([c.model.id, c.dataset.id, split(c), k.replace(/^k/, ''), `${m.n} (${m.anomalous} abnormal)`, ci(m.imageAuroc), ci(m.pixelAuroc), f3(m.aupro)]);
    }
    tables.push({
      title: 'Anomaly detection',
      note: 'k = 0: zero-shot (normal/abnormal prompt ensembles); k > 0: a memory bank of k normal training images. Image AUROC with 95% bootstrap CIs over images; pixel AUROC and AUPRO (FPR ≤ 0.3) on the abnormal images. Chance is 0.5.',
      header: ['model', 'dataset', 'split', 'k', 'n', 'image AUROC', 'pixel AUROC', 'AUPRO'],
      rows,
    });
  }
  const maps = by('maps');
  if (maps.length) {
    const rows: string[][] = [];
    for (const c of maps) {
      const results = (c.metrics.results ?? {}) as Record<string, { pixelAuroc: CI; aupro: number }>;
      for (const [method, m] of Object.entries(results)) rows.push([c.model.id, c.dataset.id, split(c), String(c.metrics.text), method === 'centre-prior' ? 'centre prior (baseline)' : method, String(c.metrics.n), ci(m.pixelAuroc), f3(m.aupro)]);
    }
    tables.push({
      title: 'Zero-shot similarity maps',
      note: 'Pixel AUROC of the text map against the lesion mask on test images with a lesion, beside a centred Gaussian (the centre prior) every map must beat; 95% bootstrap CIs over images.',
      header: ['model', 'dataset', 'split', 'text', 'map', 'n', 'pixel AUROC', 'AUPRO'],
      rows,
    });
  }
  return tables;
}

/** One CSV row per dense metric value. */
export function denseCsvRows(cells: LoadedDenseCell[]): CsvRow[] {
  const rows: CsvRow[] = [];
  for (const { result: c } of cells) {
    const base = { model: c.model.id, dtype: c.model.info.dtype ?? '', dataset: c.dataset.id, split: c.dataset.split, task: c.metrics.task, class: '' };
    const add = (method: string, k: number | '', n: number, metric: string, v: CI | number | undefined) => {
      if (v === undefined) return;
      const num = (x: number): number | null => (Number.isFinite(x) ? x : null);
      const [value, lo, hi] = typeof v === 'number' ? [num(v), null, null] : [num(v.value), num(v.lo), num(v.hi)];
      rows.push({ ...base, n, method, k, metric, value, lo, hi, sd: null, split_sha256: '' });
    };
    const m = c.metrics as Record<string, unknown>;
    if (m.task === 'segmentation') for (const key of ['dice', 'iou', 'hd95', 'boundaryF']) add(String(m.text), '', m.n as number, key, m[key] as CI);
    if (m.task === 'anomaly') {
      for (const [k, a] of Object.entries(m.byShots as Record<string, { n: number; imageAuroc: CI; pixelAuroc: CI; aupro: number }>)) {
        const shots = Number(k.replace(/^k/, ''));
        add(shots ? 'memory bank' : 'zero-shot', shots, a.n, 'imageAuroc', a.imageAuroc);
        add(shots ? 'memory bank' : 'zero-shot', shots, a.n, 'pixelAuroc', a.pixelAuroc);
        add(shots ? 'memory bank' : 'zero-shot', shots, a.n, 'aupro', a.aupro);
      }
    }
    if (m.task === 'maps') {
      for (const [method, r] of Object.entries(m.results as Record<string, { pixelAuroc: CI; aupro: number }>)) {
        add(method, '', m.n as number, 'pixelAuroc', r.pixelAuroc);
        add(method, '', m.n as number, 'aupro', r.aupro);
      }
    }
  }
  return rows;
}

/** An overlay image the grid drew: `<dataset>-<what>-{best,median,worst}.png` beside the data set's cells. */
export interface DenseOverlay {
  /** Path relative to the results folder. */
  file: string;
  model: string;
  title: string;
}

/** The overlay images of the dense cells, grouped in best, median, worst order per cell kind. */
export function denseOverlays(dir: string, cells: LoadedDenseCell[]): DenseOverlay[] {
  const out: DenseOverlay[] = [];
  const seen = new Set<string>();
  const rank = { best: 0, median: 1, worst: 2 } as const;
  for (const { file, result } of cells) {
    const rel = join(dirname(file), OVERLAYS_DIR);
    if (seen.has(rel) || !existsSync(join(dir, rel))) continue;
    seen.add(rel);
    const pngs = readdirSync(join(dir, rel))
      .map((name) => /^(.+)-(best|median|worst)\.png$/.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => a[1].localeCompare(b[1]) || rank[a[2] as keyof typeof rank] - rank[b[2] as keyof typeof rank]);
    for (const m of pngs) out.push({ file: join(rel, m[0]), model: result.model.id, title: `${result.model.id} · ${m[1]} · ${m[2]}` });
  }
  return out;
}
