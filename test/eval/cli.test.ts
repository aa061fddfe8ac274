/** `medvlm datasets`, and the eval/report commands' errors: one line, a stable code, the usage exit code, no stack trace. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasStackTrace, medvlm } from '../cli/helpers.js';
import { SHARED_DATA } from './helpers.js';

describe('medvlm datasets', () => {
  it('--json lists the six descriptions with presence under the given data root', () => {
    const r = medvlm(['datasets', '--json', '--data-root', '/nonexistent-root']);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout) as { dataRoot: string; datasets: { id: string; present: boolean; tasks: string[] }[] };
    expect(v.dataRoot).toBe('/nonexistent-root');
    expect(v.datasets.map((d) => [d.id, d.present])).toEqual([
      ['busi', false],
      ['medpix-location', false],
      ['medpix-modality', false],
      ['medpix-retrieval', false],
      ['pneumoniamnist', false],
      ['vqarad-organ', false],
    ]);
  });

  it.skipIf(!existsSync(join(SHARED_DATA, 'README.md')))('a table with every data set present under ../shared/data', () => {
    const r = medvlm(['datasets', '--data-root', SHARED_DATA]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /^\S+\s+yes\s/.test(l))).toHaveLength(6);
  });
});

describe('medvlm eval / report errors', () => {
  it('an unknown data set: exit 2, did-you-mean, no stack trace, nothing written', () => {
    const r = medvlm(['eval', '--datasets', 'busy', '--out', '/tmp/medvlm-never-written']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--datasets busy: unknown data set \(did you mean 'busi'\?\).*\[E_BAD_OPTION\]/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(existsSync('/tmp/medvlm-never-written')).toBe(false);
  });

  it('an unknown task: exit 2', () => {
    const r = medvlm(['eval', '--tasks', 'zeroshot,vqaa']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tasks vqaa: unknown task; known: zeroshot, fewshot, retrieval, segmentation, anomaly, maps, vqa, report-generation \[E_BAD_OPTION\]/);
  });

  it('missing data sets are skipped with one line each, exit 0', () => {
    const r = medvlm(['eval', '--models', 'medvlm-tiny', '--datasets', 'busi,pneumoniamnist', '--data-root', '/nonexistent-root', '--out', '/tmp/medvlm-eval-missing']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/data set busi: \/nonexistent-root\/busi\/manifest\.csv not found; skipped/);
    expect(r.stderr).toMatch(/0 written, 0 skipped, 0 failed, 2 data set\(s\) missing/);
  });

  it('report on a folder that does not exist: exit 3 naming it', () => {
    const r = medvlm(['report', '/nonexistent-results']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\/nonexistent-results: not a readable results folder \[E_FILE_NOT_FOUND\]/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});
