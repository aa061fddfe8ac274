/**
 * Paired comparisons of two models' few-shot and retrieval cells from their per-item outputs:
 * - few-shot: at the largest shot count both cells ran, for each method and seed, a paired bootstrap
 *   of the accuracy and macro-AUROC differences over the shared test items, and DeLong's test (binary:
 *   the positive class; more classes: each class one-vs-rest);
 * - retrieval: per direction, a paired bootstrap of the R@1 / R@5 / R@10 differences over the shared
 *   queries (image queries matched by item id, caption queries by the caption's hash).
 */
import { inputError } from '../../core/errors.js';
import { rocAucOvR } from '../../metrics/index.js';
import { delongTest, pairedBootstrap, pairedMeanBootstrap, type DeLongResult, type PairedDifference } from '../../metrics/paired.js';
import type { CellResult } from '../result.js';
import { compareCells, type CellComparison } from './compare.js';
import type { LoadedResult } from './load.js';

/** A few-shot comparison at one method, shot count and seed. */
export interface FewShotComparison {
  dataset: string;
  modelA: string;
  modelB: string;
  method: 'linearProbe' | 'tipAdapter';
  k: number;
  seed: number;
  n: number;
  unmatched: number;
  accuracy: PairedDifference;
  macroAuroc: PairedDifference;
  delong: Array<{ class: string } & DeLongResult>;
}

/** A retrieval comparison in one direction. */
export interface RetrievalComparison {
  dataset: string;
  modelA: string;
  modelB: string;
  direction: 'imageToText' | 'textToImage';
  n: number;
  unmatched: number;
  recallAt: Record<string, PairedDifference>;
}

/** Every paired comparison of two models in a results folder, by task. */
export interface ModelComparison {
  zeroShot: CellComparison[];
  fewShot: FewShotComparison[];
  retrieval: RetrievalComparison[];
}

const argmax = (xs: number[]): number => xs.reduce((best, v, i) => (v > xs[best] ? i : best), 0);

function missing(cell: CellResult): never {
  throw inputError('E_DATASET_INVALID', cell.model.id, `the ${cell.dataset.id} ${cell.task} cell keeps no per-item outputs (written before they were recorded); rerun medvlm eval --force for it`);
}

/** Compare two few-shot cells of the same data set item by item. */
export function compareFewShotCells(a: CellResult, b: CellResult, opts: { samples?: number; seed?: number } = {}): FewShotComparison[] {
  const fa = a.fewShotItems ?? missing(a);
  const fb = b.fewShotItems ?? missing(b);
  const posB = new Map(fb.ids.map((id, i) => [id, i] as const));
  const shared = fa.ids.flatMap((id, i) => (posB.has(id) ? [[i, posB.get(id)!] as const] : []));
  if (shared.length === 0) throw inputError('E_DATASET_INVALID', a.dataset.id, `the two few-shot cells share no item ids (${a.model.id} vs ${b.model.id})`);
  const truth = shared.map(([i]) => fa.truth[i]);
  const kB = new Set(fb.runs.map((r) => r.k));
  const k = Math.max(...fa.runs.map((r) => r.k).filter((x) => kB.has(x)));
  const classes = a.dataset.classes;
  const boot = { samples: opts.samples ?? 1000, seed: opts.seed ?? 0 };
  const out: FewShotComparison[] = [];
  for (const ra of fa.runs.filter((r) => r.k === k)) {
    const rb = fb.runs.find((r) => r.k === k && r.method === ra.method && r.seed === ra.seed);
    if (!rb) continue;
    const sa = shared.map(([i]) => ra.scores[i]);
    const sb = shared.map(([, j]) => rb.scores[j]);
    const hits = (s: number[][]) => s.map((row, i) => (argmax(row) === truth[i] ? 1 : 0));
    const auroc = (s: number[][]) => (idx: number[]) => rocAucOvR(idx.map((i) => truth[i]), idx.map((i) => s[i])).macro;
    const delongClasses = classes.length === 2 ? [1] : classes.map((_, c) => c);
    out.push({
      dataset: a.dataset.id,
      modelA: a.model.id,
      modelB: b.model.id,
      method: ra.method,
      k,
      seed: ra.seed,
      n: shared.length,
      unmatched: fa.ids.length + fb.ids.length - 2 * shared.length,
      accuracy: pairedMeanBootstrap(hits(sa), hits(sb), boot),
      macroAuroc: pairedBootstrap(shared.length, auroc(sa), auroc(sb), boot),
      delong: delongClasses
        .filter((c) => truth.some((t) => t === c) && truth.some((t) => t !== c))
        .map((c) => ({ class: classes[c], ...delongTest(truth.map((t) => t === c), sa.map((r) => r[c]), sb.map((r) => r[c])) })),
    });
  }
  return out;
}

