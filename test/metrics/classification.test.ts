import { afterAll, describe, expect, it } from 'vitest';
import {
  accuracy,
  balancedAccuracy,
  ClassificationAccumulator,
  classificationReport,
  confusionMatrix,
  expectedCalibrationError,
  f1Scores,
  multilabelMetrics,
  MultilabelAccumulator,
  rocAucBinary,
  rocAucOvR,
  rocCurve,
} from '../../src/metrics/index.js';
import { expectAllClose, expectClose, loadFixture, reportDeviations } from './helpers.js';

interface SingleCase {
  name: string;
  k: number;
  yTrue: number[];
  probs: number[][];
  expected: {
    yPred: number[];
    confusion: number[][];
    accuracy: number;
    balancedAccuracy: number;
    f1PerClass: number[];
    f1Macro: number;
    aurocMacro: number;
    aurocPerClass: (number | null)[];
    roc: ({ fpr: number[]; tpr: number[]; thresholds: number[] } | null)[];
    ece: number;
    eceBins: { lo: number; hi: number; count: number; confidence: number; accuracy: number }[];
  };
}
interface MultiCase {
  name: string;
  yTrue: number[][];
  probs: number[][];
  expected: {
    perClassAuroc: number[];
    macroAuroc: number;
    macroF1: number;
    microF1: number;
    perClassF1: number[];
    subsetAccuracy: number;
    thresholdTies: number;
  };
}
const fx = loadFixture<{ sklearn: string; single: SingleCase[]; multilabel: MultiCase[] }>('classification.json');
const TOL = 1e-9;
afterAll(() => reportDeviations(`classification vs scikit-learn ${fx.sklearn}`));

const argmaxAll = (probs: number[][]): number[] => probs.map((r) => r.indexOf(Math.max(...r)));

describe.each(fx.single)('single-label $name vs scikit-learn', (c) => {
  const yPred = argmaxAll(c.probs);

  it('predictions, confusion matrix, accuracy, balanced accuracy, F1', () => {
    expect(yPred).toEqual(c.expected.yPred);
    expect(confusionMatrix(c.yTrue, yPred, c.k)).toEqual(c.expected.confusion);
    expectClose(accuracy(c.yTrue, yPred), c.expected.accuracy, TOL, 'accuracy');
    expectClose(balancedAccuracy(c.yTrue, yPred, c.k), c.expected.balancedAccuracy, TOL, 'balanced accuracy');
    const f1 = f1Scores(c.yTrue, yPred, c.k);
    expectAllClose(f1.perClass, c.expected.f1PerClass, TOL, 'f1 per class');
    expectClose(f1.macro, c.expected.f1Macro, TOL, 'f1 macro');
  });

  it('one-vs-rest AUROC and ROC curves (drop_intermediate=False)', () => {
    const auc = rocAucOvR(c.yTrue, c.probs);
    expectAllClose(auc.perClass, c.expected.aurocPerClass, TOL, 'auroc per class');
    expectClose(auc.macro, c.expected.aurocMacro, TOL, 'auroc macro');
    for (let cls = 0; cls < c.k; cls++) {
      const ref = c.expected.roc[cls];
      if (ref === null) continue;
      const curve = rocCurve(
        c.yTrue.map((y) => (y === cls ? 1 : 0)),
        c.probs.map((r) => r[cls]),
      );
      expectAllClose(curve.fpr, ref.fpr, TOL, 'roc fpr');
      expectAllClose(curve.tpr, ref.tpr, TOL, 'roc tpr');
      expect(curve.thresholds[0]).toBe(Infinity);
      expectAllClose(curve.thresholds.slice(1), ref.thresholds, 0, 'roc thresholds');
    }
  });

  it('ECE and its bins agree with the numpy reference', () => {
    const { ece, bins } = expectedCalibrationError(c.yTrue, c.probs);
    expectClose(ece, c.expected.ece, TOL, 'ece');
    expect(bins.map((b) => b.count)).toEqual(c.expected.eceBins.map((b) => b.count));
    expectAllClose(bins.map((b) => b.confidence), c.expected.eceBins.map((b) => b.confidence), TOL, 'ece bin confidence');
    expectAllClose(bins.map((b) => b.accuracy), c.expected.eceBins.map((b) => b.accuracy), TOL, 'ece bin accuracy');
    expectAllClose(bins.map((b) => b.hi), c.expected.eceBins.map((b) => b.hi), 0, 'ece bin edges');
  });

  it('classificationReport and ClassificationAccumulator (3 batches) give the same numbers', () => {
    const report = classificationReport(c.yTrue, c.probs, { bootstrap: 50, seed: 3 });
    expectClose(report.accuracy.value, c.expected.accuracy, TOL, 'report accuracy');
    expectClose(report.macroF1.value, c.expected.f1Macro, TOL, 'report f1');
    expectClose(report.macroAuroc.value, c.expected.aurocMacro, TOL, 'report auroc');
    expectClose(report.ece, c.expected.ece, TOL, 'report ece');
    expect(report.confusion).toEqual(c.expected.confusion);
    const cut1 = Math.floor(c.yTrue.length / 3);
    const cut2 = Math.floor((2 * c.yTrue.length) / 3);
    const acc64 = new ClassificationAccumulator();
    for (const [a, b] of [[0, cut1], [cut1, cut2], [cut2, c.yTrue.length]]) acc64.add(c.yTrue.slice(a, b), c.probs.slice(a, b));
    expect(acc64.size).toBe(c.yTrue.length);
    expect(acc64.result({ bootstrap: 50, seed: 3 })).toEqual(report);
    // Float32Array rows (as a model returns them) give the report of their float32 values.
    const rows32 = c.probs.map((r) => Float32Array.from(r));
    const acc32 = new ClassificationAccumulator();
    acc32.add(c.yTrue, rows32);
    expect(acc32.result({ bootstrap: 0 })).toEqual(classificationReport(c.yTrue, rows32.map((r) => Array.from(r)), { bootstrap: 0 }));
  });
});

