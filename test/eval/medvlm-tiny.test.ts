/**
 * The harness against an independent reference: the bundled medvlm-tiny evaluated by `runEval` (ONNX
 * Runtime through transformers.js, TypeScript metrics) must reproduce the held-out numbers its trainer
 * measured with PyTorch (models/medvlm-tiny/metrics-python.json) on the same test splits. Skips when the
 * model's weights, that file or ../shared/data are absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CellResult } from '../../src/eval/result.js';
import { cellPath, runEval } from '../../src/eval/runner.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { freshDir, SHARED_DATA } from './helpers.js';

const MODEL_DIR = fileURLToPath(new URL('../../models/medvlm-tiny/', import.meta.url));
const REF_FILE = join(MODEL_DIR, 'metrics-python.json');
const ready = existsSync(join(MODEL_DIR, 'onnx', 'vision_model.onnx')) && existsSync(REF_FILE) && existsSync(join(SHARED_DATA, 'README.md'));
if (!ready) console.warn('medvlm-tiny reference check skipped: needs models/medvlm-tiny/onnx, its metrics-python.json and ../shared/data');

interface V {
  value: number;
}

describe.skipIf(!ready)('medvlm-tiny: runEval reproduces the PyTorch reference metrics', () => {
  let out: string;
  const ref = ready
    ? (JSON.parse(readFileSync(REF_FILE, 'utf8')) as {
        medpix_test: { unmasked: Record<string, V> };
        pneumoniamnist_test: { auroc: V; acc: V };
        busi_test: { acc: V; macro_f1: V; auroc_ovr_macro: V };
        vqarad_organ_zero_shot: { acc: V };
      })
    : undefined;
  const cell = (dataset: string, task: 'zeroshot' | 'retrieval') => JSON.parse(readFileSync(cellPath(out, { model: 'medvlm-tiny', dataset, task }), 'utf8')) as CellResult;
  const single = (dataset: string) => cell(dataset, 'zeroshot').metrics as Extract<CellResult['metrics'], { kind: 'single-label' }>;

  beforeAll(async () => {
    out = freshDir('medvlm-tiny-eval');
    const s = await runEval({
      models: ['medvlm-tiny'],
      datasets: ['medpix-modality', 'medpix-location', 'medpix-retrieval', 'pneumoniamnist', 'busi', 'vqarad-organ'],
      tasks: ['zeroshot', 'retrieval'],
      out,
      dataRoot: SHARED_DATA,
      bootstrap: 0,
      load: (id) => loadDualEncoder(id),
    });
    expect(s.failed).toEqual([]);
  }, 600_000);

  // fp32 PyTorch vs fp32 ONNX Runtime: a borderline image may flip; allow one test item
  const oneItem = (n: number) => 1 / n + 1e-9;

  it('MedPix 2.0 test: CT vs MR and location accuracy', () => {
    expect(Math.abs(single('medpix-modality').accuracy.value - ref!.medpix_test.unmasked.ct_vs_mr_acc.value)).toBeLessThanOrEqual(oneItem(199));
    expect(Math.abs(single('medpix-location').accuracy.value - ref!.medpix_test.unmasked.location_acc.value)).toBeLessThanOrEqual(oneItem(199));
  });

  it('MedPix 2.0 test: image↔caption R@1/5/10', () => {
    const m = cell('medpix-retrieval', 'retrieval').metrics as Extract<CellResult['metrics'], { kind: 'retrieval' }>;
    const r = ref!.medpix_test.unmasked;
    for (const k of [1, 5, 10]) {
      expect(Math.abs(m.imageToText.recallAtK[k] - r[`i2t_R@${k}`].value)).toBeLessThanOrEqual(oneItem(m.imageToText.nQueries));
      expect(Math.abs(m.textToImage.recallAtK[k] - r[`t2i_R@${k}`].value)).toBeLessThanOrEqual(oneItem(m.textToImage.nQueries));
    }
  });

  it('PneumoniaMNIST official test: accuracy and AUROC', () => {
    const m = single('pneumoniamnist');
    expect(Math.abs(m.accuracy.value - ref!.pneumoniamnist_test.acc.value)).toBeLessThanOrEqual(oneItem(624));
    expect(m.macroAuroc.value).toBeCloseTo(ref!.pneumoniamnist_test.auroc.value, 2);
  });

  it('BUSI test: accuracy, macro-F1, macro-AUROC', () => {
    const m = single('busi');
    expect(Math.abs(m.accuracy.value - ref!.busi_test.acc.value)).toBeLessThanOrEqual(oneItem(156));
    expect(m.macroF1.value).toBeCloseTo(ref!.busi_test.macro_f1.value, 1);
    expect(m.macroAuroc.value).toBeCloseTo(ref!.busi_test.auroc_ovr_macro.value, 2);
  });

  it('VQA-RAD organ (never trained on): accuracy', () => {
    expect(Math.abs(single('vqarad-organ').accuracy.value - ref!.vqarad_organ_zero_shot.acc.value)).toBeLessThanOrEqual(oneItem(314));
  });
});
