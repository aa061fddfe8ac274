/**
 * Few-shot classification on frozen embeddings: a linear probe (L2 logistic regression) and
 * Tip-Adapter, for k shots per class drawn from the train split with several seeds. Shots are nested:
 * for one seed, the k = 2 shots contain the k = 1 shot, and so on.
 */
import { classificationReport, mulberry32 } from '../../metrics/index.js';
import { dot } from '../../core/vectors.js';
import type { Scorer } from '../../tasks/zero-shot.js';
import { shuffled } from '../datasets/split.js';
import type { EvalItem } from '../datasets/types.js';
import { fitLogistic, predictLogistic } from '../fewshot/logreg.js';
import { buildTipAdapter, tipAdapterProbs, TIP_DEFAULTS } from '../fewshot/tip-adapter.js';
import type { FewShotItems, FewShotMetrics, MeanSd, ShotRow } from '../result.js';
import { zeroShotProbs } from './zero-shot.js';

/** Shot counts and seeds used when none are given. */
export const FEWSHOT_DEFAULTS = { shots: [1, 2, 4, 8, 16], seeds: 3, C: 1 } as const;

/**
 * For one seed: the train items of each class in a seeded order (ids sorted, then shuffled with
 * `mulberry32(seed)` class by class); the first k of each list are the k shots.
 */
export function shotOrder(train: EvalItem[], classes: number, seed: number): EvalItem[][] {
  const rng = mulberry32(seed);
  return Array.from({ length: classes }, (_, c) =>
    shuffled(train.filter((it) => it.label === c).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), rng),
  );
}

/** Mean, sample sd (n - 1) and values. */
export function meanSd(values: number[]): MeanSd {
  const finite = values.filter((v) => Number.isFinite(v));
  const mean = finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
  const sd = finite.length > 1 ? Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (finite.length - 1)) : finite.length ? 0 : NaN;
  return { mean, sd, values };
}

interface Point {
  accuracy: number;
  balancedAccuracy: number;
  macroF1: number;
  macroAuroc: number;
}

function point(yTrue: number[], probs: number[][]): Point {
  const r = classificationReport(yTrue, probs, { bootstrap: 0 });
  return { accuracy: r.accuracy.value, balancedAccuracy: r.balancedAccuracy.value, macroF1: r.macroF1.value, macroAuroc: r.macroAuroc.value };
}

function row(k: number, shotsPerClass: number[][], points: Point[]): ShotRow {
  return {
    k,
    shotsPerClass,
    accuracy: meanSd(points.map((p) => p.accuracy)),
    balancedAccuracy: meanSd(points.map((p) => p.balancedAccuracy)),
    macroF1: meanSd(points.map((p) => p.macroF1)),
    macroAuroc: meanSd(points.map((p) => p.macroAuroc)),
  };
}

/** Inputs of `fewShotMetrics`. */
export interface FewShotInputs {
  encoder: Scorer;
  classes: number;
  test: { embeddings: Float32Array[]; labels: number[] };
  /** Per seed: per class, the ordered train items (from `shotOrder`). */
  orders: EvalItem[][][];
  seeds: number[];
  /** Embedding of a train item by id (items that failed to embed are absent and skipped). */
  trainEmbedding: (id: string) => Float32Array | undefined;
  classEmbs: Float32Array[];
  shots: number[];
  C: number;
  alpha?: number;
  beta?: number;
  train: FewShotMetrics['train'];
}

const round8 = (v: number): number => Math.round(v * 1e8) / 1e8;

/**
 * Linear probe and Tip-Adapter curves over shots, mean ± sd over seeds, with the zero-shot point.
 * `runs` (when given) receives every run's test probabilities: the cell's per-item outputs.
 */
export function fewShotMetrics(inp: FewShotInputs, runs?: FewShotItems['runs']): FewShotMetrics {
  const { classes, test, classEmbs } = inp;
  const alpha = inp.alpha ?? TIP_DEFAULTS.alpha;
  const beta = inp.beta ?? TIP_DEFAULTS.beta;
  const zsLogits = test.embeddings.map((f) => classEmbs.map((w) => inp.encoder.logitScale * dot(f, w) + inp.encoder.logitBias));
  const zs = point(test.labels, zeroShotProbs(inp.encoder, test.embeddings, classEmbs));
  const linear: ShotRow[] = [];
  const tip: ShotRow[] = [];
  for (const k of inp.shots) {
    const lp: Point[] = [];
    const tp: Point[] = [];
    const perClass: number[][] = [];
    for (const [si, order] of inp.orders.entries()) {
      const x: Float32Array[] = [];
      const y: number[] = [];
      const counts = new Array<number>(classes).fill(0);
      order.forEach((items, c) => {
        for (const it of items) {
          if (counts[c] === k) break;
          const e = inp.trainEmbedding(it.id);
          if (!e) continue;
          x.push(e);
          y.push(c);
          counts[c]++;
        }
      });
      perClass.push(counts);
      const model = fitLogistic(x, y, classes, { C: inp.C });
      const lpProbs = test.embeddings.map((f) => predictLogistic(model, f));
      lp.push(point(test.labels, lpProbs));
      const adapter = buildTipAdapter(x, y, classes, { alpha, beta });
      const tipProbs = test.embeddings.map((f, i) => tipAdapterProbs(adapter, f, zsLogits[i]));
      tp.push(point(test.labels, tipProbs));
      if (runs) {
        const seed = inp.seeds[si];
        runs.push({ method: 'linearProbe', k, seed, scores: lpProbs.map((r) => Array.from(r, round8)) });
        runs.push({ method: 'tipAdapter', k, seed, scores: tipProbs.map((r) => Array.from(r, round8)) });
      }
    }
    linear.push(row(k, perClass, lp));
    tip.push(row(k, perClass, tp));
  }
  return {
    kind: 'few-shot',
    n: test.labels.length,
    shots: inp.shots,
    seeds: inp.seeds,
    train: inp.train,
    hyper: {
      linearProbe: { C: inp.C, solver: 'L-BFGS on the sklearn LogisticRegression objective (L2, intercept unpenalised)' },
      tipAdapter: { alpha, beta, logitScale: inp.encoder.logitScale },
    },
    zeroShot: zs,
    methods: { linearProbe: linear, tipAdapter: tip },
  };
}
