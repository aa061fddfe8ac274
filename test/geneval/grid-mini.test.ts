/**
 * The generative grid's mechanics on a small data root built from samples/ (no shared data needed):
 * medvlm-tiny-gen and the three baselines write one schema-valid cell each; per-item predictions equal
 * the local backend called directly; metrics equal hand computations (exact match, majority answer,
 * nearest report by brute force); a rerun skips every cell by cache key and a new --limit recomputes;
 * `medvlm report` tables and the paired comparison read the cells.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/io/platform-node.js';
import { compareGenerative } from '../../src/eval/generative/compare.js';
import { runGenerativeEval, type GenerativeGridOptions } from '../../src/eval/generative/grid.js';
import { ReportCellSchema, VqaCellSchema, type ReportCell, type VqaCell } from '../../src/eval/generative/schema.js';
import { loadGenerativeCells } from '../../src/eval/generative/tables.js';
import { writeReport } from '../../src/eval/report/index.js';
import { normalizeAnswer, textMetrics } from '../../src/metrics/index.js';
import type { DualEncoder, VisionLanguageGenerator } from '../../src/models/capabilities.js';
import { loadGenerator } from '../../src/models/generators.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { dot } from '../../src/core/vectors.js';
import { embedOne } from '../../src/tasks/batch.js';
import { generateForFile } from '../../src/tasks/generate.js';
import { medvlmAsync } from '../support/spawn-cli.js';
import { miniDataRoot, TINY_GEN } from './support.js';

const present = existsSync(join(TINY_GEN, 'onnx/decoder_model_merged.onnx'));
if (!present) console.log('[skip] generative grid: models/medvlm-tiny-gen is missing');

let root: string;
let out: string;
let gen: VisionLanguageGenerator;
let encoder: DualEncoder;

function options(extra: Partial<GenerativeGridOptions> = {}): GenerativeGridOptions {
  return {
    generators: ['medvlm-tiny-gen'],
    tasks: ['vqa', 'report-generation'],
    out,
    loadGenerator: (id) => loadGenerator(id, { threads: 1 }),
    loadEncoder: (id) => loadDualEncoder(id, { threads: 1 }),
    dataRoot: root,
    cacheDir: join(out, '.cache'),
    maxTokens: { report: 24 },
    bootstrap: 200,
    textBootstrap: 20,
    ...extra,
  };
}

const read = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

beforeAll(async () => {
  if (!present) return;
  root = miniDataRoot();
  out = mkdtempSync(join(tmpdir(), 'medvlm-geneval-out-'));
  gen = await loadGenerator('medvlm-tiny-gen', { threads: 1 });
  encoder = await loadDualEncoder('medvlm-tiny', { threads: 1 });
});
afterAll(async () => {
  await gen?.dispose();
  await encoder?.dispose();
  for (const d of [root, out]) if (d) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!present)('generative grid on a small data root', () => {
  it('writes one schema-valid cell per generator/baseline × task, with per-item outputs equal to the local backend', async () => {
    const s = await runGenerativeEval(options());
    expect(s.failed).toEqual([]);
    expect(s.written.map((f) => f.slice(out.length + 1)).sort()).toEqual([
      'baseline--draft-report/medpix2/report-generation.json',
      'baseline--majority-answer/vqa-rad/vqa.json',
      'baseline--nearest-report/medpix2/report-generation.json',
      'medvlm-tiny-gen/medpix2/report-generation.json',
      'medvlm-tiny-gen/vqa-rad/vqa.json',
    ]);
    const vqa = read<VqaCell>(join(out, 'medvlm-tiny-gen/vqa-rad/vqa.json'));
    expect(Value.Check(VqaCellSchema, vqa)).toBe(true);
    expect(vqa.items.map((i) => i.qid)).toEqual([5, 6, 7, 8]);
    for (const it of vqa.items) {
      const direct = await generateForFile(gen, join(root, 'vqa_rad', it.image), it.question, { maxTokens: 8 });
      expect(it.prediction).toBe(direct.text.trim());
    }
    const closed = vqa.items.filter((i) => i.answerType === 'CLOSED');
    const hits = closed.filter((i) => normalizeAnswer(i.truth) === normalizeAnswer(i.prediction)).length;
    expect(vqa.metrics.closed.n).toBe(3);
    expect(vqa.metrics.closed.accuracy.value).toBeCloseTo(hits / 3, 12);
    expect(vqa.destinations).toEqual({ local: 4, loopback: 0, remote: 0, hosts: [] });

    const rep = read<ReportCell>(join(out, 'medvlm-tiny-gen/medpix2/report-generation.json'));
    expect(Value.Check(ReportCellSchema, rep)).toBe(true);
    expect(rep.items.map((i) => [i.id, i.case, i.reference])).toEqual([
      ['images/vqarad-abdomen-ct-2.jpg', 'C4', 'CT of the abdomen with a renal cyst. Simple cyst of the left kidney.'],
      ['images/vqarad-head-ct-1.jpg', 'C5', 'Head CT shows a hemorrhage. Acute hemorrhage.'],
      ['images/vqarad-chest-xray-2.jpg', 'C5', 'Acute hemorrhage.'], // the placeholder caption is dropped
    ]);
    for (const it of rep.items) expect(it.text).toBe((await generateForFile(gen, join(root, 'medpix2', it.id), '', { maxTokens: 24 })).text.trim());
    const tm = textMetrics(rep.items.map((i) => [i.reference]), rep.items.map((i) => i.text));
    expect(rep.metrics.text.ciderD.value).toBeCloseTo(tm.ciderD, 12);
    expect(rep.metrics.text.rougeL.value).toBeCloseTo(tm.rougeL, 12);
    expect(rep.metrics.cases).toBe(2);
    expect(rep.model.fileHashes['onnx/decoder_model_merged.onnx']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('baselines: the train split majority answers, and the nearest train image by brute-force cosine', async () => {
    const maj = read<VqaCell>(join(out, 'baseline--majority-answer/vqa-rad/vqa.json'));
    expect(maj.metrics.majority.closed).toEqual({ answer: 'no', count: 2, of: 3 });
    expect(maj.metrics.majority.open).toEqual({ answer: 'lungs', count: 1, of: 1 });
    expect(maj.items.map((i) => i.prediction)).toEqual(['no', 'no', 'no', 'lungs']);
    expect(maj.metrics.closed.accuracy.value).toBeCloseTo(1 / 3, 12); // truths yes, yes, no
    const near = read<ReportCell>(join(out, 'baseline--nearest-report/medpix2/report-generation.json'));
    expect(Value.Check(ReportCellSchema, near)).toBe(true);
    const train = [
      ['images/vqarad-abdomen-ct-1.jpg', 'Axial CT of the abdomen shows a liver mass. Large hepatic mass.'],
      ['images/vqarad-chest-xray-1.jpg', 'Chest film with clear lungs. No effusion.'],
      ['images/vqarad-head-mr-1.jpg', 'MRI of the brain, T2 hyperintense lesion. Brain lesion in the frontal lobe.'],
    ];
    const trainEmb = await Promise.all(train.map(async ([p]) => (await embedOne(encoder, join(root, 'medpix2', p))).embedding));
    for (const it of near.items) {
      const e = (await embedOne(encoder, join(root, 'medpix2', it.id))).embedding;
      const sims = trainEmb.map((t) => dot(e, t));
      const best = sims.indexOf(Math.max(...sims));
      expect(it.sources).toEqual([train[best][0]]);
      expect(it.text).toBe(train[best][1]);
    }
    const draft = read<ReportCell>(join(out, 'baseline--draft-report/medpix2/report-generation.json'));
    expect(draft.items).toHaveLength(3);
    for (const it of draft.items) expect(it.text.length).toBeGreaterThan(0);
    expect(draft.model.retriever?.id).toBe('medvlm-tiny');
  });

  it('a rerun skips every cell by cache key; another --limit recomputes', async () => {
    const again = await runGenerativeEval(options());
    expect(again.written).toEqual([]);
    expect(again.skipped).toHaveLength(5);
    const limited = await runGenerativeEval(options({ limit: 2, baselines: false }));
    expect(limited.written).toHaveLength(2);
    const vqa = read<VqaCell>(join(out, 'medvlm-tiny-gen/vqa-rad/vqa.json'));
    expect(vqa.dataset).toMatchObject({ n: 2, available: 4, limit: 2 });
  });

  it('medvlm report shows the generative tables; the paired comparison matches a hand computation', async () => {
    const { files } = await writeReport(out);
    const md = readFileSync(files[0], 'utf8');
    expect(md).toContain('## VQA (VQA-RAD test)');
    expect(md).toContain('## Report generation (MedPix 2.0 test)');
    expect(md).toContain('baseline:nearest-report (baseline)');
    expect(readFileSync(files[1], 'utf8')).toMatch(/medvlm-tiny-gen,,vqa-rad,test,2,vqa,closed,,accuracy,,/);
    const cells = loadGenerativeCells(out);
    const [c] = compareGenerative(cells, 'medvlm-tiny-gen', 'baseline:majority-answer').filter((x) => x.task === 'vqa');
    expect(c.n).toBe(2); // the limited generator cell shares questions 5 and 6 with the baseline's four
    expect(c.unmatched).toBe(2);
    const a = read<VqaCell>(join(out, 'medvlm-tiny-gen/vqa-rad/vqa.json')).items.map((i) => i.hit!);
    const closedDiff = c.metrics.find((m) => m.metric === 'closed accuracy')!.difference;
    expect(closedDiff.a).toBeCloseTo((a[0] + a[1]) / 2, 12);
    expect(closedDiff.b).toBe(0); // "no" against truths yes, yes
  });

  it('CLI: vqa with --limit writes the cell and prints its headline; an unknown task is one line, exit 2', async () => {
    const o2 = join(out, 'cli');
    const r = await medvlmAsync(['eval', '--tasks', 'vqa', '--generators', 'medvlm-tiny-gen', '--data-root', root, '--limit', '1', '--no-baselines', '--threads', '1', '-o', o2]);
    expect(r.stderr).toContain('medvlm-tiny-gen × vqa-rad × vqa');
    expect(r.stderr).toMatch(/n=1: closed accuracy/);
    expect(r.code).toBe(0);
    expect(existsSync(join(o2, 'medvlm-tiny-gen/vqa-rad/vqa.json'))).toBe(true);
    const bad = await medvlmAsync(['eval', '--tasks', 'vqa,captioning', '-o', o2]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--tasks captioning: unknown task; known: .*vqa, report-generation/);
  }, 300_000);
});