/** Compare two retrieval cells of the same data set query by query. */
export function compareRetrievalCells(a: CellResult, b: CellResult, opts: { samples?: number; seed?: number; ks?: number[] } = {}): RetrievalComparison[] {
  const ra = a.retrievalItems ?? missing(a);
  const rb = b.retrievalItems ?? missing(b);
  const boot = { samples: opts.samples ?? 1000, seed: opts.seed ?? 0 };
  return (['imageToText', 'textToImage'] as const).map((direction) => {
    const byId = new Map(rb[direction].map((q) => [q.id, q.rank] as const));
    const pairs = ra[direction].flatMap((q) => (byId.has(q.id) ? [[q.rank, byId.get(q.id)!] as const] : []));
    if (pairs.length === 0) throw inputError('E_DATASET_INVALID', a.dataset.id, `the two retrieval cells share no ${direction} query (${a.model.id} vs ${b.model.id})`);
    const within = (rank: number, k: number) => (rank >= 1 && rank <= k ? 1 : 0);
    return {
      dataset: a.dataset.id,
      modelA: a.model.id,
      modelB: b.model.id,
      direction,
      n: pairs.length,
      unmatched: ra[direction].length + rb[direction].length - 2 * pairs.length,
      recallAt: Object.fromEntries(
        (opts.ks ?? [1, 5, 10]).map((k) => [String(k), pairedMeanBootstrap(pairs.map(([x]) => within(x, k)), pairs.map(([, y]) => within(y, k)), boot)]),
      ),
    };
  });
}

/**
 * Every paired comparison of model A against model B in a results folder: zero-shot (single-label),
 * few-shot and retrieval cells that both models have on the same data set.
 * @throws InputError E_DATASET_INVALID when one of the models has no such cell
 */
export function compareAllCells(results: LoadedResult[], modelA: string, modelB: string, opts: { samples?: number; seed?: number } = {}): ModelComparison {
  const cells = (m: string) => results.map((r) => r.result).filter((r) => r.model.id === m && (r.task !== 'zeroshot' || r.metrics.kind === 'single-label'));
  const a = cells(modelA);
  const b = cells(modelB);
  for (const [m, list] of [[modelA, a], [modelB, b]] as const) {
    if (list.length === 0) throw inputError('E_DATASET_INVALID', m, `no zero-shot (single-label), few-shot or retrieval cell of model ${m} in the results (models present: ${[...new Set(results.map((r) => r.result.model.id))].join(', ')})`);
  }
  const out: ModelComparison = { zeroShot: [], fewShot: [], retrieval: [] };
  for (const ca of a) {
    const cb = b.find((c) => c.task === ca.task && c.dataset.id === ca.dataset.id);
    if (!cb) continue;
    if (ca.task === 'zeroshot') out.zeroShot.push(compareCells(ca, cb, opts));
    else if (ca.task === 'fewshot') out.fewShot.push(...compareFewShotCells(ca, cb, opts));
    else out.retrieval.push(...compareRetrievalCells(ca, cb, opts));
  }
  return out;
}

const f = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const pv = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
const diffRow = (cols: string[], d: PairedDifference) => `| ${cols.join(' | ')} | ${f(d.a)} | ${f(d.b)} | ${f(d.difference.value)} [${f(d.difference.lo)}, ${f(d.difference.hi)}] | ${pv(d.p)} |`;

/** Markdown tables of the few-shot and retrieval comparisons (empty string when there are none). */
export function itemComparisonMarkdown(c: Pick<ModelComparison, 'fewShot' | 'retrieval'>): string {
  const parts: string[] = [];
  if (c.fewShot.length) {
    const lines = ['| data set | n | method, k, seed | metric | A | B | A − B [95% CI] | p |', '|---|---|---|---|---|---|---|---|'];
    for (const x of c.fewShot) {
      const who = `${x.method === 'linearProbe' ? 'linear probe' : 'Tip-Adapter'}, k=${x.k}, seed ${x.seed}`;
      lines.push(diffRow([x.dataset, String(x.n), who, `accuracy (paired bootstrap, ${x.accuracy.samples})`], x.accuracy));
      lines.push(diffRow([x.dataset, String(x.n), who, `macro AUROC (paired bootstrap, ${x.macroAuroc.samples})`], x.macroAuroc));
      for (const d of x.delong) lines.push(`| ${x.dataset} | ${x.n} | ${who} | AUROC ${d.class} (DeLong) | ${f(d.aucA)} | ${f(d.aucB)} | ${f(d.difference)} [${f(d.ci.lo)}, ${f(d.ci.hi)}] | ${pv(d.p)} |`);
    }
    parts.push(lines.join('\n'));
  }
  if (c.retrieval.length) {
    const lines = ['| data set | direction | n | metric | A | B | A − B [95% CI] | p |', '|---|---|---|---|---|---|---|---|'];
    for (const x of c.retrieval) {
      for (const [k, d] of Object.entries(x.recallAt)) lines.push(diffRow([x.dataset, x.direction === 'imageToText' ? 'image→text' : 'text→image', String(x.n), `R@${k} (paired bootstrap, ${d.samples})`], d));
    }
    parts.push(lines.join('\n'));
  }
  return parts.join('\n\n');
}
