/** Small pieces of the eval tasks checked by hand: caption gallery, retrieval, shot draws, mean ± sd, the embedding cache. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddingCache, modelCacheKey } from '../../src/eval/cache.js';
import type { EvalItem } from '../../src/eval/datasets/types.js';
import { meanSd, shotOrder } from '../../src/eval/tasks/fewshot.js';
import { captionGallery, retrievalResult } from '../../src/eval/tasks/retrieval.js';
import { freshDir } from './helpers.js';

const v = (...x: number[]) => Float32Array.from(x);

describe('retrieval', () => {
  it('identical captions become one gallery text relevant to every image carrying it', () => {
    const g = captionGallery([['x'], ['y'], ['x'], ['z', 'x']]);
    expect(g.texts).toEqual(['x', 'y', 'z']);
    expect(g.ofItem).toEqual([[0], [1], [0], [2, 0]]);
  });

  it('both directions on a hand-worked example', () => {
    // images i0..i2, texts t0 (of i0, i2), t1 (of i1)
    const images = [v(1, 0), v(0, 1), v(0.6, 0.8)];
    const texts = [v(1, 0), v(0.8, 0.6)];
    const r = retrievalResult(images, texts, [[0], [1], [0]], [1, 2]);
    // image→text: i0 ranks t0 first (hit); i1: t1 (0.6) > t0 (0) hit; i2: t1 (0.96) > t0 (0.6) → t0 at rank 2
    expect(r.imageToText.recallAtK).toEqual({ '1': 2 / 3, '2': 1 });
    expect(r.imageToText.meanRank).toBeCloseTo(4 / 3, 12);
    // text→image: t0 scores i0 1, i2 0.6, i1 0 → best relevant rank 1; true recall@1 = 1/2 (two relevant)
    // t1 scores i2 0.96, i0 0.8, i1 0.6 → relevant i1 at rank 3
    expect(r.textToImage.recallAtK).toEqual({ '1': 0.5, '2': 0.5 });
    expect(r.textToImage.trueRecallAtK['2']).toBeCloseTo((1 + 0) / 2, 12);
    expect(r.textToImage.medianRank).toBe(2);
    expect([r.textToImage.nQueries, r.textToImage.nGallery, r.uniqueCaptions]).toEqual([2, 3, 2]);
  });
});

describe('few-shot draws', () => {
  const train: EvalItem[] = Array.from({ length: 20 }, (_, i) => ({ id: `t${String(i).padStart(2, '0')}`, images: [], label: i % 2 }));

  it('per class, a seeded permutation of the class items; nested shots; independent of input order', () => {
    const a = shotOrder(train, 2, 0);
    expect(a.map((l) => l.length)).toEqual([10, 10]);
    expect(a[0].every((it) => it.label === 0) && a[1].every((it) => it.label === 1)).toBe(true);
    expect(shotOrder([...train].reverse(), 2, 0).map((l) => l.map((i) => i.id))).toEqual(a.map((l) => l.map((i) => i.id)));
    expect(shotOrder(train, 2, 1)[0].map((i) => i.id)).not.toEqual(a[0].map((i) => i.id));
  });

  it('mean and sample standard deviation (n - 1)', () => {
    expect(meanSd([0.5, 0.7, 0.9]).mean).toBeCloseTo(0.7, 12);
    expect(meanSd([0.5, 0.7, 0.9]).sd).toBeCloseTo(0.2, 12);
    expect(meanSd([0.4]).sd).toBe(0);
  });
});

describe('embedding cache', () => {
  const info = { id: 'm', dtype: 'fp32', fileHashes: { 'onnx/vision_model.onnx': 'aa', 'config.json': 'bb' } };

  it('round trip through .npy + index; append-only; numpy-readable layout', async () => {
    const dir = freshDir('cache');
    const c = new EmbeddingCache(dir, info, 'ds');
    c.put('h1', v(1, 2, 3));
    c.put('h2', v(4, 5, 6));
    await c.flush();
    const again = new EmbeddingCache(dir, info, 'ds');
    expect(again.size).toBe(2);
    expect(Array.from(again.get('h2')!)).toEqual([4, 5, 6]);
    again.put('h3', v(7, 8, 9));
    await again.flush();
    const key = modelCacheKey(info).slice(0, 16);
    const index = JSON.parse(readFileSync(join(dir, key, 'ds.json'), 'utf8')) as { keys: string[]; dim: number };
    expect(index).toMatchObject({ keys: ['h1', 'h2', 'h3'], dim: 3 });
    expect(existsSync(join(dir, key, 'ds.npy'))).toBe(true);
  });

  it('the key covers model file hashes, dtype and view options, not the order of files', () => {
    const k = modelCacheKey(info);
    expect(modelCacheKey({ ...info, fileHashes: { 'config.json': 'bb', 'onnx/vision_model.onnx': 'aa' } })).toBe(k);
    expect(modelCacheKey({ ...info, fileHashes: { ...info.fileHashes, 'config.json': 'cc' } })).not.toBe(k);
    expect(modelCacheKey({ ...info, dtype: 'q8' })).not.toBe(k);
    expect(modelCacheKey(info, { window: { kind: 'preset', name: 'lung' } } as never)).not.toBe(k);
  });
});
