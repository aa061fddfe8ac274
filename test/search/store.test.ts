import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaseIndex } from '../../src/index-store/store.js';
import { sameModel, type IndexModel } from '../../src/index-store/meta.js';
import { parseWhere } from '../../src/index-store/where.js';
import { bruteForceTopK, clusteredVectors, syntheticEntries } from './synthetic.js';

const dirs: string[] = [];
function tmpIndexDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'medvlm-index-'));
  dirs.push(d);
  return join(d, 'ix');
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const MODEL: IndexModel = { id: 'synthetic', family: 'clip', dtype: 'fp32', embedDim: 32, fileHashes: { 'onnx/model.onnx': 'aaa' } };

describe('CaseIndex on synthetic vectors', () => {
  const vectors = clusteredVectors(600, 32, { clusters: 12, seed: 7 });
  const queries = clusteredVectors(20, 32, { clusters: 12, seed: 7 }).map((_, i) => vectors[(i * 37) % vectors.length]);

  it('exact search returns the brute-force top 10 with cosine similarities', async () => {
    const ix = await CaseIndex.open(tmpIndexDir(), { create: true, model: MODEL });
    await ix.append(syntheticEntries(vectors));
    for (const q of queries) {
      const hits = await ix.search(q, { k: 10, exact: true });
      const expected = bruteForceTopK(q, vectors, 10).map((i) => `/synthetic/${i}.png`);
      expect(hits.map((h) => h.path)).toEqual(expected);
      const sim = vectors[Number(/\/(\d+)\.png/.exec(hits[0].path)![1])].reduce((s, x, d) => s + x * q[d], 0);
      expect(hits[0].similarity).toBeCloseTo(sim, 5);
    }
    ix.close();
  });

  it('where filters give the brute-force top k within the matching subset', async () => {
    const ix = await CaseIndex.open(tmpIndexDir(), { create: true, model: MODEL });
    await ix.append(syntheticEntries(vectors));
    const subset = vectors.map((_, i) => i).filter((i) => i % 3 === 1 && i % 5 !== 0); // MR and not test
    const where = parseWhere(['modality=mr', 'split!=test']);
    expect(await ix.count(where)).toBe(subset.length);
    for (const q of queries.slice(0, 5)) {
      const hits = await ix.search(q, { k: 10, where });
      expect(hits.map((h) => h.path)).toEqual(bruteForceTopK(q, vectors, 10, subset).map((i) => `/synthetic/${i}.png`));
      expect(hits.every((h) => h.metadata.modality === 'MR' && h.metadata.split === 'train')).toBe(true);
    }
    const odd = await ix.search(queries[0], { k: 50, where: parseWhere(['label=odd']) });
    expect(odd.length).toBe(50);
    expect(odd.every((h) => Number(/(\d+)\.png/.exec(h.path)![1]) % 2 === 1)).toBe(true);
    ix.close();
  });

  it('upsert replaces an entry at the same path and keeps one row per path', async () => {
    const dir = tmpIndexDir();
    const ix = await CaseIndex.open(dir, { create: true, model: MODEL });
    const entries = syntheticEntries(vectors.slice(0, 10));
    await ix.upsert(entries);
    await ix.upsert(entries); // the same again: no duplicate
    expect(await ix.count()).toBe(10);
    const changed = { ...entries[3], hash: 'changed', vector: vectors[100], texts: [{ field: 'caption', text: 'new caption', vector: vectors[101] }] };
    await ix.upsert([changed]);
    expect(await ix.count()).toBe(10);
    const hashes = await ix.hashes();
    expect(hashes.get('/synthetic/3.png')).toBe('changed');
    const top = await ix.search(vectors[100], { k: 1, exact: true });
    expect(top[0].path).toBe('/synthetic/3.png');
    expect(top[0].similarity).toBeCloseTo(1, 5);
    const text = await ix.search(vectors[101], { k: 5, kind: 'text' });
    expect(text.map((h) => [h.path, h.field, h.text])).toEqual([['/synthetic/3.png', 'caption', 'new caption']]);
    // the replacement without texts removes the old text row in the same commit
    await ix.upsert([{ ...changed, hash: 'again', texts: [] }]);
    expect(await ix.search(vectors[101], { k: 5, kind: 'text' })).toEqual([]);
    expect(await ix.remove(['/synthetic/3.png', '/synthetic/404.png'])).toBe(1);
    expect(await ix.count()).toBe(9);
    ix.close();
    // reopened from disk: same state
    const again = await CaseIndex.open(dir);
    expect(await again.count()).toBe(9);
    again.close();
  });

  it('refuses a model with other weights (E_INDEX_MODEL_MISMATCH) and a missing index (E_INDEX_NOT_FOUND)', async () => {
    const dir = tmpIndexDir();
    (await CaseIndex.open(dir, { create: true, model: MODEL })).close();
    const other = { ...MODEL, id: 'synthetic', fileHashes: { 'onnx/model.onnx': 'bbb' } };
    await expect(CaseIndex.open(dir, { model: other })).rejects.toMatchObject({ code: 'E_INDEX_MODEL_MISMATCH' });
    await expect(CaseIndex.open(dir, { model: { ...MODEL, embedDim: 64 } })).rejects.toMatchObject({ code: 'E_INDEX_MODEL_MISMATCH' });
    // same weights under another id (a folder path vs a bundled name) is accepted
    (await CaseIndex.open(dir, { model: { ...MODEL, id: '/elsewhere/synthetic' } })).close();
    await expect(CaseIndex.open(join(dir, 'nope'))).rejects.toMatchObject({ code: 'E_INDEX_NOT_FOUND' });
    expect(sameModel(MODEL, other)).toBe(false);
  });

  it('ANN (IVF-HNSW-SQ) recall@10 against exact search on a seeded clustered set is at least 0.9', async () => {
    const big = clusteredVectors(4000, 32, { clusters: 40, seed: 11 });
    const ix = await CaseIndex.open(tmpIndexDir(), { create: true, model: MODEL });
    await ix.append(syntheticEntries(big));
    const { annBuilt } = await ix.optimize({ ann: 'auto', annMinRows: 1000 });
    expect(annBuilt).toBe(true);
    expect((await ix.annState())?.indexedRows).toBe(4000);
    const qs = clusteredVectors(50, 32, { clusters: 40, seed: 12 });
    let found = 0;
    for (const q of qs) {
      const exact = new Set((await ix.search(q, { k: 10, exact: true })).map((h) => h.path));
      expect([...exact]).toEqual(bruteForceTopK(q, big, 10).map((i) => `/synthetic/${i}.png`));
      const approx = await ix.search(q, { k: 10 });
      found += approx.filter((h) => exact.has(h.path)).length;
    }
    const recall = found / (qs.length * 10);
    console.log(`ANN recall@10 on 4000 synthetic 32-d vectors: ${recall.toFixed(3)}`);
    expect(recall).toBeGreaterThanOrEqual(0.9);
    ix.close();
  });
});
