/**
 * The evaluation runner end to end with the tiny test models on a generated data set: result schema
 * and numbers recomputed independently, skip on rerun, embedding cache hits, interruption safety
 * (SIGINT and SIGKILL of a child process mid-grid), and the report's numbers against the JSON.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/core/paths.js';
import { isTempFile } from '../../src/core/atomic.js';
import { findDatasetSpec, loadDataset } from '../../src/eval/datasets/registry.js';
import { splitHash } from '../../src/eval/datasets/split.js';
import { writeReport } from '../../src/eval/report/index.js';
import { f3, fci } from '../../src/eval/report/tables.js';
import type { CellResult } from '../../src/eval/result.js';
import { cellPath, runEval, type Cell, type RunEvalOptions } from '../../src/eval/runner.js';
import type { DualEncoder, RGBImage } from '../../src/models/capabilities.js';
import { RESEARCH_NOTICE } from '../../src/models/defaults.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { encodeImageInputs, isFileError } from '../../src/tasks/batch.js';
import { dot } from '../../src/core/vectors.js';
import { labelEmbeddings } from '../../src/tasks/zero-shot.js';
import { ROOT } from '../cli/helpers.js';
import { testModel } from '../models/fixtures.js';
import { freshDir, makeImageDataset, writeJson } from './helpers.js';

const CLIP = testModel('clip');
const SIGLIP = testModel('siglip');

let root: string;
let dataRoot: string;
let clsSpec: string;
let retSpec: string;

/** Loader that counts model loads and images sent to encodeImages. */
function countingLoader() {
  const counts = { loads: 0, images: 0, calls: 0 };
  const load = async (id: string): Promise<DualEncoder> => {
    counts.loads++;
    const enc = await loadDualEncoder(id, { threads: 1 });
    const encodeImages = enc.encodeImages.bind(enc);
    return Object.assign(Object.create(Object.getPrototypeOf(enc) as object) as DualEncoder, enc, {
      info: enc.info,
      scoring: enc.scoring,
      logitScale: enc.logitScale,
      logitBias: enc.logitBias,
      encodeTexts: enc.encodeTexts.bind(enc),
      dispose: enc.dispose.bind(enc),
      encodeImages: (imgs: RGBImage[]) => {
        counts.calls++;
        counts.images += imgs.length;
        return encodeImages(imgs);
      },
    });
  };
  return { counts, load };
}

function base(out: string, load: RunEvalOptions['load']): RunEvalOptions {
  return { models: [CLIP], datasets: [clsSpec, retSpec], tasks: ['zeroshot', 'fewshot', 'retrieval'], out, load, dataRoot, shots: [1, 2, 4], seeds: 2, bootstrap: 200 };
}

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as CellResult;

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  root = freshDir('runner');
  dataRoot = join(root, 'data');
  await makeImageDataset(join(dataRoot, 'toy'), 10);
  clsSpec = join(root, 'specs', 'toy-cls.json');
  retSpec = join(root, 'specs', 'toy-ret.json');
  writeJson(clsSpec, {
    id: 'toy-cls',
    title: 'toy: dark vs bright squares',
    source: { format: 'manifest', path: 'toy/manifest.csv', image: 'image', label: 'label' },
    classes: [{ name: 'dark', sentence: 'a dark square' }, { name: 'bright', sentence: 'a bright square' }],
    templates: ['{}', 'a photo of {}'],
    split: { kind: 'field', field: 'split', test: 'test', train: 'train', val: 'val' },
    tasks: ['zeroshot', 'fewshot'],
  });
  writeJson(retSpec, {
    id: 'toy-ret',
    title: 'toy: captions',
    source: { format: 'manifest', path: 'toy/manifest.csv', image: 'image', caption: 'caption' },
    split: { kind: 'field', field: 'split', test: 'test', train: 'train' },
    tasks: ['retrieval'],
  });
});

