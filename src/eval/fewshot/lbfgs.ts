/** A small L-BFGS minimiser (Nocedal & Wright, algorithm 7.4) with a backtracking Armijo line search. */

/** Objective: returns f(x) and writes the gradient into `grad`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

/** Options of `lbfgs`. */
export interface LbfgsOptions {
  /** Pairs of (s, y) kept (default 10). */
  memory?: number;
  /** Stop when max |gradient| ≤ this (default 1e-9). */
  gradTol?: number;
  /** Iteration limit (default 2000). */
  maxIter?: number;
}

/** Result of `lbfgs`. */
export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  /** max |gradient| ≤ gradTol, or the objective stopped decreasing at rounding level with max |gradient| ≤ 1000·gradTol. */
  converged: boolean;
  gradMax: number;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Minimise a smooth function from `x0`. Suited to convex problems such as regularised logistic regression. */
export function lbfgs(fn: Objective, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const m = opts.memory ?? 10;
  const gradTol = opts.gradTol ?? 1e-9;
  const maxIter = opts.maxIter ?? 2000;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = fn(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(n);
  const alphas = new Array<number>(m);
  let iter = 0;
  let stalled = false;
  for (; iter < maxIter && maxAbs(g) > gradTol; iter++) {
    // two-loop recursion: d = -H g
    d.set(g);
    for (let i = S.length - 1; i >= 0; i--) {
      alphas[i] = rho[i] * dot(S[i], d);
      for (let j = 0; j < n; j++) d[j] -= alphas[i] * Y[i][j];
    }
    const gamma = S.length ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]) : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let j = 0; j < n; j++) d[j] *= gamma;
    for (let i = 0; i < S.length; i++) {
      const beta = rho[i] * dot(Y[i], d);
      for (let j = 0; j < n; j++) d[j] += S[i][j] * (alphas[i] - beta);
    }
    for (let j = 0; j < n; j++) d[j] = -d[j];
    let slope = dot(g, d);
    if (slope >= 0) {
      // not a descent direction (numerical trouble): restart from steepest descent
      S.length = Y.length = rho.length = 0;
      for (let j = 0; j < n; j++) d[j] = -g[j];
      slope = -dot(g, g);
    }
    let step = 1;
    const xNew = new Float64Array(n);
    const gNew = new Float64Array(n);
    let fNew = Infinity;
    for (let tries = 0; tries < 60; tries++) {
      for (let j = 0; j < n; j++) xNew[j] = x[j] + step * d[j];
      fNew = fn(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew < f)) {
      stalled = true; // no decrease possible at machine precision
      break;
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      s[j] = xNew[j] - x[j];
      y[j] = gNew[j] - g[j];
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    const decrease = f - fNew;
    x = xNew;
    g = gNew;
    f = fNew;
    if (decrease <= 1e-15 * Math.max(1, Math.abs(f))) {
      stalled = true; // relative decrease at the rounding level of f (scipy's ftol criterion)
      iter++;
      break;
    }
  }
  const gradMax = maxAbs(g);
  // at the precision floor the gradient can stay a little above a very strict tolerance
  const converged = gradMax <= gradTol || (stalled && gradMax <= 1e3 * gradTol);
  return { x, f, iterations: iter, converged, gradMax };
}
