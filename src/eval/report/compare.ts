/**
 * Paired comparison of two models' cells on the same data set and task, from the per-item outputs the
 * cells keep: the items both cells scored (matched by item id) are compared with a paired bootstrap of
 * the metric difference (accuracy, macro-AUROC) and, for AUROCs, DeLong's test (binary: the positive
 * class; more classes: each class one-vs-rest).
 */
import { inputError } from '../../core/errors.js';
import { rocAucOvR } from '../../metrics/index.js';
import { delongTest, pairedBootstrap, type DeLongResult, type PairedDifference } from '../../metrics/paired.js';
import type { CellItem, CellResult } from '../result.js';
import type { LoadedResult } from './load.js';

/** A paired comparison of two cells. */
export interface CellComparison {
  dataset: string;
  task: string;
  modelA: string;
  modelB: string;
  /** Items both cells scored. */
  n: number;
  /** Items only one of the cells has (failures differ), left out. */
  unmatched: number;
  accuracy: PairedDifference;
  macroAuroc: PairedDifference;
  /** DeLong per class (binary data sets: only the positive class, index 1). */
  delong: Array<{ class: string } & DeLongResult>;
}

const argmax = (xs: number[]): number => xs.reduce((best, v, i) => (v > xs[best] ? i : best), 0);

function aligned(a: CellResult, b: CellResult): { ia: CellItem[]; ib: CellItem[]; unmatched: number } {
  if (!a.items || !b.items) throw inputError('E_DATASET_INVALID', a.items ? b.model.id : a.model.id, `the ${a.dataset.id} ${a.task} cell keeps no per-item outputs (written before they were recorded); rerun medvlm eval --force for it`);
  const byId = new Map(b.items.map((it) => [it.id, it] as const));
  const ia: CellItem[] = [];
  const ib: CellItem[] = [];
  for (const it of a.items) {
    const other = byId.get(it.id);
    if (other) {
      ia.push(it);
      ib.push(other);
    }
  }
  return { ia, ib, unmatched: a.items.length + b.items.length - 2 * ia.length };
}

/** Compare two single-label zero-shot cells of the same data set item by item. */
export function compareCells(a: CellResult, b: CellResult, opts: { samples?: number; seed?: number } = {}): CellComparison {
  if (a.dataset.id !== b.dataset.id || a.task !== b.task) throw inputError('E_DATASET_INVALID', b.model.id, `cells differ in data set or task (${a.dataset.id}/${a.task} vs ${b.dataset.id}/${b.task})`);
  if (a.metrics.kind !== 'single-label' || b.metrics.kind !== 'single-label') {
    throw inputError('E_DATASET_INVALID', a.dataset.id, 'paired comparison is implemented for single-label zero-shot cells');
  }
  const { ia, ib, unmatched } = aligned(a, b);
  if (ia.length === 0) throw inputError('E_DATASET_INVALID', a.dataset.id, `the two cells share no item ids (${a.model.id} vs ${b.model.id})`);
  const truth = ia.map((it) => it.truth as number);
  const classes = a.dataset.classes;
  const acc = (items: CellItem[]) => (idx: number[]) => idx.reduce((s, i) => s + (argmax(items[i].scores) === truth[i] ? 1 : 0), 0) / idx.length;
  const auroc = (items: CellItem[]) => (idx: number[]) => rocAucOvR(idx.map((i) => truth[i]), idx.map((i) => items[i].scores)).macro;
  const boot = { samples: opts.samples ?? 1000, seed: opts.seed ?? 0 };
  const delongClasses = classes.length === 2 ? [1] : classes.map((_, c) => c);
  const delong = delongClasses
    .filter((c) => truth.some((t) => t === c) && truth.some((t) => t !== c))
    .map((c) => ({
      class: classes[c],
      ...delongTest(truth.map((t) => t === c), ia.map((it) => it.scores[c]), ib.map((it) => it.scores[c])),
    }));
  return {
    dataset: a.dataset.id,
    task: a.task,
    modelA: a.model.id,
    modelB: b.model.id,
    n: ia.length,
    unmatched,
    accuracy: pairedBootstrap(ia.length, acc(ia), acc(ib), boot),
    macroAuroc: pairedBootstrap(ia.length, auroc(ia), auroc(ib), boot),
    delong,
  };
}

/** Every paired comparison of model A against model B in a results folder (zero-shot, single-label cells both have). */
export function compareModels(results: LoadedResult[], modelA: string, modelB: string, opts: { samples?: number; seed?: number } = {}): CellComparison[] {
  const cellsOf = (m: string) => results.filter((r) => r.result.model.id === m && r.result.task === 'zeroshot' && r.result.metrics.kind === 'single-label');
  const a = cellsOf(modelA);
  const b = new Map(cellsOf(modelB).map((r) => [r.result.dataset.id, r.result] as const));
  for (const [m, cells] of [[modelA, a], [modelB, [...b.values()]]] as const) {
    if (cells.length === 0) throw inputError('E_DATASET_INVALID', m, `no single-label zero-shot cell of model ${m} in the results (models present: ${[...new Set(results.map((r) => r.result.model.id))].join(', ')})`);
  }
  return a.filter((r) => b.has(r.result.dataset.id)).map((r) => compareCells(r.result, b.get(r.result.dataset.id)!, opts));
}

const f = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const pv = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

/** Markdown of comparisons: one table of bootstrap differences, one of DeLong tests. */
export function comparisonMarkdown(cs: CellComparison[]): string {
  const lines = ['| data set | n | metric | A | B | A − B [95% CI] | p |', '|---|---|---|---|---|---|---|'];
  for (const c of cs) {
    for (const [name, d] of [['accuracy', c.accuracy], ['macro AUROC', c.macroAuroc]] as const) {
      lines.push(`| ${c.dataset} | ${c.n} | ${name} (paired bootstrap, ${d.samples}) | ${f(d.a)} | ${f(d.b)} | ${f(d.difference.value)} [${f(d.difference.lo)}, ${f(d.difference.hi)}] | ${pv(d.p)} |`);
    }
    for (const d of c.delong) {
      lines.push(`| ${c.dataset} | ${c.n} | AUROC ${d.class} (DeLong) | ${f(d.aucA)} | ${f(d.aucB)} | ${f(d.difference)} [${f(d.ci.lo)}, ${f(d.ci.hi)}] | ${pv(d.p)} |`);
    }
  }
  return lines.join('\n');
}
