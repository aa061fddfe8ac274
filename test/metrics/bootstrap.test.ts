import { describe, expect, it } from 'vitest';
import {
  accuracy,
  balancedAccuracy,
  bootstrapCI,
  classificationReport,
  f1Scores,
  mulberry32,
  quantileSorted,
  rocAucOvR,
} from '../../src/metrics/index.js';

/** n items, the first round(n * rate) correct: accuracy over the resampled indices. */
function accuracyStat(n: number, rate: number): (idx: number[]) => number {
  const truth = new Array<number>(n).fill(1);
  const pred = truth.map((_, i) => (i < Math.round(n * rate) ? 1 : 0));
  return (idx) => accuracy(idx.map((i) => truth[i]), idx.map((i) => pred[i]));
}

describe('mulberry32', () => {
  it('gives the pinned sequence (checked against an independent Python port)', () => {
    const r0 = mulberry32(0);
    expect([r0(), r0(), r0()]).toEqual([0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]);
    const r42 = mulberry32(42);
    expect([r42(), r42(), r42()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it('is uniform on [0, 1)', () => {
    const r = mulberry32(7);
    let sum = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r();
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
  });
});

describe('bootstrapCI', () => {
  it('is deterministic for a seed and changes with the seed', () => {
    const stat = accuracyStat(200, 0.8);
    const a = bootstrapCI(200, stat, { seed: 5, samples: 500 });
    expect(bootstrapCI(200, stat, { seed: 5, samples: 500 })).toEqual(a);
    expect(bootstrapCI(200, stat, { seed: 6, samples: 500 })).not.toEqual(a);
  });

  it('contains the point estimate and narrows about as 1/sqrt(n)', () => {
    const small = bootstrapCI(100, accuracyStat(100, 0.8), { seed: 1 });
    const large = bootstrapCI(1600, accuracyStat(1600, 0.8), { seed: 1 });
    for (const ci of [small, large]) {
      expect(ci.value).toBe(0.8);
      expect(ci.lo).toBeLessThan(ci.value);
      expect(ci.hi).toBeGreaterThan(ci.value);
    }
    // Binomial: 95% half-width ≈ 1.96·sqrt(.8·.2/n) = .078 (n = 100), .0196 (n = 1600).
    expect(small.hi - small.lo).toBeGreaterThan(0.12);
    expect(small.hi - small.lo).toBeLessThan(0.19);
    const ratio = (small.hi - small.lo) / (large.hi - large.lo);
    expect(ratio).toBeGreaterThan(3);
    expect(ratio).toBeLessThan(5.5);
  });

  it('leaves out NaN resamples and uses numpy-style linear quantiles', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([10], 0.975)).toBe(10);
    const ci = bootstrapCI(10, (idx) => (idx.includes(0) ? NaN : 1), { samples: 200 });
    expect(ci.value).toBeNaN();
    expect([ci.lo, ci.hi]).toEqual([1, 1]);
    expect(bootstrapCI(3, () => 2, { samples: 0 })).toEqual({ value: 2, lo: NaN, hi: NaN });
  });

  it('classificationReport CIs are reproducible and bracket the point values', () => {
    const r = mulberry32(11);
    const y = Array.from({ length: 150 }, () => Math.floor(r() * 3));
    const probs = y.map((c) => {
      const z = [r(), r(), r()];
      z[c] += 0.6;
      const s = z[0] + z[1] + z[2];
      return z.map((v) => v / s);
    });
    const a = classificationReport(y, probs, { bootstrap: 200, seed: 9 });
    expect(classificationReport(y, probs, { bootstrap: 200, seed: 9 })).toEqual(a);
    // The report's fast resampling path equals bootstrapping the pure functions on copied arrays.
    const pred = probs.map((r) => r.indexOf(Math.max(...r)));
    const pick = <T>(xs: T[], idx: number[]): T[] => idx.map((i) => xs[i]);
    const opts = { samples: 200, seed: 9 };
    const slow = {
      accuracy: bootstrapCI(150, (idx) => accuracy(pick(y, idx), pick(pred, idx)), opts),
      balancedAccuracy: bootstrapCI(150, (idx) => balancedAccuracy(pick(y, idx), pick(pred, idx), 3), opts),
      macroF1: bootstrapCI(150, (idx) => f1Scores(pick(y, idx), pick(pred, idx), 3).macro, opts),
      macroAuroc: bootstrapCI(150, (idx) => rocAucOvR(pick(y, idx), pick(probs, idx)).macro, opts),
    };
    for (const key of ['accuracy', 'balancedAccuracy', 'macroF1', 'macroAuroc'] as const) {
      for (const end of ['value', 'lo', 'hi'] as const) expect(a[key][end]).toBeCloseTo(slow[key][end], 12);
    }
    for (const ci of [a.accuracy, a.balancedAccuracy, a.macroF1, a.macroAuroc]) {
      expect(ci.lo).toBeLessThanOrEqual(ci.value);
      expect(ci.hi).toBeGreaterThanOrEqual(ci.value);
      expect(ci.hi - ci.lo).toBeGreaterThan(0.02);
    }
  });
});
