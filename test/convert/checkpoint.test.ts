/**
 * Checkpoint readers against files written by Debian's PyTorch: zip and legacy torch.save,
 * safetensors, fp16/bf16, strided views, wrappers and `module.` prefixes, an os.system pickle
 * (refused, and the command provably did not run), truncated files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCheckpoint } from '../../src/convert/checkpoint/index.js';
import { unpickle } from '../../src/convert/checkpoint/pickle.js';
import { halfToFloat } from '../../src/convert/checkpoint/tensor.js';
import { MedvlmError } from '../../src/core/errors.js';
import { hasTorch, runPython, tempDir } from './helpers.js';

let dir = '';
let expected: { values: Record<string, number[]>; shapes: Record<string, number[]> };

beforeAll(() => {
  if (!hasTorch) return;
  dir = tempDir('ckpt');
  runPython('make_checkpoints.py', [dir]);
  expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MedvlmError);
    return (e as MedvlmError).code;
  }
  throw new Error('expected an error');
}

describe('fp16 conversion', () => {
  it('decodes normals, subnormals and specials', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x7bff)).toBe(65504);
  });
});

describe.skipIf(!hasTorch)('readCheckpoint on files written by torch.save', () => {
  const cases = [
    ['zip.pt', 'torch-zip'],
    ['legacy.pt', 'torch-legacy'],
    ['wrapped.pt', 'torch-zip'],
    ['wrapped-legacy.pt', 'torch-legacy'],
    ['model.safetensors', 'safetensors'],
  ] as const;
  it.each(cases)('%s: every tensor, bit for bit', (file, format) => {
    const ckpt = readCheckpoint(join(dir, file));
    expect(ckpt.format).toBe(format);
    expect([...ckpt.tensors.keys()].sort()).toEqual(Object.keys(expected.values).sort());
    for (const [name, values] of Object.entries(expected.values)) {
      const t = ckpt.tensors.get(name)!;
      expect(t.dims, name).toEqual(expected.shapes[name]);
      expect(Array.from(t.toFloat32()), name).toEqual(values.map(Math.fround));
    }
    expect(ckpt.tensors.get('half')!.dtype).toBe('f16');
    expect(ckpt.tensors.get('bf')!.dtype).toBe('bf16');
  });

  it.each(['evil.pt', 'evil-legacy.pt'])('%s: a pickle calling os.system is refused and nothing runs', (file) => {
    let error: MedvlmError | undefined;
    try {
      readCheckpoint(join(dir, file));
    } catch (e) {
      error = e as MedvlmError;
    }
    expect(error?.code).toBe('E_CHECKPOINT_UNSAFE');
    expect(error?.message).toMatch(/global (posix|os)\.system/);
    expect(existsSync(join(dir, 'PWNED'))).toBe(false);
  });

  it.each(['truncated.pt', 'truncated-legacy.pt'])('%s: a truncated file is E_CHECKPOINT_INVALID', (file) => {
    expect(codeOf(() => readCheckpoint(join(dir, file)))).toBe('E_CHECKPOINT_INVALID');
  });

  it('a truncated safetensors file and a file of another format are E_CHECKPOINT_INVALID', () => {
    const bytes = readFileSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 7));
    expect(codeOf(() => readCheckpoint(join(dir, 'cut.safetensors')))).toBe('E_CHECKPOINT_INVALID');
    writeFileSync(join(dir, 'text.bin'), 'hello, not a checkpoint');
    expect(codeOf(() => readCheckpoint(join(dir, 'text.bin')))).toBe('E_CHECKPOINT_INVALID');
  });
});

describe('restricted unpickler', () => {
  it('refuses a GLOBAL outside the allow-list by name, before any call', () => {
    // protocol 2: GLOBAL 'builtins eval', then garbage that must never be reached
    const bytes = Uint8Array.from([0x80, 0x02, ...Buffer.from('cbuiltins\neval\n'), 0xff]);
    expect(() => unpickle(bytes, 'x.pkl')).toThrow(/builtins\.eval/);
  });
  it('reads plain containers', () => {
    // {'a': [1, 2.5, None, True], 'b': (u'x',)} pickled with protocol 2 by CPython
    const bytes = Buffer.from('80027d71002858010000006171015d7102284b014740040000000000004e886558010000006271035801000000787104857105752e', 'hex');
    const { value } = unpickle(bytes, 'x.pkl');
    expect(value).toEqual({ kind: 'dict', map: new Map<string, unknown>([['a', [1, 2.5, null, true]], ['b', { kind: 'tuple', items: ['x'] }]]) });
  });
});
