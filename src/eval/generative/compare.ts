/**
 * Paired comparison of two generators (or a generator and a baseline) on the same generative items,
 * from the per-item outputs the cells keep:
 * - `vqa`: closed accuracy (exact match) and open recall, paired bootstrap over the shared questions;
 * - `report-generation`: CIDEr-D, ROUGE-L, BLEU-4 and modality-right, paired bootstrap resampling
 *   **cases** (all images of a case together), each resample scoring both models on the same images.
 */
import { inputError } from '../../core/errors.js';
import { pairedGroupedBootstrap } from '../../metrics/grouped-bootstrap.js';
import { pairedMeanBootstrap, type PairedDifference } from '../../metrics/paired.js';
import { reportTextStat, type ReportTextScores } from './metrics.js';
import type { ReportCell, ReportCellItem, VqaCell, VqaCellItem } from './schema.js';
import type { LoadedGenerativeCell } from './tables.js';

/** One paired metric difference (A − B). */
export interface GenerativeDifference {
  metric: string;
  /** How the resampling was done. */
  resampling: 'items' | 'cases';
  difference: PairedDifference;
}

/** A paired comparison of two generative cells. */
export interface GenerativeComparison {
  dataset: string;
  task: 'vqa' | 'report-generation';
  modelA: string;
  modelB: string;
  /** Items both cells scored. */
  n: number;
  /** Items only one cell has (failures, different --limit), left out. */
  unmatched: number;
  metrics: GenerativeDifference[];
}

function aligned<T extends { id: string }>(a: T[], b: T[]): { ia: T[]; ib: T[]; unmatched: number } {
  const byId = new Map(b.map((it) => [it.id, it] as const));
  const ia: T[] = [];
  const ib: T[] = [];
  for (const it of a) {
    const other = byId.get(it.id);
    if (other) {
      ia.push(it);
      ib.push(other);
    }
  }
  return { ia, ib, unmatched: a.length + b.length - 2 * ia.length };
}

function compareVqa(a: VqaCell, b: VqaCell, boot: { samples: number; seed: number }): GenerativeComparison {
  const { ia, ib, unmatched } = aligned<VqaCellItem>(a.items, b.items);
  const metrics: GenerativeDifference[] = [];
  const closed = ia.map((it, i) => ({ a: it, b: ib[i] })).filter((p) => p.a.answerType === 'CLOSED');
  if (closed.length) metrics.push({ metric: 'closed accuracy', resampling: 'items', difference: pairedMeanBootstrap(closed.map((p) => p.a.hit ?? 0), closed.map((p) => p.b.hit ?? 0), boot) });
  const open = ia.map((it, i) => ({ a: it, b: ib[i] })).filter((p) => p.a.answerType === 'OPEN');
  if (open.length) metrics.push({ metric: 'open recall', resampling: 'items', difference: pairedMeanBootstrap(open.map((p) => p.a.recall ?? 0), open.map((p) => p.b.recall ?? 0), boot) });
  return { dataset: a.dataset.id, task: 'vqa', modelA: a.model.id, modelB: b.model.id, n: ia.length, unmatched, metrics };
}

