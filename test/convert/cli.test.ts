/**
 * `medvlm convert` as a user runs it, and every bad input it must refuse with a typed error while
 * writing nothing: unknown architecture, missing key, wrong shape, unsafe pickle, truncated
 * checkpoint, output folder exists. Then `medvlm classify` and `medvlm index` on the converted folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint } from '../../src/convert/convert.js';
import { MedvlmError } from '../../src/core/errors.js';
import { hasStackTrace, medvlm, ROOT } from '../cli/helpers.js';
import { execFileSync } from 'node:child_process';
import { loadDualEncoder } from '../../src/models/registry.js';
import { DATA_DIR, hasOnnx, hasTorch, here, PYTHON, runPython, tempDir } from './helpers.js';
import { makeBiomedclipSource, minCosine, TINY_BIOMEDCLIP } from './fixtures.js';

let root = '';
let src = '';
const hasData = existsSync(join(DATA_DIR, 'pneumoniamnist'));

beforeAll(() => {
  if (!hasTorch) return;
  root = tempDir('convert-cli');
  src = makeBiomedclipSource(join(root, 'src'), TINY_BIOMEDCLIP);
}, 300_000);
afterAll(() => { if (root) rmSync(root, { recursive: true, force: true }); });

/** Run a conversion expected to fail; returns the error code and checks nothing was written next to `out`. */
function failingConversion(source: string, out: string, extra: { recipe?: string } = {}): MedvlmError {
  const before = readdirSync(join(out, '..')).sort();
  let error: unknown;
  try {
    convertCheckpoint({ source, out, dtypes: ['fp32', 'q8'], ...extra });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(MedvlmError);
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(join(out, '..')).sort()).toEqual(before);
  return error as MedvlmError;
}

describe.skipIf(!hasTorch)('medvlm convert (CLI)', () => {
  it('converts a BiomedCLIP-layout release folder; classify and index use the result unchanged', () => {
    const out = join(root, 'model');
    const env = { MEDVLM_CACHE: join(root, 'cache') };
    const r = medvlm(['convert', src, '--out', out, '--dtype', 'fp32,q8'], env);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/recipe open_clip-timm-vit-hf-bert \(torch-zip\)/);
    expect(r.stdout).toMatch(/q8 vs fp32 cosine \(probe\): image 0\.9\d+, text 0\.9\d+/);
    for (const f of ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'conversion.json',
      'onnx/text_model.onnx', 'onnx/vision_model.onnx', 'onnx/text_model_quantized.onnx', 'onnx/vision_model_quantized.onnx']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const conv = JSON.parse(readFileSync(join(out, 'conversion.json'), 'utf8'));
    expect(conv.parity.self_check.q8_vs_fp32.image).toBeGreaterThan(0.99);
    // Every written graph passes onnx.checker (full check) when Debian's python3-onnx is there.
    if (hasOnnx) {
      const check = 'import onnx, sys\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint("ok")';
      const files = ['text_model', 'vision_model', 'text_model_quantized', 'vision_model_quantized'].map((f) => join(out, 'onnx', `${f}.onnx`));
      expect(execFileSync(PYTHON, ['-c', check, ...files], { encoding: 'utf8' }).trim()).toBe('ok');
    }
    const pre = JSON.parse(readFileSync(join(out, 'preprocessor_config.json'), 'utf8'));
    expect(pre).toMatchObject({ size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 }, resample: 3, image_mean: [0.48145466, 0.4578275, 0.40821073] });
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).model_max_length).toBe(256);

    const models = JSON.parse(medvlm(['models', '--json'], env).stdout) as { id: string; kind: string; converted?: { recipe: string }; localDtypes: string[] }[];
    expect(models.find((m) => m.id === out)).toMatchObject({ kind: 'converted', converted: { recipe: 'open_clip-timm-vit-hf-bert' }, localDtypes: ['fp32', 'q8'] });

    const c = medvlm(['classify', join(ROOT, 'samples'), '--model', out, '--labels', 'CT,MRI,X-ray', '--json']);
    expect(c.code).toBe(0);
    const results = JSON.parse(c.stdout) as { file: string; labels: { label: string; score: number }[] }[];
    expect(results.length).toBeGreaterThanOrEqual(5);
    for (const res of results) expect(res.labels.reduce((a, l) => a + l.score, 0)).toBeCloseTo(1, 5);

    if (hasData) {
      const ev = medvlm(['eval', '--models', out, '--datasets', 'pneumoniamnist', '--tasks', 'zeroshot', '--bootstrap', '0', '--out', join(root, 'results'), '--json'], env);
      expect(ev.stderr).not.toMatch(/unexpected error/);
      expect(ev.code).toBe(0);
    }

    const idx = medvlm(['index', 'add', join(ROOT, 'samples'), '--index', join(root, 'index'), '--model', out]);
    expect(idx.stderr).not.toMatch(/unexpected error/);
    expect(idx.code).toBe(0);
  });

  it('refuses an existing output folder without --force (exit 2, nothing changed), replaces it with --force', () => {
    const out = join(root, 'exists');
    mkdirSync(out);
    writeFileSync(join(out, 'mine.txt'), 'keep');
    const env = { MEDVLM_CACHE: join(root, 'cache') };
    const r = medvlm(['convert', src, '--out', out], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/E_OUTPUT_EXISTS/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(readdirSync(out)).toEqual(['mine.txt']);
    const f = medvlm(['convert', src, '--out', out, '--force', '--no-check'], env);
    expect(f.code).toBe(0);
    expect(existsSync(join(out, 'mine.txt'))).toBe(false);
    expect(existsSync(join(out, 'onnx/vision_model.onnx'))).toBe(true);
  });

  it('a hub id converts from the hub cache offline; without cached files it is one E_MODEL_OFFLINE line (exit 4)', () => {
    const cache = join(root, 'hub-cache');
    const env = { MEDVLM_CACHE: cache, MEDVLM_OFFLINE: '1' };
    const missing = medvlm(['convert', 'someone/not-cached', '--out', join(root, 'hub-missing')], env);
    expect(missing.code).toBe(4);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/E_MODEL_OFFLINE/);
    expect(existsSync(join(root, 'hub-missing'))).toBe(false);

    const cached = join(cache, 'someone', 'biomedclip-tiny');
    mkdirSync(cached, { recursive: true });
    for (const f of ['open_clip_pytorch_model.bin', 'open_clip_config.json', 'vocab.txt']) copyFileSync(join(src, f), join(cached, f));
    const r = medvlm(['convert', 'someone/biomedclip-tiny', '--out', join(root, 'hub-out'), '--no-check'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'hub-out', 'conversion.json'), 'utf8')).source.path).toBe(join(cached, 'open_clip_pytorch_model.bin'));
  });

  it('a pickle that calls os.system: E_CHECKPOINT_UNSAFE, exit 3, the command never runs, nothing written', () => {
    const dir = join(root, 'evil');
    runPython('make_checkpoints.py', [dir]);
    const out = join(root, 'evil-out');
    const r = medvlm(['convert', join(dir, 'evil.pt'), '--out', out], { MEDVLM_CACHE: join(root, 'cache') });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/E_CHECKPOINT_UNSAFE/);
    expect(r.stderr).toMatch(/posix\.system|os\.system/);
    expect(existsSync(join(dir, 'PWNED'))).toBe(false);
    expect(existsSync(out)).toBe(false);
  });
});