describe('runEval with the tiny CLIP model', () => {
  let out: string;
  let first: Awaited<ReturnType<typeof runEval>>;
  const counter = countingLoader();
  const cells: Cell[] = [
    { model: CLIP, dataset: 'toy-cls', task: 'zeroshot' },
    { model: CLIP, dataset: 'toy-cls', task: 'fewshot' },
    { model: CLIP, dataset: 'toy-ret', task: 'retrieval' },
  ];

  beforeAll(async () => {
    out = freshDir('runner-out');
    first = await runEval(base(out, counter.load));
  });

  it('writes one result per applicable cell and skips the others with a reason', () => {
    expect(first.failed).toEqual([]);
    expect(first.written.sort()).toEqual(cells.map((c) => cellPath(out, c)).sort());
    expect(first.skipped.map((s) => `${s.cell.dataset}/${s.cell.task}`).sort()).toEqual(['toy-cls/retrieval', 'toy-ret/fewshot', 'toy-ret/zeroshot']);
    // 6 test images + few-shot shots (up to 4 per class over 2 seeds, from 6 train items per class) + 6 test images for retrieval, all through the cache
    expect(counter.counts.loads).toBe(1);
  });

  it('zero-shot result: provenance fields, and accuracy/confusion equal an independent recomputation', async () => {
    const r = read(cellPath(out, cells[0]));
    const enc = await loadDualEncoder(CLIP, { threads: 1 });
    try {
      expect(r.schema).toBe('medvlm.eval.cell/1');
      expect(r.medvlmVersion).toBe(packageVersion());
      expect(r.node).toBe(process.version);
      expect(r.model.fileHashes).toEqual(enc.info.fileHashes);
      expect(Object.keys(r.model.fileHashes).length).toBeGreaterThan(2);
      const ds = loadDataset(findDatasetSpec(clsSpec), dataRoot);
      expect(r.dataset).toMatchObject({ id: 'toy-cls', split: 'test', n: 6, classes: ['dark', 'bright'], splitHash: splitHash(ds.splits.test) });
      expect(r.prompts).toEqual({ templateSet: 'toy-cls (inline)', templates: ['{}', 'a photo of {}'], sentences: ['a dark square', 'a bright square'] });
      expect(r.seed).toBe(0);
      expect(r.researchNotice).toBe(RESEARCH_NOTICE);
      for (const k of ['totalMs', 'embedMs', 'encodeImagesMs', 'textMs', 'metricsMs'] as const) expect(r.timings[k]).toBeGreaterThanOrEqual(0);
      expect(r.timings.images).toBe(6);
      // independent path: encodeImageInputs (tasks) + label embeddings, argmax by hand
      const files = ds.splits.test.map((it) => (it.images[0].kind === 'file' ? it.images[0].path : ''));
      const embs = (await encodeImageInputs(enc, files)).map((e) => (isFileError(e) ? null : e.embedding));
      const labels = await labelEmbeddings(enc, ['a dark square', 'a bright square'], { name: 'x', templates: ['{}', 'a photo of {}'] });
      const pred = embs.map((e) => (dot(e!, labels[1]) > dot(e!, labels[0]) ? 1 : 0));
      const truth = ds.splits.test.map((it) => it.label!);
      const confusion = [[0, 0], [0, 0]];
      truth.forEach((t, i) => confusion[t][pred[i]]++);
      const m = r.metrics as Extract<CellResult['metrics'], { kind: 'single-label' }>;
      expect(m.kind).toBe('single-label');
      expect(m.confusion).toEqual(confusion);
      expect(m.accuracy.value).toBeCloseTo(pred.filter((p, i) => p === truth[i]).length / 6, 12);
      expect(m.accuracy.lo).toBeLessThanOrEqual(m.accuracy.value);
      expect(m.accuracy.hi).toBeGreaterThanOrEqual(m.accuracy.value);
      expect(m.roc).toHaveLength(2);
      expect(m.reliability.reduce((a, b) => a + b.count, 0)).toBe(6);
      // per-item outputs: ids, truth and the probabilities behind the metrics (argmax = the prediction above)
      expect(r.items?.map((it) => it.id)).toEqual(ds.splits.test.map((it) => it.id));
      expect(r.items?.map((it) => it.truth)).toEqual(truth);
      expect(r.items?.map((it) => (it.scores[1] > it.scores[0] ? 1 : 0))).toEqual(pred);
      for (const it of r.items ?? []) expect(it.scores[0] + it.scores[1]).toBeCloseTo(1, 6);
    } finally {
      await enc.dispose();
    }
  });

  it('few-shot result: rows per k with per-seed values, mean and sample sd', () => {
    const r = read(cellPath(out, cells[1]));
    const m = r.metrics as Extract<CellResult['metrics'], { kind: 'few-shot' }>;
    expect(m.kind).toBe('few-shot');
    expect(m.shots).toEqual([1, 2, 4]);
    expect(m.seeds).toEqual([0, 1]);
    expect(m.train.n).toBe(12);
    expect(m.hyper.tipAdapter).toMatchObject({ alpha: 1, beta: 5.5 });
    for (const method of ['linearProbe', 'tipAdapter'] as const) {
      expect(m.methods[method].map((x) => x.k)).toEqual([1, 2, 4]);
      for (const row of m.methods[method]) {
        expect(row.shotsPerClass).toEqual([[row.k, row.k], [row.k, row.k]]);
        const v = row.accuracy.values;
        expect(v).toHaveLength(2);
        expect(row.accuracy.mean).toBeCloseTo((v[0] + v[1]) / 2, 12);
        expect(row.accuracy.sd).toBeCloseTo(Math.abs(v[0] - v[1]) / Math.SQRT2, 12);
      }
    }
    // the few-shot cell embedded the shots it drew (at most 4 per class and seed, 2 seeds, 6 train items per class)
    expect(r.timings.images - 6).toBeGreaterThanOrEqual(8);
    expect(r.timings.images - 6).toBeLessThanOrEqual(12);
  });

  it('retrieval result: identical captions merged; R@1 image→text equals a hand computation', async () => {
    const r = read(cellPath(out, cells[2]));
    const m = r.metrics as Extract<CellResult['metrics'], { kind: 'retrieval' }>;
    const ds = loadDataset(findDatasetSpec(retSpec), dataRoot);
    const captions = ds.splits.test.map((it) => it.captions![0]);
    const unique = [...new Set(captions)];
    expect(m.uniqueCaptions).toBe(unique.length);
    expect(unique.length).toBeLessThan(captions.length);
    const enc = await loadDualEncoder(CLIP, { threads: 1 });
    try {
      const files = ds.splits.test.map((it) => (it.images[0].kind === 'file' ? it.images[0].path : ''));
      const embs = (await encodeImageInputs(enc, files)).map((e) => (isFileError(e) ? null : e.embedding)!);
      const texts = await enc.encodeTexts(unique);
      const hits = embs.filter((e, i) => {
        const scores = texts.map((t) => dot(e, t));
        return unique[scores.indexOf(Math.max(...scores))] === captions[i];
      }).length;
      expect(m.imageToText.recallAtK['1']).toBeCloseTo(hits / embs.length, 12);
      expect(m.imageToText.nQueries).toBe(6);
      expect(m.textToImage.nQueries).toBe(unique.length);
    } finally {
      await enc.dispose();
    }
  });

  it('a rerun skips every cell: no model load, files untouched (mtime unchanged)', async () => {
    const before = cells.map((c) => statSync(cellPath(out, c)).mtimeMs);
    const again = countingLoader();
    const s = await runEval(base(out, again.load));
    expect(s.written).toEqual([]);
    expect(s.skipped.filter((x) => x.reason === 'result exists')).toHaveLength(3);
    expect(again.counts.loads).toBe(0);
    expect(cells.map((c) => statSync(cellPath(out, c)).mtimeMs)).toEqual(before);
  });

  it('--force recomputes from the embedding cache: encodeImages is not called for cached images, numbers identical', async () => {
    const before = read(cellPath(out, cells[0]));
    const again = countingLoader();
    const s = await runEval({ ...base(out, again.load), force: true });
    expect(s.written).toHaveLength(3);
    expect(again.counts.images).toBe(0);
    expect(again.counts.calls).toBe(0);
    const after = read(cellPath(out, cells[0]));
    expect(after.timings.imagesFromCache).toBe(6);
    expect(after.timings.imagesEncoded).toBe(0);
    expect(after.metrics).toEqual(before.metrics);
    // a fresh cache folder encodes again (the counter does count)
    const fresh = countingLoader();
    await runEval({ ...base(freshDir('runner-out-fresh'), fresh.load), cacheDir: freshDir('runner-cache-fresh') });
    expect(fresh.counts.images).toBeGreaterThanOrEqual(12);
  });

  it('the report: Markdown, CSV and HTML carry the same numbers as the result JSON', async () => {
    const { files, results } = await writeReport(out);
    expect(results).toHaveLength(3);
    const [md, csv, html] = files.map((f) => readFileSync(f, 'utf8'));
    const zs = read(cellPath(out, cells[0]));
    const fs = read(cellPath(out, cells[1]));
    const rt = read(cellPath(out, cells[2]));
    const zm = zs.metrics as Extract<CellResult['metrics'], { kind: 'single-label' }>;
    const fm = fs.metrics as Extract<CellResult['metrics'], { kind: 'few-shot' }>;
    const rm = rt.metrics as Extract<CellResult['metrics'], { kind: 'retrieval' }>;
    // CSV: full precision, parsed back equal
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(`# medvlm report. ${RESEARCH_NOTICE}`);
    const header = lines[1].split(',');
    const rows = lines.slice(2).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
    const find = (q: Record<string, string>) => rows.filter((r) => Object.entries(q).every(([k, v]) => r[k] === v));
    const acc = find({ dataset: 'toy-cls', task: 'zeroshot', metric: 'accuracy' });
    expect(acc).toHaveLength(1);
    expect(Number(acc[0].value)).toBe(zm.accuracy.value);
    expect(Number(acc[0].lo)).toBe(zm.accuracy.lo);
    expect(Number(acc[0].hi)).toBe(zm.accuracy.hi);
    expect(acc[0].n).toBe('6');
    expect(acc[0].split).toBe('test');
    expect(Number(find({ dataset: 'toy-cls', task: 'zeroshot', metric: 'ece' })[0].value)).toBe(zm.ece);
    for (const row of fm.methods.tipAdapter) {
      const r = find({ task: 'fewshot', method: 'tipAdapter', k: String(row.k), metric: 'accuracy' })[0];
      expect(Number(r.value)).toBe(row.accuracy.mean);
      expect(Number(r.sd)).toBe(row.accuracy.sd);
    }
    expect(Number(find({ task: 'retrieval', method: 'textToImage', k: '5', metric: 'recallAtK' })[0].value)).toBe(rm.textToImage.recallAtK['5']);
    // Markdown: the same numbers at 3 decimals, in the row that names dataset, split and n
    const zsRow = md.split('\n').find((l) => l.includes('| toy-cls | test | 6 |') && l.includes(fci(zm.accuracy)))!;
    expect(zsRow).toContain(fci(zm.macroAuroc));
    expect(zsRow).toContain(f3(zm.ece));
    expect(md).toContain(`${f3(fm.methods.linearProbe[2].accuracy.mean)} ± ${f3(fm.methods.linearProbe[2].accuracy.sd)}`);
    expect(md).toContain(`| image→text | 6 | ${rm.uniqueCaptions} | ${f3(rm.imageToText.recallAtK['1'])} |`);
    expect(md.match(new RegExp(RESEARCH_NOTICE.replace(/[.]/g, '\\.'), 'g'))!.length).toBeGreaterThanOrEqual(5);
    // HTML: self-contained, same table cells, one SVG per chart (ROC, confusion, reliability, few-shot, retrieval)
    expect(html).toContain(`<td>${fci(zm.accuracy)}</td>`);
    expect(html.match(/<svg/g)).toHaveLength(5);
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html).toContain(RESEARCH_NOTICE);
    // its own files are replaced on a second run; a foreign file is not
    await writeReport(out);
    writeFileSync(join(out, 'report.md'), 'my notes');
    await expect(writeReport(out)).rejects.toMatchObject({ code: 'E_OUTPUT_EXISTS' });
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toBe('my notes');
  });

  it('a missing data set is reported and skipped, the others run', async () => {
    const s = await runEval({ ...base(out, countingLoader().load), dataRoot: join(root, 'nowhere') });
    expect(s.missingDatasets.map((m) => m.dataset)).toEqual(['toy-cls', 'toy-ret']);
    expect(s.missingDatasets[0].message).toMatch(/nowhere.*toy\/manifest\.csv not found; skipped/);
    expect(s.failed).toEqual([]);
  });
});

