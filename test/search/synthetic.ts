/** Seeded synthetic embeddings for index tests and the search benchmark. */
import type { IndexEntry } from '../../src/index-store/store.js';
import { mulberry32 } from '../../src/metrics/bootstrap.js';

/** The project's seeded PRNG (mulberry32), re-exported under the name these tests use. */
export const prng = mulberry32;

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * `n` L2-normalised `dim`-d vectors around `clusters` random centres (noise `spread` per coordinate
 * relative to unit-scale centres): the shape of real embedding sets, where nearest neighbours are
 * mostly in the same cluster. `noiseSeed` draws other points around the same centres (queries, chunks).
 */
export function clusteredVectors(n: number, dim: number, opts: { clusters?: number; spread?: number; seed?: number; noiseSeed?: number } = {}): Float32Array[] {
  let rand = prng(opts.seed ?? 1);
  const k = opts.clusters ?? 50;
  const spread = opts.spread ?? 0.6;
  const centres = Array.from({ length: k }, () => Float32Array.from({ length: dim }, () => gaussian(rand) / Math.sqrt(dim)));
  if (opts.noiseSeed !== undefined) rand = prng(opts.noiseSeed); // same centres, other points
  return Array.from({ length: n }, () => {
    const c = centres[Math.floor(rand() * k)];
    const v = new Float32Array(dim);
    let s = 0;
    for (let i = 0; i < dim; i++) {
      v[i] = c[i] + (spread * gaussian(rand)) / Math.sqrt(dim);
      s += v[i] * v[i];
    }
    const norm = Math.sqrt(s);
    for (let i = 0; i < dim; i++) v[i] /= norm;
    return v;
  });
}

/** Index entries for synthetic vectors: path `/synthetic/<i>.png`, modality alternating CT/MR/US. */
export function syntheticEntries(vectors: Float32Array[], offset = 0): IndexEntry[] {
  const mods = ['CT', 'MR', 'US'];
  return vectors.map((vector, j) => {
    const i = offset + j;
    return { path: `/synthetic/${i}.png`, hash: `h${i}`, vector, metadata: { modality: mods[i % 3], split: i % 5 === 0 ? 'test' : 'train', labels: i % 2 ? ['odd'] : ['even'] }, texts: [] };
  });
}

/** Exact top-k by cosine (vectors are normalised) among `candidates` indices, best first. */
export function bruteForceTopK(query: Float32Array, vectors: Float32Array[], k: number, candidates?: number[]): number[] {
  const ids = candidates ?? vectors.map((_, i) => i);
  const scored = ids.map((i) => {
    let s = 0;
    const v = vectors[i];
    for (let d = 0; d < v.length; d++) s += v[d] * query[d];
    return { i, s };
  });
  scored.sort((a, b) => b.s - a.s);
  return scored.slice(0, k).map((x) => x.i);
}
