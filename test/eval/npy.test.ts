/** The .npy/.npz reader against files numpy writes (stored and deflated, several dtypes), and on the real PneumoniaMNIST file. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy, readNpz } from '../../src/eval/datasets/npy.js';
import { PY, py } from '../support/python.js';

const OUT = fileURLToPath(new URL('../.corpus/eval-npy/', import.meta.url));
const hasNumpy = existsSync(PY) && spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
if (!hasNumpy) console.warn('npy tests skipped: /usr/bin/python3 with numpy is not installed (apt-get install python3-numpy)');

const PNEUMONIA = fileURLToPath(new URL('../../../shared/data/pneumoniamnist/pneumoniamnist_varun19424_officialValTest.npz', import.meta.url));
if (!existsSync(PNEUMONIA)) console.warn(`PneumoniaMNIST checks skipped: ${PNEUMONIA} is absent`);

describe.skipIf(!hasNumpy)('npz written by numpy', () => {
  // fixtures are written in beforeAll: a skipped suite's body still runs at collection time
  let expected: Record<string, { shape: number[]; values: number[]; dtype: string }> = {};
  beforeAll(() => {
    mkdirSync(OUT, { recursive: true });
    py(`
import numpy as np
rng = np.random.default_rng(0)
a = dict(
  images=rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8),
  labels=np.array([[0], [1], [1], [0], [1]], dtype=np.uint8),
  f4=rng.normal(size=(3, 4)).astype('<f4'),
  f8=rng.normal(size=(6,)),
  i2=np.array([-3, 0, 32767], dtype='<i2'),
  i8=np.array([[1, -2], [3, 2**31 - 1]], dtype='<i8'),
  scalar=np.array(7, dtype=np.int32),
)
np.savez('${OUT}stored.npz', **a)
np.savez_compressed('${OUT}deflated.npz', **a)
np.save('${OUT}f4.npy', a['f4'])
`);
    expected = JSON.parse(
      py(`
import numpy as np, json
z = np.load('${OUT}stored.npz')
print(json.dumps({k: {'shape': list(z[k].shape), 'values': z[k].ravel().tolist(), 'dtype': z[k].dtype.str} for k in z.files}))
`),
  ) as Record<string, { shape: number[]; values: number[]; dtype: string }>;
  });

  for (const name of ['stored.npz', 'deflated.npz']) {
    it(`${name}: every array equals numpy's values, shape and dtype`, () => {
      const arrays = readNpz(new Uint8Array(readFileSync(join(OUT, name))), name);
      expect([...arrays.keys()].sort()).toEqual(Object.keys(expected).sort());
      for (const [k, exp] of Object.entries(expected)) {
        const got = arrays.get(k)!;
        expect(got.shape).toEqual(exp.shape);
        expect(got.dtype).toBe(exp.dtype);
        const values = Array.from(got.data as ArrayLike<number>);
        if (k === 'f4') values.forEach((v, i) => expect(v).toBeCloseTo(exp.values[i], 6));
        else expect(values).toEqual(exp.values);
      }
    });
  }

  it('a single .npy file', () => {
    const a = readNpy(new Uint8Array(readFileSync(join(OUT, 'f4.npy'))), 'f4.npy');
    expect(a.shape).toEqual([3, 4]);
    expect(Array.from(a.data)[5]).toBeCloseTo(expected.f4.values[5], 6);
  });

  it('corrupt input gives E_DATASET_INVALID naming the file', () => {
    const bytes = new Uint8Array(readFileSync(join(OUT, 'deflated.npz')));
    expect(() => readNpz(bytes.subarray(0, 100), 'cut.npz')).toThrow(expect.objectContaining({ code: 'E_DATASET_INVALID', message: expect.stringContaining('cut.npz') }));
    expect(() => readNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 'x.npy')).toThrow(expect.objectContaining({ code: 'E_DATASET_INVALID' }));
  });
});

describe.skipIf(!hasNumpy || !existsSync(PNEUMONIA))('PneumoniaMNIST .npz (../shared/data)', () => {
  it('shapes, label counts and pixel sums equal numpy', () => {
    const ref = JSON.parse(
      py(`
import numpy as np, json
z = np.load('${PNEUMONIA}')
print(json.dumps({k: {'shape': list(z[k].shape), 'sum': int(z[k].astype(np.int64).sum()), 'first': int(z[k].ravel()[0]), 'last': int(z[k].ravel()[-1])} for k in z.files}))
`),
    ) as Record<string, { shape: number[]; sum: number; first: number; last: number }>;
    const arrays = readNpz(new Uint8Array(readFileSync(PNEUMONIA)), PNEUMONIA);
    for (const [k, exp] of Object.entries(ref)) {
      const a = arrays.get(k)!;
      expect(a.shape).toEqual(exp.shape);
      let sum = 0;
      for (let i = 0; i < a.data.length; i++) sum += a.data[i];
      expect(sum).toBe(exp.sum);
      expect(a.data[0]).toBe(exp.first);
      expect(a.data[a.data.length - 1]).toBe(exp.last);
    }
    expect(arrays.get('test_images')!.shape).toEqual([624, 28, 28]);
  });
});
