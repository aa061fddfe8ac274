/** Model sources and bad input: missing files, offline hub ids, unknown names, bad options. */
import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDualEncoder } from '../../src/models/registry.js';
import { packageRoot } from '../../src/core/paths.js';
import { closestNames } from '../../src/core/suggest.js';
import { resolveModelSource, validateModelFolder } from '../../src/runtime/sources.js';
import { ModelLoadError, type MedvlmError } from '../../src/core/errors.js';
import { testModel } from '../models/fixtures.js';

async function loadError(p: Promise<unknown>): Promise<MedvlmError> {
  try {
    await p;
  } catch (e) {
    return e as MedvlmError;
  }
  throw new Error('expected the load to fail');
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'medvlm-sources-'));
}

describe('resolveModelSource', () => {
  it('classifies folders, bundled names and hub ids', () => {
    const bundledDir = tempDir();
    mkdirSync(join(bundledDir, 'medvlm-tiny'));
    writeFileSync(join(bundledDir, 'medvlm-tiny', 'config.json'), '{}');
    expect(resolveModelSource(testModel('clip'))).toEqual({ kind: 'folder', location: testModel('clip') });
    expect(resolveModelSource('medvlm-tiny', { bundledDir })).toEqual({ kind: 'bundled', location: join(bundledDir, 'medvlm-tiny') });
    expect(resolveModelSource('Xenova/clip-vit-base-patch32', { bundledDir })).toEqual({ kind: 'hub', location: 'Xenova/clip-vit-base-patch32' });
    // Relative folders resolve against cwd.
    expect(resolveModelSource('.models/tiny-clip', { cwd: join(testModel('clip'), '..', '..') }).location).toBe(testModel('clip'));
    rmSync(bundledDir, { recursive: true });
  });

  it('nonexistent path → E_MODEL_NOT_FOUND naming the path', () => {
    const missing = join(tmpdir(), 'medvlm-no-such-model-folder');
    const e = (() => {
      try {
        resolveModelSource(missing);
      } catch (err) {
        return err as MedvlmError;
      }
    })();
    expect(e).toBeInstanceOf(ModelLoadError);
    expect(e?.code).toBe('E_MODEL_NOT_FOUND');
    expect(e?.message).toContain(missing);
  });

  it('unknown bare name → E_MODEL_NOT_FOUND with "did you mean"', () => {
    const bundledDir = tempDir();
    for (const n of ['medvlm-tiny', 'medvlm-small']) {
      mkdirSync(join(bundledDir, n));
      writeFileSync(join(bundledDir, n, 'config.json'), '{}');
    }
    expect(() => resolveModelSource('medvlm-tinny', { bundledDir })).toThrow(/Did you mean "medvlm-tiny"/);
    expect(closestNames('medvlm-smal', ['medvlm-tiny', 'medvlm-small'])).toEqual(['medvlm-small']);
    rmSync(bundledDir, { recursive: true });
  });

  it('finds the package root from its own file, not from cwd', () => {
    const root = packageRoot();
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name).toBe('medvlm');
  });
});

describe('bad model input', () => {
  it('folder without tokenizer files → E_MODEL_INVALID naming the folder and the missing files', async () => {
    const folder = testModel('noTokenizer');
    const e = await loadError(loadDualEncoder(folder));
    expect(e.code).toBe('E_MODEL_INVALID');
    expect(e.message).toContain(folder);
    expect(e.message).toContain('tokenizer.json');
    expect(e.message).toContain('tokenizer_config.json');
    expect(e.message).not.toContain('preprocessor_config.json');
  });

  it('missing q8 files → E_MODEL_INVALID naming them', () => {
    const folder = testModel('noTokenizer');
    expect(() => validateModelFolder(folder, 'q8')).toThrow(/onnx\/text_model_quantized\.onnx, onnx\/vision_model_quantized\.onnx/);
  });

  it('hub id with offline: true → E_MODEL_OFFLINE with the local-folder hint', async () => {
    const cacheDir = tempDir();
    const e = await loadError(loadDualEncoder('Xenova/clip-vit-base-patch32', { offline: true, cacheDir }));
    expect(e.code).toBe('E_MODEL_OFFLINE');
    expect(e.message).toContain('Xenova/clip-vit-base-patch32');
    expect(e.message).toContain('--model /path/to/folder');
    expect(e.message).toContain('onnx/text_model.onnx');
    expect(e.message.split('. ').length).toBe(1);
    rmSync(cacheDir, { recursive: true });
  });

  it('hub id with an unreachable hub → E_MODEL_OFFLINE', async () => {
    const cacheDir = tempDir();
    const e = await loadError(loadDualEncoder('Xenova/clip-vit-base-patch32', { cacheDir, hubEndpoint: 'http://127.0.0.1:9/' }));
    expect(e.code).toBe('E_MODEL_OFFLINE');
    expect(e.message).toContain('--model /path/to/folder');
    rmSync(cacheDir, { recursive: true });
  });

  it('a hub model already in the cache loads offline', async () => {
    const cacheDir = tempDir();
    cpSync(testModel('clip'), join(cacheDir, 'medvlm-test', 'tiny-clip'), { recursive: true });
    const m = await loadDualEncoder('medvlm-test/tiny-clip', { offline: true, cacheDir });
    expect(m.info.location).toBe(join(cacheDir, 'medvlm-test', 'tiny-clip'));
    expect((m.info as { source?: string }).source).toBe('hub');
    await m.dispose();
    rmSync(cacheDir, { recursive: true });
  });

  it('unknown model_type → E_MODEL_INVALID listing the supported ones', async () => {
    const folder = join(tempDir(), 'weird');
    cpSync(testModel('clip'), folder, { recursive: true });
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ model_type: 'blip' }));
    const e = await loadError(loadDualEncoder(folder));
    expect(e.code).toBe('E_MODEL_INVALID');
    expect(e.message).toContain('"blip"');
    expect(e.message).toContain('clip, siglip');
    rmSync(folder, { recursive: true });
  });

  it('bad dtype and thread count → E_BAD_OPTION', async () => {
    expect((await loadError(loadDualEncoder(testModel('clip'), { dtype: 'fp8' as 'q8' }))).code).toBe('E_BAD_OPTION');
    expect((await loadError(loadDualEncoder(testModel('clip'), { threads: 0 }))).code).toBe('E_BAD_OPTION');
  });

  it('a corrupt ONNX file → E_MODEL_INVALID naming the folder, no stack trace', async () => {
    const folder = join(tempDir(), 'corrupt');
    cpSync(testModel('clip'), folder, { recursive: true });
    writeFileSync(join(folder, 'onnx', 'vision_model.onnx'), 'not a protobuf');
    const e = await loadError(loadDualEncoder(folder));
    expect(e.code).toBe('E_MODEL_INVALID');
    expect(e.message).toContain(folder);
    expect(e.message).not.toMatch(/\n\s+at /);
    rmSync(folder, { recursive: true });
  });
});

describe('concurrent loads', () => {
  it('a folder and a cached hub model loaded at the same time both load (settings are not shared mid-load)', async () => {
    const cacheDir = tempDir();
    cpSync(testModel('siglip'), join(cacheDir, 'medvlm-test', 'tiny-siglip'), { recursive: true });
    const [a, b] = await Promise.all([
      loadDualEncoder('medvlm-test/tiny-siglip', { offline: true, cacheDir }),
      loadDualEncoder(testModel('clip')),
    ]);
    expect([a.info.family, b.info.family]).toEqual(['siglip', 'clip']);
    await Promise.all([a.dispose(), b.dispose()]);
    rmSync(cacheDir, { recursive: true });
  });
});
