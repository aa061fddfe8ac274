/** The README's main job: `medvlm demo` with the bundled model, offline, on the bundled samples. */
import { describe, expect, it } from 'vitest';
import { hasStackTrace, medvlm } from './helpers.js';

describe('medvlm demo', () => {
  it('labels the bundled samples offline, sensibly (floors on 8 images), with the research notice', () => {
    const r = medvlm(['demo']);
    expect(r.code).toBe(0);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stdout).toMatch(/Research use only/);
    const scores = [...r.stdout.matchAll(/^ {2}(\d+)\/(\d+) right$/gm)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(scores).toHaveLength(3);
    const [region, modality, pneumonia] = scores;
    expect(region[1]).toBe(8);
    expect(modality[1]).toBe(8);
    expect(pneumonia[1]).toBe(2);
    // chance is 8/3 ≈ 2.7 of 8 for both questions
    expect(region[0]).toBeGreaterThanOrEqual(6);
    expect(modality[0]).toBeGreaterThanOrEqual(6);
  });
});
