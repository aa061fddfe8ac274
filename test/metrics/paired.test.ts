/**
 * Paired statistics against an independent Python implementation (test/support/paired_stats.py:
 * DeLong by Sun & Xu's mid-rank algorithm with scipy; the bootstrap with the same mulberry32 draws and
 * numpy quantiles), plus properties that must hold whatever the data.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rocAucBinary } from '../../src/metrics/index.js';
import { delongTest, normalTwoSidedP, pairedBootstrap, pairedMeanBootstrap } from '../../src/metrics/paired.js';

interface Fixture {
  delong: Array<{ name: string; positive: boolean[]; a: number[]; b: number[]; delong: Record<'aucA' | 'aucB' | 'difference' | 'variance' | 'z' | 'p', number> }>;
  bootstrap: Array<{ name: string; a: number[]; b: number[]; samples: number; seed: number; result: Record<'a' | 'b' | 'difference' | 'lo' | 'hi' | 'p', number> }>;
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/paired.json', import.meta.url), 'utf8')) as Fixture;

describe('DeLong test', () => {
  for (const c of fx.delong) {
    it(`equals the Python mid-rank implementation (${c.name})`, () => {
      const r = delongTest(c.positive, c.a, c.b);
      expect(r.aucA).toBeCloseTo(c.delong.aucA, 12);
      expect(r.aucB).toBeCloseTo(c.delong.aucB, 12);
      expect(r.variance).toBeCloseTo(c.delong.variance, 12);
      expect(r.z).toBeCloseTo(c.delong.z, 9);
      expect(Math.abs(r.p - c.delong.p)).toBeLessThanOrEqual(Math.max(1e-9, 2e-7 * c.delong.p));
      // AUCs agree with the ROC module too
      expect(r.aucA).toBeCloseTo(rocAucBinary(c.positive.map(Number), c.a), 12);
    });
  }

  it('identical scores give difference 0 and p = 1; swapping models flips the sign', () => {
    const c = fx.delong[0];
    expect(delongTest(c.positive, c.a, c.a)).toMatchObject({ difference: 0, p: 1 });
    const ab = delongTest(c.positive, c.a, c.b);
    const ba = delongTest(c.positive, c.b, c.a);
    expect(ba.difference).toBeCloseTo(-ab.difference, 14);
    expect(ba.p).toBeCloseTo(ab.p, 14);
  });

  it('refuses one-class data', () => {
    expect(() => delongTest([true, true], [1, 2], [2, 1])).toThrow(/both classes/);
  });

  it('normal p-values', () => {
    expect(normalTwoSidedP(0)).toBeCloseTo(1, 7);
    expect(normalTwoSidedP(1.959963984540054)).toBeCloseTo(0.05, 7);
    expect(normalTwoSidedP(-2.5758293035489)).toBeCloseTo(0.01, 7);
  });
});

describe('paired bootstrap', () => {
  for (const c of fx.bootstrap) {
    it(`equals Python with the same draws (${c.name})`, () => {
      const r = pairedMeanBootstrap(c.a, c.b, { samples: c.samples, seed: c.seed });
      expect(r.a).toBeCloseTo(c.result.a, 12);
      expect(r.b).toBeCloseTo(c.result.b, 12);
      expect(r.difference.value).toBeCloseTo(c.result.difference, 12);
      expect(r.difference.lo).toBeCloseTo(c.result.lo, 12);
      expect(r.difference.hi).toBeCloseTo(c.result.hi, 12);
      expect(r.p).toBeCloseTo(c.result.p, 12);
    });
  }

  it('a corpus-level statistic gets the same indices for both models', () => {
    const seen: string[] = [];
    pairedBootstrap(5, (idx) => (seen.push(`a${idx.join()}`), 0), (idx) => (seen.push(`b${idx.join()}`), 0), { samples: 3 });
    for (let i = 0; i < seen.length; i += 2) expect(seen[i].slice(1)).toBe(seen[i + 1].slice(1));
  });
});
