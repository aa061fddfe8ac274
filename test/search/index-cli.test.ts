import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, medvlm } from '../cli/helpers.js';
import { testModel } from '../models/fixtures.js';
import { pngSet, writeManifest } from './fixtures.js';

const CLIP = testModel('clip');
const SIGLIP = testModel('siglip');
let work: string;
let files: string[];
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'medvlm-index-cli-'));
  files = (await pngSet('cli', 12, 3)).map((f, i) => {
    const dst = join(work, `case${i}.png`);
    copyFileSync(f, dst);
    return dst;
  });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));
const FILES = (): string[] => files;

function json<T>(r: { stdout: string; stderr: string; code: number }): T {
  expect(r.stderr, r.stderr).not.toMatch(/unexpected error/);
  return JSON.parse(r.stdout) as T;
}

interface AddSummary {
  added: number;
  replaced: number;
  unchanged: number;
  duplicates: Array<{ file: string; duplicateOf: string }>;
  filteredOut: number;
}

describe('medvlm index / search CLI (tiny CLIP)', () => {
  it('adds once, skips the same file and duplicate content, replaces a changed file', () => {
    const ix = join(work, 'ix1');
    const own = join(work, 't1');
    mkdirSync(own);
    const files = FILES().map((f, i) => {
      const dst = join(own, `case${i}.png`);
      copyFileSync(f, dst);
      return dst;
    });
    const first = json<AddSummary>(medvlm(['index', 'add', ...files.slice(0, 6), '--index', ix, '--model', CLIP, '--json']));
    expect(first).toMatchObject({ added: 6, replaced: 0, unchanged: 0 });
    const second = json<AddSummary>(medvlm(['index', 'add', ...files.slice(0, 8), '--index', ix, '--model', CLIP, '--json']));
    expect(second).toMatchObject({ added: 2, replaced: 0, unchanged: 6 });
    // a copy of an indexed file under another name is not added again
    const copy = join(work, 'copy-of-case0.png');
    copyFileSync(files[0], copy);
    // a changed file at an indexed path replaces its entry
    copyFileSync(files[10], files[1]);
    const third = json<AddSummary>(medvlm(['index', 'add', copy, files[1], '--index', ix, '--model', CLIP, '--json']));
    expect(third).toMatchObject({ added: 0, replaced: 1, unchanged: 0 });
    expect(third.duplicates).toEqual([{ file: copy, duplicateOf: files[0] }]);
    const stats = json<{ entries: number; texts: number }>(medvlm(['index', 'stats', '--index', ix, '--json']));
    expect(stats).toMatchObject({ entries: 8, texts: 0 });
    // the replaced entry now holds the new content: searching with case10's pixels finds case1 first at similarity 1
    const hits = json<{ hits: Array<{ path: string; similarity: number }> }>(medvlm(['search', '--index', ix, '--image', files[10], '-k', '3', '--json']));
    expect(hits.hits[0].path).toBe(files[1]);
    expect(hits.hits[0].similarity).toBeCloseTo(1, 4);
    expect(hits.hits).toHaveLength(3);
    const exported = medvlm(['index', 'export', '--index', ix]).stdout.trim().split('\n');
    expect(exported).toHaveLength(8);
    expect(new Set(exported.map((l) => (JSON.parse(l) as { path: string }).path)).size).toBe(8);
    const removed = json<{ removed: number }>(medvlm(['index', 'remove', files[2], '--index', ix, '--json']));
    expect(removed.removed).toBe(1);
    expect(json<{ entries: number }>(medvlm(['index', 'stats', '--index', ix, '--json'])).entries).toBe(7);
  });

  it('refuses another model with E_INDEX_MODEL_MISMATCH (exit 3), one line, no stack trace', () => {
    const ix = join(work, 'ix2');
    expect(medvlm(['index', 'add', files[0], '--index', ix, '--model', CLIP]).code).toBe(0);
    for (const args of [
      ['index', 'add', files[1], '--index', ix, '--model', SIGLIP],
      ['search', '--index', ix, '--text', 'a chest CT', '--model', SIGLIP],
    ]) {
      const r = medvlm(args);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/E_INDEX_MODEL_MISMATCH/);
      expect(r.stderr).toContain(ix);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
    // nothing was added by the refused run
    expect(json<{ entries: number }>(medvlm(['index', 'stats', '--index', ix, '--json'])).entries).toBe(1);
    const missing = medvlm(['search', '--index', join(work, 'none'), '--text', 'x']);
    expect(missing.stderr).toMatch(/E_INDEX_NOT_FOUND/);
  });

  it('indexes a manifest split with texts, filters searches, and searches texts with an image', () => {
    const ix = join(work, 'ix3');
    const manifest = writeManifest(work, files);
    const add = json<AddSummary>(medvlm(['index', 'add', '--text-from', manifest, '--split', 'train', '--index', ix, '--model', CLIP, '--json']));
    expect(add).toMatchObject({ added: 9, filteredOut: 3 }); // 12 images, every 4th is test
    const stats = json<{ entries: number; texts: number; bySplit: Record<string, number> }>(medvlm(['index', 'stats', '--index', ix, '--json']));
    expect(stats).toMatchObject({ entries: 9, texts: 9, bySplit: { train: 9 } });
    const ct = json<{ hits: Array<{ metadata: { modality: string } }> }>(medvlm(['search', '--index', ix, '--text', 'pattern', '--where', 'modality=ct', '-k', '20', '--json']));
    expect(ct.hits.map((h) => h.metadata.modality)).toEqual(['CT', 'CT', 'CT']); // train CT: i = 2, 6, 10 (0, 4, 8 are test)
    const texts = json<{ hits: Array<{ kind: string; text: string; field: string }> }>(medvlm(['search', '--index', ix, '--image', files[5], '--target', 'text', '-k', '4', '--json']));
    expect(texts.hits).toHaveLength(4);
    expect(texts.hits.every((h) => h.kind === 'text' && h.field === 'caption' && h.text.startsWith('synthetic image number'))).toBe(true);
    const bad = medvlm(['search', '--index', ix, '--text', 'x', '--where', 'modalty=CT']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/did you mean 'modality'/);
  });
});

