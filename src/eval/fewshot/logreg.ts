/**
 * L2-regularised logistic regression, the linear probe of frozen embeddings, with the objective of
 * scikit-learn's `LogisticRegression(penalty="l2", C, fit_intercept=True, solver="lbfgs")`:
 * - K = 2: binary logistic loss, one weight vector: C·Σ log(1 + exp(-ỹ(w·x + b))) + ½‖w‖²;
 * - K > 2: multinomial (softmax) loss: C·Σ -log softmax(Wx + b)_y + ½‖W‖²_F.
 * The intercepts are not penalised. Minimised by L-BFGS to max |gradient| ≤ 1e-9 (relative).
 */
import { MedvlmError } from '../../core/errors.js';
import { lbfgs } from './lbfgs.js';

/** A fitted probe. */
export interface LogisticModel {
  /** K x D weights (for K = 2, row 1 is w and row 0 is zero: sklearn's binary form). */
  weights: Float64Array[];
  bias: Float64Array;
  classes: number;
  iterations: number;
  converged: boolean;
}

/** Options of `fitLogistic`. */
export interface LogisticOptions {
  /** Inverse regularisation strength, as sklearn's C (default 1). */
  C?: number;
  maxIter?: number;
}

/**
 * Fit the probe on rows `x` (N x D) with class indices `y` in 0..k-1. Classes absent from `y` still get
 * a row (their probability only shrinks); k must be ≥ 2.
 */
export function fitLogistic(x: ArrayLike<number>[], y: number[], k: number, opts: LogisticOptions = {}): LogisticModel {
  const C = opts.C ?? 1;
  const n = x.length;
  const dim = n ? x[0].length : 0;
  if (k < 2) throw new MedvlmError('E_INTERNAL', `fitLogistic: need at least 2 classes, got ${k}`);
  if (k === 2) {
    // parameters: w (dim), b
    const fn = (p: Float64Array, g: Float64Array): number => {
      g.fill(0);
      let f = 0;
      for (let j = 0; j < dim; j++) f += 0.5 * p[j] * p[j];
      for (let i = 0; i < n; i++) {
        const sign = y[i] === 1 ? 1 : -1;
        let z = p[dim];
        for (let j = 0; j < dim; j++) z += p[j] * x[i][j];
        const m = sign * z;
        // log(1 + exp(-m)), stable
        f += C * (m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m)));
        const coef = -C * sign * (1 / (1 + Math.exp(m)));
        for (let j = 0; j < dim; j++) g[j] += coef * x[i][j];
        g[dim] += coef;
      }
      for (let j = 0; j < dim; j++) g[j] += p[j];
      return f;
    };
    const r = lbfgs(fn, new Float64Array(dim + 1), { gradTol: 1e-9 * Math.max(1, C * n), maxIter: opts.maxIter ?? 5000 });
    return {
      weights: [new Float64Array(dim), r.x.slice(0, dim)],
      bias: Float64Array.from([0, r.x[dim]]),
      classes: 2,
      iterations: r.iterations,
      converged: r.converged,
    };
  }
  // parameters: W (k x dim, row-major), then b (k)
  const size = k * dim + k;
  const logits = new Float64Array(k);
  const fn = (p: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let f = 0;
    for (let j = 0; j < k * dim; j++) f += 0.5 * p[j] * p[j];
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let c = 0; c < k; c++) {
        let z = p[k * dim + c];
        const row = c * dim;
        for (let j = 0; j < dim; j++) z += p[row + j] * x[i][j];
        logits[c] = z;
        if (z > max) max = z;
      }
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(logits[c] - max);
      const lse = max + Math.log(sum);
      f += C * (lse - logits[y[i]]);
      for (let c = 0; c < k; c++) {
        const coef = C * (Math.exp(logits[c] - lse) - (c === y[i] ? 1 : 0));
        const row = c * dim;
        for (let j = 0; j < dim; j++) g[row + j] += coef * x[i][j];
        g[k * dim + c] += coef;
      }
    }
    for (let j = 0; j < k * dim; j++) g[j] += p[j];
    return f;
  };
  const r = lbfgs(fn, new Float64Array(size), { gradTol: 1e-9 * Math.max(1, C * n), maxIter: opts.maxIter ?? 5000 });
  return {
    weights: Array.from({ length: k }, (_, c) => r.x.slice(c * dim, (c + 1) * dim)),
    bias: r.x.slice(k * dim),
    classes: k,
    iterations: r.iterations,
    converged: r.converged,
  };
}

/** Class probabilities of one row: sigmoid of the margin for K = 2 (sklearn's binary form), softmax otherwise. */
export function predictLogistic(model: LogisticModel, row: ArrayLike<number>): number[] {
  const z = model.weights.map((w, c) => {
    let s = model.bias[c];
    for (let j = 0; j < w.length; j++) s += w[j] * row[j];
    return s;
  });
  if (model.classes === 2) {
    const p1 = 1 / (1 + Math.exp(-(z[1] - z[0])));
    return [1 - p1, p1];
  }
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
