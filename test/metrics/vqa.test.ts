import { describe, expect, it } from 'vitest';
import {
  closedAccuracy,
  normalizeAnswer,
  openTokenItem,
  openTokenScores,
  VqaAccumulator,
} from '../../src/metrics/index.js';

describe('normalizeAnswer', () => {
  it('lowercases, strips punctuation and articles, maps number words to digits', () => {
    expect(normalizeAnswer('Yes.')).toBe('yes');
    expect(normalizeAnswer('  NO!! ')).toBe('no');
    expect(normalizeAnswer('The heart is NOT enlarged.')).toBe('heart is not enlarged');
    expect(normalizeAnswer('Two')).toBe('2');
    expect(normalizeAnswer('an X-ray of the chest')).toBe('x ray of chest');
    expect(normalizeAnswer("patient's left lung")).toBe('patients left lung');
    expect(normalizeAnswer('2.5 cm, 1,000 ml')).toBe('2.5 cm 1000 ml');
    expect(normalizeAnswer('...')).toBe('');
  });
});

describe('closedAccuracy', () => {
  it('is exact match after normalisation', () => {
    // yes=Yes. ✓, no=No ✓, yes≠no ✗, no≠"no, there is not" ✗ (exact match, not containment)
    expect(closedAccuracy(['yes', 'no', 'yes', 'no'], ['Yes.', 'No', 'no', 'No, there is not'])).toBe(0.5);
    expect(closedAccuracy([], [])).toBeNaN();
    expect(() => closedAccuracy(['yes'], [])).toThrow(/truth has 1 items but predicted has 0/);
  });
});

describe('open-question token scores', () => {
  it('per-item token overlap, averaged over items', () => {
    // 1) truth "right lower lobe", pred "the right lower lung lobe" → pred tokens right lower lung lobe:
    //    overlap 3, R = 3/3, P = 3/4, F1 = 2·.75/1.75 = 6/7
    expect(openTokenItem('right lower lobe', 'the right lower lung lobe')).toEqual({
      recall: 1,
      precision: 0.75,
      f1: 6 / 7,
      exactMatch: 0,
    });
    // 2) repeated words are clipped: truth "left left" (2), pred "left" → R 1/2, P 1, F1 2/3
    expect(openTokenItem('left left', 'left').f1).toBeCloseTo(2 / 3, 15);
    // 3) "Two." vs "2" → exact after normalisation
    expect(openTokenItem('Two.', '2')).toEqual({ recall: 1, precision: 1, f1: 1, exactMatch: 1 });
    // 4) nothing shared
    expect(openTokenItem('brain', 'liver')).toEqual({ recall: 0, precision: 0, f1: 0, exactMatch: 0 });
    const s = openTokenScores(['right lower lobe', 'left left', 'Two.', 'brain'], ['the right lower lung lobe', 'left', '2', 'liver']);
    expect(s.recall).toBeCloseTo((1 + 0.5 + 1 + 0) / 4, 15);
    expect(s.precision).toBeCloseTo((0.75 + 1 + 1 + 0) / 4, 15);
    expect(s.f1).toBeCloseTo((6 / 7 + 2 / 3 + 1 + 0) / 4, 15);
    expect(s.exactMatch).toBe(0.25);
  });

  it('empty answers: both empty score 1, one empty scores 0', () => {
    expect(openTokenItem('', '...')).toEqual({ recall: 1, precision: 1, f1: 1, exactMatch: 1 });
    expect(openTokenItem('lung', '')).toEqual({ recall: 0, precision: 0, f1: 0, exactMatch: 0 });
  });
});

describe('VqaAccumulator', () => {
  it('gives the same numbers as closedAccuracy and openTokenScores', () => {
    const closed = [['yes', 'Yes'], ['no', 'yes'], ['no', 'No.']];
    const open = [['right lower lobe', 'right lobe'], ['mri', 'MRI scan'], ['axial', 'coronal']];
    const acc = new VqaAccumulator();
    for (let i = 0; i < 3; i++) {
      acc.add(open[i][0], open[i][1], 'open');
      acc.add(closed[i][0], closed[i][1], 'closed');
    }
    const r = acc.result();
    expect(r.closed).toEqual({ n: 3, accuracy: closedAccuracy(closed.map((x) => x[0]), closed.map((x) => x[1])) });
    expect(r.closed.accuracy).toBe(2 / 3);
    expect(r.open).toEqual({ n: 3, ...openTokenScores(open.map((x) => x[0]), open.map((x) => x[1])) });
    expect(new VqaAccumulator().result().open.f1).toBeNaN();
  });
});