describe.skipIf(!hasTorch)('bad inputs: typed errors, nothing written', () => {
  it('unknown architecture → E_RECIPE_UNKNOWN', () => {
    const dir = join(root, 'ckpts');
    if (!existsSync(dir)) runPython('make_checkpoints.py', [dir]);
    const e = failingConversion(join(dir, 'zip.pt'), join(root, 'o-unknown'));
    expect(e.code).toBe('E_RECIPE_UNKNOWN');
    expect(e.message).toMatch(/match no recipe/);
  });

  it('missing key → E_CHECKPOINT_MISMATCH naming the key', () => {
    const bad = join(root, 'missing');
    runPython('mutate.py', [src, bad, 'drop', 'text.transformer.encoder.layer.0.attention.self.key.bias']);
    const e = failingConversion(bad, join(root, 'o-missing'));
    expect(e.code).toBe('E_CHECKPOINT_MISMATCH');
    expect(e.message).toMatch(/missing key text\.transformer\.encoder\.layer\.0\.attention\.self\.key\.bias/);
  });

  it('wrong shape → E_CHECKPOINT_MISMATCH naming the key and both shapes', () => {
    const bad = join(root, 'shape');
    runPython('mutate.py', [src, bad, 'reshape', 'visual.trunk.blocks.0.mlp.fc2.bias']);
    const e = failingConversion(bad, join(root, 'o-shape'));
    expect(e.code).toBe('E_CHECKPOINT_MISMATCH');
    expect(e.message).toMatch(/visual\.trunk\.blocks\.0\.mlp\.fc2\.bias has shape \[65\].*expected \[64\]/);
  });

  it('truncated checkpoint → E_CHECKPOINT_INVALID', () => {
    const bad = join(root, 'truncated');
    mkdirSync(bad);
    for (const f of ['open_clip_config.json', 'vocab.txt']) copyFileSync(join(src, f), join(bad, f));
    const bytes = readFileSync(join(src, 'open_clip_pytorch_model.bin'));
    writeFileSync(join(bad, 'open_clip_pytorch_model.bin'), bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    const e = failingConversion(bad, join(root, 'o-truncated'));
    expect(e.code).toBe('E_CHECKPOINT_INVALID');
  });

  it('an explicit recipe that does not fit → E_CHECKPOINT_MISMATCH; an unknown recipe name → E_RECIPE_UNKNOWN', () => {
    expect(failingConversion(src, join(root, 'o-wrong-recipe'), { recipe: 'hf-clip' }).code).toBe('E_CHECKPOINT_MISMATCH');
    expect(failingConversion(src, join(root, 'o-no-recipe'), { recipe: 'nope' }).code).toBe('E_RECIPE_UNKNOWN');
  });

  it('an fp16 checkpoint converts to fp32: text embeddings match the PyTorch reference on the same fp16 weights', async () => {
    const half = join(root, 'half');
    runPython('mutate.py', [src, half, 'half']);
    const r = convertCheckpoint({ source: half, out: join(root, 'o-half') });
    expect(r.recipe).toBe('open_clip-timm-vit-hf-bert');
    const texts = ['chest x-ray showing pneumonia', 'axial ct of the abdomen with contrast', 'normal brain mri'];
    writeFileSync(join(root, 'half-texts.json'), JSON.stringify(texts));
    writeFileSync(join(root, 'half-ids.json'), execFileSync(PYTHON, [here('wordpiece_ref.py'), join(src, 'vocab.txt'), join(root, 'half-texts.json')], { encoding: 'utf8' }));
    writeFileSync(join(root, 'none.f32'), new Uint8Array(0));
    runPython('reference_biomedclip.py', ['run', half, join(root, 'none.f32'), '0', join(root, 'half-ids.json'), join(root, 'half-ref.json')]);
    const ref = JSON.parse(readFileSync(join(root, 'half-ref.json'), 'utf8')) as { text: number[][] };
    const model = await loadDualEncoder(r.out);
    try {
      expect(minCosine(await model.encodeTexts(texts), ref.text)).toBeGreaterThanOrEqual(0.99999);
    } finally {
      await model.dispose();
    }
  });
});
