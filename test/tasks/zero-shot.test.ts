import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src/core/errors.js';
import { fillTemplate } from '../../src/tasks/templates.js';
import { loadTemplates, builtinTemplateNames } from '../../src/tasks/templates-files.js';
import { meanNormalised } from '../../src/core/vectors.js';
import { parseLabels, rankLabels, scoreLabels } from '../../src/tasks/zero-shot.js';

const v = (...x: number[]) => Float32Array.from(x);

describe('parseLabels', () => {
  it('splits, trims, drops empties and duplicates', () => {
    expect(parseLabels(' CT , MRI,,X-ray, CT ')).toEqual(['CT', 'MRI', 'X-ray']);
  });
  it.each([[''], [' , ,'], [[] as string[]]])('rejects empty label lists (%j) with E_LABELS_EMPTY', (input) => {
    expect(() => parseLabels(input)).toThrowError(OptionError);
    try {
      parseLabels(input);
    } catch (e) {
      expect((e as OptionError).code).toBe('E_LABELS_EMPTY');
    }
  });
});

describe('scoring', () => {
  const img = v(1, 0, 0);
  const labels = [v(1, 0, 0), v(0, 1, 0), meanNormalised([v(1, 0, 0), v(0, 1, 0)])];
  it('softmax over scaled cosines sums to 1 and matches hand-computed values', () => {
    const s = scoreLabels({ scoring: 'softmax', logitScale: 10, logitBias: 0 }, img, labels);
    // logits: 10, 0, 10/sqrt(2)=7.0711
    const e = [Math.exp(0), Math.exp(-10), Math.exp(10 / Math.SQRT2 - 10)];
    const z = e[0] + e[1] + e[2];
    expect(s[0]).toBeCloseTo(e[0] / z, 7);
    expect(s[1]).toBeCloseTo(e[1] / z, 7);
    expect(s[2]).toBeCloseTo(e[2] / z, 7);
    expect(s.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
  });
  it('sigmoid scores each label independently with scale and bias', () => {
    const s = scoreLabels({ scoring: 'sigmoid', logitScale: 10, logitBias: -5 }, img, labels);
    expect(s[0]).toBeCloseTo(1 / (1 + Math.exp(-5)), 7);
    expect(s[1]).toBeCloseTo(1 / (1 + Math.exp(5)), 7);
    expect(s[2]).toBeCloseTo(1 / (1 + Math.exp(-(10 / Math.SQRT2 - 5))), 7);
  });
  it('prompt ensembling averages normalised vectors and renormalises', () => {
    const m = meanNormalised([v(1, 0), v(0, 1)]);
    expect(m[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(m[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });
  it('ranks labels by score, highest first', () => {
    expect(rankLabels(['a', 'b', 'c'], [0.2, 0.5, 0.3]).map((l) => l.label)).toEqual(['b', 'c', 'a']);
  });
});

describe('templates', () => {
  it('ships a default medical ensemble whose templates all hold {}', () => {
    expect(builtinTemplateNames()).toEqual(expect.arrayContaining(['medical', 'plain', 'chest-xray']));
    const t = loadTemplates();
    expect(t.name).toBe('medical');
    expect(t.templates.length).toBeGreaterThanOrEqual(5);
    expect(fillTemplate('a radiology image of {}', 'the brain')).toBe('a radiology image of the brain');
  });
  it('suggests the closest built-in name on a typo', () => {
    expect(() => loadTemplates('medicla')).toThrowError(/did you mean 'medical'/);
  });
});
