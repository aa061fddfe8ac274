/**
 * Similar-case index benchmark (`npx tsx bench/search.ts [--sizes 10000,100000,1000000] [--queries 100]`):
 * - search latency p50/p99 (exact scan and ANN) and process memory at each size, on seeded synthetic
 *   clustered 512-d unit vectors (100 clusters);
 * - ANN recall@10 against exact search on the same queries (held-out vectors from the same distribution);
 * - ingestion: vectors/s into the index (index-bound), and images/s of `addToIndex` on real MedPix images
 *   with the bundled model, split into read / encode / index time (model-bound vs index-bound).
 * Writes .bench/search-<sizes>.json and prints a Markdown table.
 */
import '../src/io/platform-node.js'; // Node's file reading and decoders, as the package's Node entries install them
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readManifest } from '../src/index-store/manifest.js';
import { indexModelFrom, type IndexModel } from '../src/index-store/meta.js';
import { CaseIndex } from '../src/index-store/store.js';
import { parseWhere } from '../src/index-store/where.js';
import { loadDualEncoder } from '../src/models/registry.js';
import { addToIndex } from '../src/tasks/search.js';
import { clusteredVectors, syntheticEntries } from '../test/search/synthetic.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(ROOT, '.bench');
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    queries: { type: 'string', default: '100' },
    dim: { type: 'string', default: '512' },
    model: { type: 'string', default: 'medvlm-tiny' },
    images: { type: 'string', default: '256' },
  },
});
const DIM = Number(args.dim);
const CHUNK = 10_000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const mb = (b: number) => Math.round(b / 2 ** 20);

interface SizeRow {
  n: number;
  ingestVectorsPerS: number;
  exact: { p50: number; p99: number };
  annBuildS: number;
  ann: { p50: number; p99: number; recallAt10: number };
  annLean: { p50: number; p99: number; recallAt10: number };
  rssMB: number;
  diskMB: number;
}

async function benchSize(n: number, nq: number): Promise<SizeRow> {
  const dir = join(OUT, `search-${n}`);
  rmSync(dir, { recursive: true, force: true });
  const model: IndexModel = { id: 'synthetic', family: 'clip', dtype: 'fp32', embedDim: DIM, fileHashes: {} };
  const ix = await CaseIndex.open(dir, { create: true, model });
  let ingestMs = 0;
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start);
    // same centres for every chunk (seed 1 → centres), distinct noise per chunk
    const vecs = clusteredVectors(count, DIM, { clusters: 100, seed: 1, noiseSeed: 1000 + start });
    const t = performance.now();
    await ix.append(syntheticEntries(vecs, start));
    ingestMs += performance.now() - t;
  }
  let t = performance.now();
  await ix.optimize({ ann: false });
  ingestMs += performance.now() - t;
  console.log(`  ${n}: ingested in ${(ingestMs / 1000).toFixed(0)} s`);
  const queries = clusteredVectors(nq, DIM, { clusters: 100, seed: 1, noiseSeed: 7 });
  for (const q of queries.slice(0, 3)) await ix.search(q, { k: 10, exact: true }); // warm the file cache
  const exactLat: number[] = [];
  const truth: Array<Set<string>> = [];
  for (const q of queries) {
    t = performance.now();
    const hits = await ix.search(q, { k: 10, exact: true });
    exactLat.push(performance.now() - t);
    truth.push(new Set(hits.map((h) => h.path)));
  }
  console.log(`  ${n}: exact p50 ${pct(exactLat, 50).toFixed(1)} ms, p99 ${pct(exactLat, 99).toFixed(1)} ms`);
  t = performance.now();
  await ix.optimize({ ann: true });
  const annBuildS = (performance.now() - t) / 1000;
  console.log(`  ${n}: ANN index built in ${annBuildS.toFixed(0)} s`);
  const runAnn = async (opts: { ef?: number; refineFactor?: number }) => {
    const lat: number[] = [];
    let found = 0;
    for (let i = 0; i < queries.length; i++) {
      const t0 = performance.now();
      const hits = await ix.search(queries[i], { k: 10, ...opts });
      lat.push(performance.now() - t0);
      found += hits.filter((h) => truth[i].has(h.path)).length;
    }
    return { p50: pct(lat, 50), p99: pct(lat, 99), recallAt10: found / (10 * queries.length) };
  };
  for (const q of queries.slice(0, 3)) await ix.search(q, { k: 10 });
  const ann = await runAnn({});
  const annLean = await runAnn({ ef: 64, refineFactor: 1 });
  const stats = await ix.stats();
  ix.close();
  return { n, ingestVectorsPerS: n / (ingestMs / 1000), exact: { p50: pct(exactLat, 50), p99: pct(exactLat, 99) }, annBuildS, ann, annLean, rssMB: mb(process.memoryUsage().rss), diskMB: mb(stats.bytesOnDisk) };
}

