/**
 * Charts of a report as Vega-Lite specs, rendered to SVG strings in Node by Vega's headless View
 * (`renderer: 'none'`, `toSVG()`; no canvas needed), so the HTML report is one self-contained file.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CellResult } from '../result.js';
import { modelLabel } from './tables.js';

type Metrics<K extends CellResult['metrics']['kind']> = Extract<CellResult['metrics'], { kind: K }>;

/** A chart: what it shows and its Vega-Lite spec. */
export interface Chart {
  title: string;
  spec: TopLevelSpec;
}

function subtitle(r: CellResult): string {
  return `${modelLabel(r)} · ${r.dataset.id} (${r.dataset.split}, n=${r.dataset.n})`;
}

const SIZE = { width: 260, height: 220 };

/** ROC curve per class (one-vs-rest), with the chance diagonal. */
export function rocChart(r: CellResult): Chart {
  const m = r.metrics as Metrics<'single-label'>;
  const values = m.roc.flatMap((c, i) => c.fpr.map((fpr, j) => ({ class: `${r.dataset.classes[i]} (AUROC ${m.perClassAuroc[i]?.toFixed?.(3) ?? 'n/a'})`, fpr, tpr: c.tpr[j], order: j })));
  return {
    title: `ROC curves — ${subtitle(r)}`,
    spec: {
      ...SIZE,
      title: { text: 'ROC (one-vs-rest)', subtitle: subtitle(r) },
      layer: [
        { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#999' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
        {
          data: { values },
          mark: { type: 'line', interpolate: 'step-after' },
          encoding: {
            x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
            y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
            color: { field: 'class', type: 'nominal', legend: { orient: 'bottom', direction: 'vertical', title: null, labelLimit: 400 } },
            order: { field: 'order', type: 'quantitative' },
          },
        },
      ],
    },
  };
}

/** Confusion matrix heatmap with counts (rows: truth, columns: prediction). */
export function confusionChart(r: CellResult): Chart {
  const m = r.metrics as Metrics<'single-label'>;
  const classes = r.dataset.classes;
  const values = m.confusion.flatMap((row, i) => row.map((count, j) => ({ truth: classes[i], predicted: classes[j], count })));
  const enc = {
    x: { field: 'predicted', type: 'nominal' as const, sort: classes, title: 'predicted' },
    y: { field: 'truth', type: 'nominal' as const, sort: classes, title: 'true class' },
  };
  return {
    title: `Confusion matrix — ${subtitle(r)}`,
    spec: {
      width: Math.max(120, 50 * classes.length),
      height: Math.max(120, 50 * classes.length),
      title: { text: 'Confusion matrix', subtitle: subtitle(r) },
      data: { values },
      layer: [
        { mark: 'rect', encoding: { ...enc, color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, legend: null } } },
        { mark: { type: 'text', fontSize: 12 }, encoding: { ...enc, text: { field: 'count', type: 'quantitative' } } },
      ],
    },
  };
}

/** Reliability diagram: accuracy per confidence bin (bars) against the diagonal; bin counts in the tooltip data. */
export function reliabilityChart(r: CellResult): Chart {
  const m = r.metrics as Metrics<'single-label'>;
  const values = m.reliability.filter((b) => b.count > 0).map((b) => ({ lo: b.lo, hi: b.hi, accuracy: b.accuracy, confidence: b.confidence, count: b.count }));
  return {
    title: `Reliability diagram — ${subtitle(r)}`,
    spec: {
      ...SIZE,
      title: { text: `Reliability (ECE ${Number.isFinite(m.ece) ? m.ece.toFixed(3) : 'n/a'})`, subtitle: subtitle(r) },
      layer: [
        { data: { values }, mark: { type: 'rect', opacity: 0.8 }, encoding: { x: { field: 'lo', type: 'quantitative', title: 'confidence', scale: { domain: [0, 1] } }, x2: { field: 'hi' }, y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } }, y2: { datum: 0 } } },
        { data: { values }, mark: { type: 'point', color: 'black', filled: true }, encoding: { x: { field: 'confidence', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' } } },
        { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#999' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
      ],
    },
  };
}

/** Few-shot accuracy against shots per class, mean ± sd over seeds, per method; zero-shot at k = 0. */
export function fewShotChart(r: CellResult): Chart {
  const m = r.metrics as Metrics<'few-shot'>;
  const values = (['linearProbe', 'tipAdapter'] as const).flatMap((method) => [
    { method: method === 'linearProbe' ? 'linear probe' : 'Tip-Adapter', k: 0, mean: m.zeroShot.accuracy, lo: m.zeroShot.accuracy, hi: m.zeroShot.accuracy },
    ...m.methods[method].map((row) => ({
      method: method === 'linearProbe' ? 'linear probe' : 'Tip-Adapter',
      k: row.k,
      mean: row.accuracy.mean,
      lo: row.accuracy.mean - row.accuracy.sd,
      hi: row.accuracy.mean + row.accuracy.sd,
    })),
  ]);
  const x = { field: 'k', type: 'ordinal' as const, title: 'shots per class (0 = zero-shot)' };
  return {
    title: `Few-shot accuracy — ${subtitle(r)}`,
    spec: {
      ...SIZE,
      title: { text: `Few-shot accuracy (mean ± sd, ${m.seeds.length} seeds)`, subtitle: subtitle(r) },
      data: { values },
      layer: [
        { mark: { type: 'errorbar' }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'accuracy' }, y2: { field: 'hi' }, color: { field: 'method', type: 'nominal' } } },
        { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative', scale: { domain: [0, 1] } }, color: { field: 'method', type: 'nominal', legend: { orient: 'bottom', title: null } } } },
      ],
    },
  };
}

/** Recall@k (hit definition) of both retrieval directions. */
export function retrievalChart(r: CellResult): Chart {
  const m = r.metrics as Metrics<'retrieval'>;
  const values = (['imageToText', 'textToImage'] as const).flatMap((d) =>
    m.ks.map((k) => ({ direction: d === 'imageToText' ? 'image→text' : 'text→image', k: `R@${k}`, recall: m[d].recallAtK[k] })),
  );
  return {
    title: `Retrieval recall@k — ${subtitle(r)}`,
    spec: {
      ...SIZE,
      title: { text: 'Retrieval recall@k', subtitle: subtitle(r) },
      data: { values },
      mark: 'bar',
      encoding: {
        x: { field: 'k', type: 'nominal', title: null, sort: m.ks.map((k) => `R@${k}`) },
        xOffset: { field: 'direction', type: 'nominal' },
        y: { field: 'recall', type: 'quantitative', title: 'recall (≥1 relevant in top k)', scale: { domain: [0, 1] } },
        color: { field: 'direction', type: 'nominal', legend: { orient: 'bottom', title: null } },
      },
    },
  };
}

/** The charts of one cell. */
export function cellCharts(r: CellResult): Chart[] {
  switch (r.metrics.kind) {
    case 'single-label':
      return [rocChart(r), confusionChart(r), reliabilityChart(r)];
    case 'few-shot':
      return [fewShotChart(r)];
    case 'retrieval':
      return [retrievalChart(r)];
    default:
      return [];
  }
}

/** Render a Vega-Lite spec to an SVG string (headless; text widths are Vega's estimates without canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile({ ...spec, config: { font: 'sans-serif', ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
