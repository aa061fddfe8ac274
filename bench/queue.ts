/**
 * Work-queue benchmark (`npm run bench:queue [-- --images 256 --workers 1,2,4]`), loopback only, bounded
 * in time (each phase has a deadline; the whole run takes a few minutes here):
 * - single-process rate: `addToIndex` of real MedPix images with their texts (model loaded beforehand);
 * - queue rate with 1, 2 and 4 `medvlm worker` processes (threads = cores / workers, at least 1) and one
 *   in-process committer, from the first job enqueued to the last image committed;
 * - queue overhead per image: the same jobs through Redis with a worker that encodes nothing (returns
 *   stored embeddings), enqueue + hand-over + fetch + removal, no index write;
 * - committer append rate: `commitEntries` of 2,048-image commits into a fresh index (128-d + 2 texts each);
 * - enqueuer hashing rate (the enqueuer reads every file once to key jobs by content).
 * Writes .bench/queue.json and prints a Markdown table.
 */
import '../src/io/platform-node.js'; // Node's file reading and decoders, as the package's Node entries install them
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'bullmq';
import { readManifest } from '../src/index-store/manifest.js';
import { indexModelFrom } from '../src/index-store/meta.js';
import { CaseIndex, type IndexEntry } from '../src/index-store/store.js';
import { loadDualEncoder } from '../src/models/registry.js';
import { bullConnection } from '../src/queue/connection.js';
import { entryToWire, type EncodeJobData, type EncodeJobResult } from '../src/queue/jobs.js';
import { BULL_PREFIX } from '../src/queue/keys.js';
import { enqueueItems, jobItemOf, openWorkQueue, publishModel, runCommitter } from '../src/queue/index.js';
import { planIndexAdd } from '../src/tasks/index-batch.js';
import { addToIndex } from '../src/tasks/search.js';
import { startRedis } from '../test/support/redis.js';
import { startMedvlm } from '../test/support/spawn-cli.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(ROOT, '.bench');
const MANIFEST = join(ROOT, '../shared/data/medpix2/manifest.jsonl');
const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '256' },
    workers: { type: 'string', default: '1,2,4' },
    batch: { type: 'string', default: '16' },
    'phase-timeout-s': { type: 'string', default: '300' },
  },
});
const NIMG = Number(args.images);
const BATCH = Number(args.batch);
const CORES = availableParallelism();
const PHASE_MS = Number(args['phase-timeout-s']) * 1000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
function deadline<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, sleep(PHASE_MS).then(() => Promise.reject(new Error(`${what}: over ${PHASE_MS / 1000} s, stopped`)))]);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const records = readManifest(MANIFEST).slice(0, NIMG);
  const files = records.map((r) => r.path);
  const redis = await startRedis();
  const results: Record<string, unknown> = { images: files.length, batch: BATCH, cores: CORES, date: new Date().toISOString() };
  try {
    // single process, model loaded beforehand, all cores; run first and again last (the machine is shared)
    const encoder = await loadDualEncoder('medvlm-tiny', { threads: CORES });
    const model = indexModelFrom(encoder.info);
    const singleRun = async (): Promise<{ imagesPerS: number; seconds: number; load1: number }> => {
      const dir = join(OUT, 'queue-single');
      rmSync(dir, { recursive: true, force: true });
      const index = await CaseIndex.open(dir, { create: true, model });
      const t1 = performance.now();
      const r = await deadline(addToIndex(encoder, index, files, { manifest: records, batchSize: BATCH, ann: false }), 'single process');
      const secs = (performance.now() - t1) / 1000;
      index.close();
      console.error(`single process: ${(r.added.length / secs).toFixed(1)} images/s (load ${loadavg()[0].toFixed(1)})`);
      return { imagesPerS: r.added.length / secs, seconds: secs, load1: loadavg()[0] };
    };
    const singleFirst = await singleRun();
    let ix: CaseIndex;
    let t: number;

    // enqueuer hashing rate
    t = performance.now();
    const plan = await planIndexAdd(new Map(), files, { manifest: records });
    results.enqueueHashImagesPerS = files.length / ((performance.now() - t) / 1000);

    // queue overhead: a worker that encodes nothing, wire results prepared beforehand
    const canned = new Map<string, IndexEntry>();
    for (const p of plan.todo) {
      const v = new Float32Array(model.embedDim).map((_, i) => Math.sin(i + p.path.length));
      canned.set(p.path, { path: p.path, hash: p.hash, vector: v, metadata: p.record?.metadata ?? {}, texts: Object.entries(p.record?.texts ?? {}).map(([field, text]) => ({ field, text, vector: v })) });
    }
    {
      const wq = await openWorkQueue(redis.url, 'overhead');
      await publishModel(wq, model);
      const noop = new Worker<EncodeJobData, EncodeJobResult>('overhead', async (job) => ({ entries: job.data.items.map((it) => entryToWire(canned.get(it.path)!)), errors: [] }), { connection: bullConnection(wq.addr), prefix: BULL_PREFIX, concurrency: 4 });
      const sink = { commitEntries: async () => ({ appended: 0, replaced: 0 }), optimize: async () => ({ annBuilt: false }) } as unknown as CaseIndex;
      t = performance.now();
      await enqueueItems(wq, model, plan.todo.map(jobItemOf), { batchSize: BATCH });
      const enqMs = performance.now() - t;
      const s = await deadline(runCommitter(wq, sink, { commitSize: 2048, pollMs: 20 }), 'queue overhead');
      const totalMs = performance.now() - t;
      await noop.close();
      await wq.close();
      results.overhead = { msPerImage: totalMs / s.committed, enqueueMsPerImage: enqMs / s.committed, images: s.committed };
      console.error(`queue overhead: ${(totalMs / s.committed).toFixed(3)} ms/image`);
    }

    // committer append rate: 2,048-image commits of 128-d entries with 2 texts into a fresh index
    {
      const dir = join(OUT, 'queue-append');
      rmSync(dir, { recursive: true, force: true });
      ix = await CaseIndex.open(dir, { create: true, model });
      const base = [...canned.values()];
      let n = 0;
      t = performance.now();
      for (let c = 0; c < 10; c++) {
        const batch = Array.from({ length: 2048 }, (_, i) => ({ ...base[i % base.length], path: `/synthetic/${c}/${i}.png`, hash: `${c}-${i}`, texts: base[i % base.length].texts.slice(0, 2) }));
        await ix.commitEntries(batch);
        n += batch.length;
      }
      const appendS = (performance.now() - t) / 1000;
      // a repeat of the last commit: every path known, replaced by merge-insert
      const last = Array.from({ length: 2048 }, (_, i) => ({ ...base[i % base.length], path: `/synthetic/9/${i}.png`, hash: `9-${i}` }));
      t = performance.now();
      await ix.commitEntries(last);
      const replaceS = (performance.now() - t) / 1000;
      ix.close();
      results.committer = { appendImagesPerS: n / appendS, replaceImagesPerS: 2048 / replaceS, rows: n };
      console.error(`committer: ${(n / appendS).toFixed(0)} images/s appended, ${(2048 / replaceS).toFixed(0)} images/s replaced`);
    }

    // k worker processes + in-process committer
    const rows: Array<{ workers: number; threads: number; imagesPerS: number; seconds: number; load1: number }> = [];
    for (const k of String(args.workers).split(',').map(Number)) {
      const name = `bench-${k}`;
      const dir = join(OUT, `queue-${k}`);
      rmSync(dir, { recursive: true, force: true });
      const wq = await openWorkQueue(redis.url, name);
      await publishModel(wq, model);
      const threads = Math.max(1, Math.floor(CORES / k));
      const procs = Array.from({ length: k }, () => startMedvlm(['worker', '--queue', redis.url, '--queue-name', name, '--threads', String(threads)]));
      const t0 = Date.now();
      while ((await wq.queue.getWorkersCount()) < k) {
        if (Date.now() - t0 > 120_000) throw new Error(`${k} workers did not connect`);
        await sleep(100);
      }
      await sleep(500); // models loaded: workers register after loading
      const qix = await CaseIndex.open(dir, { create: true, model });
      t = performance.now();
      await enqueueItems(wq, model, plan.todo.map(jobItemOf), { batchSize: BATCH });
      const s = await deadline(runCommitter(wq, qix, { commitSize: 2048, pollMs: 50, ann: false }), `${k} workers`);
      const secs = (performance.now() - t) / 1000;
      qix.close();
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.done));
      await wq.close();
      rows.push({ workers: k, threads, imagesPerS: s.committed / secs, seconds: secs, load1: loadavg()[0] });
      console.error(`${k} workers × ${threads} threads: ${(s.committed / secs).toFixed(1)} images/s`);
    }
    results.workers = rows;
    const singleLast = await singleRun();
    await encoder.dispose();
    results.single = { imagesPerS: (singleFirst.imagesPerS + singleLast.imagesPerS) / 2, first: singleFirst, last: singleLast, threads: CORES };
  } finally {
    await redis.dispose();
  }
  writeFileSync(join(OUT, 'queue.json'), JSON.stringify(results, null, 2) + '\n');
  const single = results.single as { imagesPerS: number; threads: number; first: { imagesPerS: number; load1: number }; last: { imagesPerS: number; load1: number } };
  const o = results.overhead as { msPerImage: number; enqueueMsPerImage: number };
  const c = results.committer as { appendImagesPerS: number; replaceImagesPerS: number };
  console.log(`| setting (${results.images} MedPix images, batch ${BATCH}, ${CORES} cores) | images/s | vs single process (mean of first and last) | 1-min load after |`);
  console.log('|---|---|---|---|');
  console.log(`| single process (addToIndex, ${single.threads} threads), first | ${single.first.imagesPerS.toFixed(1)} | ${(single.first.imagesPerS / single.imagesPerS).toFixed(2)} | ${single.first.load1.toFixed(1)} |`);
  for (const w of results.workers as Array<{ workers: number; threads: number; imagesPerS: number; load1: number }>) {
    console.log(`| ${w.workers} worker process${w.workers > 1 ? 'es' : ''} × ${w.threads} thread${w.threads > 1 ? 's' : ''} + committer | ${w.imagesPerS.toFixed(1)} | ${(w.imagesPerS / single.imagesPerS).toFixed(2)} | ${w.load1.toFixed(1)} |`);
  }
  console.log(`| single process again, last | ${single.last.imagesPerS.toFixed(1)} | ${(single.last.imagesPerS / single.imagesPerS).toFixed(2)} | ${single.last.load1.toFixed(1)} |`);
  console.log(`\nqueue overhead (no encoding): ${o.msPerImage.toFixed(3)} ms/image in all, of which enqueue ${o.enqueueMsPerImage.toFixed(3)} ms; committer: ${c.appendImagesPerS.toFixed(0)} images/s appended, ${c.replaceImagesPerS.toFixed(0)} images/s replaced; enqueuer hashing ${(results.enqueueHashImagesPerS as number).toFixed(0)} images/s`);
}

await main();
// BullMQ/ioredis and LanceDB can keep a handle open after every queue, index and Redis is closed: the
// results are written and printed, so end the process instead of idling until a timeout.
process.exit(0);