const CAPTIONS = ['Liver lesion in segment four.', 'Renal cyst in the left kidney.', 'Enlarged spleen with smooth contour.', 'Gallbladder wall thickening.', 'Dilated pancreatic duct.', 'Adrenal nodule on the right.'];
const FINDINGS = ['Hepatic cyst.', 'Bosniak one cyst.', 'Splenomegaly.', 'Cholecystitis suspected.', 'Ductal dilatation to the ampulla.', 'Adenoma favoured.'];

describe('draft-report provenance (tiny CLIP)', () => {
  it('every sentence of the draft names its source case, field and similarities', () => {
    const corpus = join(work, 'corpus.jsonl');
    writeFileSync(
      corpus,
      files
        .slice(0, 6)
        .map((f, i) => JSON.stringify({ image: f, case_id: `K${i}`, caption: `${CAPTIONS[i]} No pleural effusion.`, findings: i === 2 ? 'Small pleural effusion on the right.' : FINDINGS[i] }))
        .join('\n'),
    );
    for (const c of [corpus, join(work, 'ix-draft')]) {
      if (!c.endsWith('.jsonl')) expect(medvlm(['index', 'add', '--text-from', corpus, '--index', c, '--model', CLIP]).code).toBe(0);
      const r = medvlm(['draft-report', files[7], '--corpus', c, '--model', CLIP, '--sentences', '4', '-k', '6', '--json']);
      const d = json<{ notice: string; text: string; sentences: Array<{ text: string; source: { path: string; caseId: string; field: string }; caseSimilarity: number; sentenceSimilarity: number }>; dropped: Array<{ reason: string }> }>(r);
      expect(d.notice).toMatch(/Research draft/);
      expect(d.sentences.length).toBe(4);
      for (const s of d.sentences) {
        expect(files.slice(0, 6)).toContain(s.source.path);
        expect(s.source.caseId).toMatch(/^K\d$/);
        expect(['caption', 'findings']).toContain(s.source.field);
        expect(Number.isFinite(s.caseSimilarity) && Number.isFinite(s.sentenceSimilarity)).toBe(true);
        expect(d.text).toContain(s.text);
      }
      // "No pleural effusion." and "Small pleural effusion on the right." never both appear
      const both = d.sentences.some((s) => /^No pleural effusion/.test(s.text)) && d.sentences.some((s) => /^Small pleural effusion/.test(s.text));
      expect(both).toBe(false);
    }
  });
});