function compareReports(a: ReportCell, b: ReportCell, boot: { samples: number; textSamples: number; seed: number }): GenerativeComparison {
  const { ia, ib, unmatched } = aligned<ReportCellItem>(a.items, b.items);
  const cases = ia.map((it) => it.case);
  // the three text metrics' bootstraps draw the same cases (same seed): score each resample once per model
  const memo = (stat: ReturnType<typeof reportTextStat>) => {
    const seen = new Map<string, ReportTextScores>();
    return (idx: number[]): ReportTextScores => {
      const key = idx.join(',');
      let v = seen.get(key);
      if (!v) seen.set(key, (v = stat(idx)));
      return v;
    };
  };
  const statA = memo(reportTextStat(ia));
  const statB = memo(reportTextStat(ib));
  const text = (stat: typeof statA, key: 'ciderD' | 'rougeL' | 'bleu4') => (idx: number[]) => stat(idx)[key];
  const metrics: GenerativeDifference[] = (['ciderD', 'rougeL', 'bleu4'] as const).map((key) => ({
    metric: { ciderD: 'CIDEr-D', rougeL: 'ROUGE-L', bleu4: 'BLEU-4' }[key],
    resampling: 'cases' as const,
    difference: pairedGroupedBootstrap(cases, text(statA, key), text(statB, key), { samples: boot.textSamples, seed: boot.seed }),
  }));
  const fact = (items: ReportCellItem[]) => (idx: number[]) => idx.reduce((s, i) => s + items[i].modalityRight, 0) / idx.length;
  metrics.push({ metric: 'modality right', resampling: 'cases', difference: pairedGroupedBootstrap(cases, fact(ia), fact(ib), { samples: boot.samples, seed: boot.seed }) });
  return { dataset: a.dataset.id, task: 'report-generation', modelA: a.model.id, modelB: b.model.id, n: ia.length, unmatched, metrics };
}

/**
 * Every paired comparison of model A against model B among the generative cells (empty when neither has one).
 * @param opts samples: resamples of per-item means (default 1000); textSamples: of the corpus text metrics (default 200)
 * @throws InputError E_DATASET_INVALID when only one of the two models has generative cells, or two cells share no item
 */
export function compareGenerative(cells: LoadedGenerativeCell[], modelA: string, modelB: string, opts: { samples?: number; textSamples?: number; seed?: number } = {}): GenerativeComparison[] {
  const of = (m: string) => cells.map((c) => c.result).filter((c) => c.model.id === m);
  const a = of(modelA);
  const b = of(modelB);
  if (a.length === 0 && b.length === 0) return [];
  for (const [m, list] of [[modelA, a], [modelB, b]] as const) {
    if (list.length === 0) throw inputError('E_DATASET_INVALID', m, `no vqa or report-generation cell of ${m} in the results (models present: ${[...new Set(cells.map((c) => c.result.model.id))].join(', ')})`);
  }
  const boot = { samples: opts.samples ?? 1000, textSamples: opts.textSamples ?? 200, seed: opts.seed ?? 0 };
  const out: GenerativeComparison[] = [];
  for (const ca of a) {
    const cb = b.find((c) => c.task === ca.task && c.dataset.id === ca.dataset.id);
    if (!cb) continue;
    const cmp = ca.task === 'vqa' ? compareVqa(ca, cb as VqaCell, boot) : compareReports(ca, cb as ReportCell, boot);
    if (cmp.n === 0) throw inputError('E_DATASET_INVALID', ca.dataset.id, `the ${ca.task} cells of ${modelA} and ${modelB} share no item (different --limit?)`);
    out.push(cmp);
  }
  return out;
}

const f = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
/** p-value text; a bootstrap p of 0 only says p < 1 / resamples. */
const pv = (p: number, samples: number) => (p === 0 ? `< ${f(1 / samples, 4)}` : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

/** Markdown table of generative comparisons. */
export function generativeComparisonMarkdown(cs: GenerativeComparison[]): string {
  const lines = ['| data set | task | n | metric | A | B | A − B [95% CI] | p |', '|---|---|---|---|---|---|---|---|'];
  for (const c of cs) {
    for (const m of c.metrics) {
      const d = m.difference;
      lines.push(`| ${c.dataset} | ${c.task} | ${m.resampling === 'cases' ? `${c.n} (${d.n} cases)` : d.n} | ${m.metric} (paired bootstrap over ${m.resampling}, ${d.samples}) | ${f(d.a)} | ${f(d.b)} | ${f(d.difference.value)} [${f(d.difference.lo)}, ${f(d.difference.hi)}] | ${pv(d.p, d.samples)} |`);
    }
  }
  return lines.join('\n');
}