/** Run `medvlm eval` in a child process and signal it as soon as `trigger` files exist. */
function evalChild(out: string, signal: NodeJS.Signals, triggerCount: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'eval', '--models', `${CLIP},${SIGLIP}`, '--datasets', `${clsSpec},${retSpec}`, '--data-root', dataRoot, '--out', out, '--offline', '--threads', '1', '--bootstrap', '3000', '--shots', '1,2', '--seeds', '2'],
      { cwd: ROOT, env: { ...process.env, MEDVLM_OFFLINE: '1' } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setInterval(() => {
      const done = existsSync(out) ? allFiles(out).filter((f) => f.endsWith('.json') && !f.includes('.cache') && !isTempFile(f.split('/').pop()!)).length : 0;
      if (done >= triggerCount) {
        clearInterval(timer);
        child.kill(signal);
      }
    }, 20);
    child.on('exit', (code, sig) => {
      clearInterval(timer);
      resolvePromise({ code, signal: sig, stderr });
    });
  });
}

describe('interrupting medvlm eval mid-grid (child process)', () => {
  const TOTAL = 6; // 2 models × (toy-cls zeroshot + fewshot, toy-ret retrieval)

  for (const sig of ['SIGINT', 'SIGKILL'] as const) {
    it(`${sig}: completed cells parse, no partial result files; a rerun completes only the rest`, async () => {
      const out = freshDir(`runner-kill-${sig}`);
      const run = await evalChild(out, sig, 1);
      const results = allFiles(out).filter((f) => f.endsWith('.json') && !f.includes(`${join(out, '.cache')}`));
      const finals = results.filter((f) => !isTempFile(f.split('/').pop()!));
      expect(finals.length).toBeGreaterThanOrEqual(1);
      expect(finals.length).toBeLessThan(TOTAL); // it really stopped mid-grid
      for (const f of finals) expect(read(f).schema).toBe('medvlm.eval.cell/1');
      if (sig === 'SIGINT') {
        expect(run.code).toBe(130);
        expect(run.stderr).toMatch(/interrupted; .* run the same command again to resume/);
        expect(allFiles(out).filter((f) => isTempFile(f.split('/').pop()!) && !f.includes('.cache'))).toEqual([]);
      } else expect(run.signal).toBe('SIGKILL');
      const mtimes = new Map(finals.map((f) => [f, statSync(f).mtimeMs]));
      const resumed = await evalChild(out, 'SIGTERM', Number.POSITIVE_INFINITY);
      expect(resumed.code).toBe(0);
      const after = allFiles(out).filter((f) => f.endsWith('.json') && !f.includes('.cache'));
      expect(after.filter((f) => !isTempFile(f.split('/').pop()!))).toHaveLength(TOTAL);
      expect(allFiles(out).filter((f) => isTempFile(f.split('/').pop()!))).toEqual([]);
      for (const [f, t] of mtimes) expect(statSync(f).mtimeMs).toBe(t);
      expect(resumed.stderr).toMatch(new RegExp(`${TOTAL - finals.length} written, ${finals.length + 6} skipped`));
    });
  }
});
