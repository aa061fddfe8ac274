/**
 * LLaVA-Med's VQA scoring (src/metrics/vqa-llava-med.ts) against a Python write-out of the same
 * rules, on hand-made edge cases and on every VQA-RAD test question with the majority-answer
 * baseline; pins the protocol's known quirk (a constant "no" scores 100 % closed accuracy because
 * misses that mention yes/no are left out) next to the strict accuracy.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { llavaMedClosedHit, llavaMedNormalize, llavaMedOpenScores, scoreLlavaMedVqa } from '../../src/metrics/vqa-llava-med.js';

const PYTHON = '/usr/bin/python3';
const REFERENCE = fileURLToPath(new URL('./support/llava_med_vqa.py', import.meta.url));
const QA = fileURLToPath(new URL('../../../shared/data/vqa_rad/qa.jsonl', import.meta.url));
const hasPython = spawnSync(PYTHON, ['-c', 'import json'], { stdio: 'ignore' }).status === 0;
if (!existsSync(QA)) console.log('[skip] VQA-RAD baseline check: ../shared/data/vqa_rad/qa.jsonl is absent');

type Case = { answer_type: 'CLOSED' | 'OPEN'; truth: string; predicted: string };

const CASES: Case[] = [
  { answer_type: 'CLOSED', truth: 'Yes', predicted: 'Yes, there is a mass.' },
  { answer_type: 'CLOSED', truth: 'No', predicted: 'The lungs are normal.' }, // "no" inside "normal": a hit
  { answer_type: 'CLOSED', truth: 'yes', predicted: 'It is unclear' },
  { answer_type: 'CLOSED', truth: 'yes', predicted: 'I cannot tell' }, // "no" inside "cannot": left out
  { answer_type: 'CLOSED', truth: 'no', predicted: 'Yes.' }, // mentions yes, not the truth: left out
  { answer_type: 'CLOSED', truth: 'MRI', predicted: 'No, this is an MRI' },
  { answer_type: 'OPEN', truth: 'right lower lobe', predicted: 'There is an opacity in the right lower lobe.' },
  { answer_type: 'OPEN', truth: 'two', predicted: '2 lesions, 2 cysts' },
  { answer_type: 'OPEN', truth: 'x-ray', predicted: 'an x ray' },
  { answer_type: 'OPEN', truth: 'x-ray', predicted: 'chest x- ray' },
  { answer_type: 'OPEN', truth: '1,000 ml', predicted: 'about 1000 ml (estimated)' },
  { answer_type: 'OPEN', truth: 'left', predicted: '' },
  { answer_type: 'OPEN', truth: 'T2 weighted', predicted: 't2. weighted. flair. 3.5 mm.' },
  { answer_type: 'OPEN', truth: 'pancreas', predicted: 'liver' },
  { answer_type: 'OPEN', truth: 'gallbladder / liver', predicted: 'gallbladder' },
];

function python(items: Case[]): Array<{ hit?: 0 | 1 | null; recall?: number; precision?: number; f1?: number; exact?: number }> {
  const r = spawnSync(PYTHON, [REFERENCE], { input: JSON.stringify(items), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as ReturnType<typeof python>;
}

function compare(items: Case[]): void {
  const ref = python(items);
  items.forEach((c, i) => {
    const what = `${c.answer_type} "${c.truth}" / "${c.predicted}"`;
    if (c.answer_type === 'CLOSED') expect(llavaMedClosedHit(c.truth, c.predicted), what).toBe(ref[i].hit);
    else {
      const s = llavaMedOpenScores(c.truth, c.predicted);
      expect(s.recall, what).toBeCloseTo(ref[i].recall!, 12);
      expect(s.precision, what).toBeCloseTo(ref[i].precision!, 12);
      expect(s.f1, what).toBeCloseTo(ref[i].f1!, 12);
      expect(s.exactMatch, what).toBeCloseTo(ref[i].exact!, 12);
    }
  });
}

describe('LLaVA-Med VQA scoring', () => {
  it('normalises as the protocol does', () => {
    expect(llavaMedNormalize('The heart is NOT enlarged.')).toBe('heart is not enlarged');
    expect(llavaMedNormalize('x-ray')).toBe('x ray');
    expect(llavaMedNormalize('chest x- ray')).toBe('chest x ray'); // "- " present: deleted, not spaced
    expect(llavaMedNormalize('1,000 ml (approx)')).toBe('1000 ml approx');
    expect(llavaMedNormalize('Two lesions; 3.5 cm.')).toBe('2 lesions 3.5 cm');
  });

  it.skipIf(!hasPython)('agrees with the Python write-out on edge cases', () => {
    compare(CASES);
    expect(CASES.slice(0, 6).map((c) => llavaMedClosedHit(c.truth, c.predicted))).toEqual([1, 1, 0, null, null, 1]);
  });

  it.skipIf(!hasPython || !existsSync(QA))('VQA-RAD test, majority answers: Python agreement and the pinned baseline', () => {
    const rows = readFileSync(QA, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { split: string; answer: string; answer_type: string });
    const train = rows.filter((r) => r.split === 'train' && r.answer_type === 'OPEN').map((r) => r.answer.toLowerCase());
    const freq = new Map<string, number>();
    for (const a of train) freq.set(a, (freq.get(a) ?? 0) + 1);
    const openMajority = [...freq].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
    expect(openMajority).toBe('axial');
    const test = rows.filter((r) => r.split === 'test');
    const items: Case[] = test.map((r) => ({
      answer_type: r.answer_type === 'CLOSED' ? 'CLOSED' : 'OPEN',
      truth: r.answer,
      predicted: r.answer_type === 'CLOSED' ? 'no' : openMajority,
    }));
    compare(items);
    const { summary } = scoreLlavaMedVqa(items.map((i) => ({ answerType: i.answer_type, truth: i.truth, predicted: i.predicted })), { bootstrap: 200, seed: 1 });
    expect(summary.closed.n).toBe(272);
    // the protocol's quirk: every miss mentions "no", so it is left out and "always no" scores 1.0
    expect(summary.closed.accuracy.value).toBe(1);
    expect(summary.closed.dropped).toBe(139);
    expect(summary.closed.strictAccuracy.value).toBeCloseTo(133 / 272, 12); // 0.489, the majority baseline
    expect(summary.closed.strictAccuracy.lo).toBeLessThan(0.489);
    expect(summary.closed.strictAccuracy.hi).toBeGreaterThan(0.489);
    expect(summary.open.n).toBe(179);
    if (process.env.MEDVLM_TEST_VERBOSE) console.log(JSON.stringify(summary));
    expect(summary.open.recall.value).toBeGreaterThan(0);
    expect(summary.open.recall.value).toBeLessThan(0.2);
  });
});
