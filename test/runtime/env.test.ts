/** Runtime settings: defaults, environment variables, validation. */
import { describe, expect, it } from 'vitest';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { resolveRuntimeSettings } from '../../src/runtime/env.js';
import { dtypeSuffix, onnxFileFor } from '../../src/runtime/dtype.js';

describe('resolveRuntimeSettings', () => {
  it('defaults: ~/.cache/medvlm, all cores, online, cpu', () => {
    const s = resolveRuntimeSettings({}, {});
    expect(s).toEqual({
      cacheDir: join(homedir(), '.cache', 'medvlm'),
      threads: availableParallelism(),
      offline: false,
      hubEndpoint: 'https://huggingface.co/',
      device: 'cpu',
    });
  });

  it('reads MEDVLM_CACHE, MEDVLM_OFFLINE and HF_ENDPOINT; options win', () => {
    const env = { MEDVLM_CACHE: '/tmp/mc', MEDVLM_OFFLINE: '1', HF_ENDPOINT: 'http://mirror.local' };
    expect(resolveRuntimeSettings({}, env)).toMatchObject({ cacheDir: '/tmp/mc', offline: true, hubEndpoint: 'http://mirror.local/' });
    expect(resolveRuntimeSettings({ offline: false, cacheDir: '/tmp/x', threads: 3 }, env)).toMatchObject({ cacheDir: '/tmp/x', offline: false, threads: 3 });
  });

  it('rejects a bad thread count', () => {
    expect(() => resolveRuntimeSettings({ threads: 1.5 }, {})).toThrow(/threads/);
    expect(() => resolveRuntimeSettings({ threads: -1 }, {})).toThrow(/threads/);
  });

  it('maps dtypes to the transformers.js file suffixes', () => {
    expect(dtypeSuffix('fp32')).toBe('');
    expect(onnxFileFor('text_model', 'q8')).toBe('onnx/text_model_quantized.onnx');
  });
});