describe.each(fx.multilabel)('multi-label $name vs scikit-learn', (c) => {
  it('AUROC per class and macro, F1 macro/micro, subset accuracy (threshold >= 0.5)', () => {
    expect(c.expected.thresholdTies).toBeGreaterThan(0);
    const r = multilabelMetrics(c.yTrue, c.probs);
    expectAllClose(r.perClassAuroc, c.expected.perClassAuroc, TOL, 'multilabel auroc per class');
    expectClose(r.macroAuroc, c.expected.macroAuroc, TOL, 'multilabel auroc macro');
    expectClose(r.macroF1, c.expected.macroF1, TOL, 'multilabel f1 macro');
    expectClose(r.microF1, c.expected.microF1, TOL, 'multilabel f1 micro');
    expectAllClose(r.perClassF1, c.expected.perClassF1, TOL, 'multilabel f1 per class');
    expectClose(r.subsetAccuracy, c.expected.subsetAccuracy, TOL, 'subset accuracy');
  });

  it('MultilabelAccumulator in batches equals the pure function', () => {
    const acc = new MultilabelAccumulator();
    for (let i = 0; i < c.yTrue.length; i += 17) acc.add(c.yTrue.slice(i, i + 17), c.probs.slice(i, i + 17));
    expect(acc.result()).toEqual(multilabelMetrics(c.yTrue, c.probs));
  });
});

describe('hand-worked examples', () => {
  it('ECE with 15 bins: 0.3675', () => {
    // conf .95 (bin 14, right), .9 (bin 13, wrong), .9 (bin 13, right), .62 (bin 9, wrong):
    // ECE = 1/4·|1 − .95| + 2/4·|.5 − .9| + 1/4·|0 − .62| = .0125 + .2 + .155 = .3675
    const { ece, bins } = expectedCalibrationError(
      [0, 1, 1, 0],
      [[0.95, 0.05], [0.9, 0.1], [0.1, 0.9], [0.38, 0.62]],
    );
    expect(ece).toBeCloseTo(0.3675, 12);
    expect(bins).toHaveLength(15);
    expect(bins.map((b) => b.count)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 1]);
    expect(bins[13]).toMatchObject({ count: 2, accuracy: 0.5 });
    expect(bins[13].confidence).toBeCloseTo(0.9, 12);
  });

  it('ECE bins are (lo, hi]: a confidence on an edge goes to the lower bin', () => {
    const { bins } = expectedCalibrationError([0, 0], [[0.5, 0.5], [1, 0]], 2);
    expect(bins.map((b) => b.count)).toEqual([1, 1]);
    expect(bins[0]).toMatchObject({ lo: 0, hi: 0.5, confidence: 0.5, accuracy: 1 });
  });

  it('binary AUROC counts a tied positive/negative pair as one half', () => {
    // pairs (pos, neg): (.35,.1) ✓ (.35,.4) ✗ (.8,.1) ✓ (.8,.4) ✓ → 3/4; tie (.4,.4) adds 1/2 of a pair
    expect(rocAucBinary([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    expect(rocAucBinary([0, 0, 1, 1], [0.1, 0.4, 0.4, 0.8])).toBe(0.875);
    expect(rocAucBinary([1, 1, 1], [0.1, 0.2, 0.3])).toBeNaN();
  });

  it('a class absent from the truth gets NaN AUROC and is left out of the macro mean', () => {
    const r = rocAucOvR([0, 0, 1, 1], [[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.2, 0.4, 0.4]]);
    expect(r.perClass[0]).toBe(1);
    expect(r.perClass[1]).toBe(1);
    expect(r.perClass[2]).toBeNaN();
    expect(r.macro).toBe(1);
  });

  it('F1 with a class never predicted and one absent everywhere (zero_division = 0)', () => {
    // class 0: tp 2, fp 1, fn 0 → 4/5; class 1: tp 0, fn 1 → 0; class 2: nothing → 0
    expect(f1Scores([0, 0, 1], [0, 0, 0], 3)).toEqual({ perClass: [0.8, 0, 0], macro: 0.8 / 3 });
    expect(balancedAccuracy([0, 0, 1], [0, 0, 0], 3)).toBe(0.5);
  });

  it('rejects mismatched lengths and out-of-range labels with E_BAD_OPTION', () => {
    expect(() => accuracy([0, 1], [0])).toThrow(expect.objectContaining({ code: 'E_BAD_OPTION' }));
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/yTrue\[1\] = 3 is not a class index in 0..2/);
    expect(() => rocAucOvR([0], [[0.5, NaN]])).toThrow(/probs\[0\]\[1\] is not a finite number/);
  });
});