async function benchIngestImages(): Promise<Record<string, unknown> | undefined> {
  const manifestPath = resolve(ROOT, '..', 'shared', 'data', 'medpix2', 'manifest.jsonl');
  if (!existsSync(manifestPath)) return undefined;
  const encoder = await loadDualEncoder(args.model!, { threads: 2 }).catch(() => loadDualEncoder(join(ROOT, 'test/.models/tiny-clip'), { threads: 2 }));
  const records = readManifest(manifestPath, ['caption', 'findings']).filter((r) => r.metadata.split === 'train').slice(0, Number(args.images));
  const dir = join(OUT, 'search-ingest');
  rmSync(dir, { recursive: true, force: true });
  const ix = await CaseIndex.open(dir, { create: true, model: indexModelFrom(encoder.info) });
  const t = performance.now();
  const r = await addToIndex(encoder, ix, [], { manifest: records, where: parseWhere(['split=train']), batchSize: 32 });
  const totalS = (performance.now() - t) / 1000;
  ix.close();
  await encoder.dispose();
  const s = (ms: number) => Math.round(ms) / 1000;
  return {
    model: encoder.info.id, images: r.added.length, texts: records.reduce((a, x) => a + Object.keys(x.texts).length, 0), imagesPerS: r.added.length / totalS,
    seconds: { total: Math.round(totalS * 1000) / 1000, hash: s(r.timing.hashMs), readDecode: s(r.timing.readMs), encodeImagesAndTexts: s(r.timing.encodeMs), indexCommits: s(r.timing.indexMs), optimize: s(r.timing.optimizeMs) },
  };
}

mkdirSync(OUT, { recursive: true });
const sizes = args.sizes!.split(',').map(Number);
const rows: SizeRow[] = [];
const results: Record<string, unknown> = { dim: DIM, queries: Number(args.queries), machine: `${process.platform} ${process.arch}, node ${process.version}`, sizes: rows };
for (const n of sizes) {
  const t = performance.now();
  try {
    rows.push(await benchSize(n, n >= 1_000_000 ? Math.min(30, Number(args.queries)) : Number(args.queries)));
  } catch (e) {
    console.log(`size ${n}: failed: ${(e as Error).message}`);
    break;
  }
  console.log(`size ${n} done in ${((performance.now() - t) / 1000).toFixed(0)} s: ${JSON.stringify(rows[rows.length - 1])}`);
  writeFileSync(join(OUT, `search-${args.sizes!.replace(/,/g, '-')}.json`), JSON.stringify(results, null, 2) + '\n');
}
results.ingestImages = await benchIngestImages();
writeFileSync(join(OUT, `search-${args.sizes!.replace(/,/g, '-')}.json`), JSON.stringify(results, null, 2) + '\n');
const f = (x: number) => x.toFixed(1);
console.log('| vectors | ingest vectors/s | exact p50 / p99 ms | ANN build s | ANN p50 / p99 ms | ANN recall@10 | ANN lean p50 / p99 ms | lean recall@10 | RSS MB | disk MB |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.n.toLocaleString('en')} | ${Math.round(r.ingestVectorsPerS)} | ${f(r.exact.p50)} / ${f(r.exact.p99)} | ${f(r.annBuildS)} | ${f(r.ann.p50)} / ${f(r.ann.p99)} | ${r.ann.recallAt10.toFixed(3)} | ${f(r.annLean.p50)} / ${f(r.annLean.p99)} | ${r.annLean.recallAt10.toFixed(3)} | ${r.rssMB} | ${r.diskMB} |`);
}
console.log(JSON.stringify(results.ingestImages));
