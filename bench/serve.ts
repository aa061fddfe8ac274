/**
 * HTTP load benchmark of `medvlm serve` (`npm run bench:serve [-- --duration 10 --clients 1,8,32,128]`):
 * classify with a real image (a bundled sample, multipart) through autocannon on loopback, at each
 * client count for a bounded time: requests/s, p50/p99 latency, non-2xx answers (deliberate 503s of
 * the concurrency gate counted apart from errors), and the server's RSS before and after. The bare
 * library's images/s (same model, same images, same process count) is measured first for comparison.
 * Writes .bench/serve.json and prints a Markdown table.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { pipeline } from '../src/tasks/pipeline.js';
import { BENCH_LABELS as LABELS, multipart, ROOT, startServe } from './support/serve-process.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    clients: { type: 'string', default: '1,8,32,128' },
    concurrency: { type: 'string', default: '2' },
    port: { type: 'string', default: '18787' },
  },
});
const duration = Number(args.duration);
// one real image (a MedPix chest radiograph, 32 kB JPEG) for the library and the server alike
const IMAGE = { name: 'vqarad-chest-xray-1.jpg', bytes: readFileSync(join(ROOT, 'samples/vqarad-chest-xray-1.jpg')) };

async function bareLibrary(): Promise<number> {
  const classify = await pipeline('zero-shot-image-classification');
  await classify(IMAGE.bytes, LABELS);
  let n = 0;
  const t0 = performance.now();
  for (; performance.now() - t0 < duration * 1000; n++) await classify(IMAGE.bytes, LABELS);
  const perSecond = n / ((performance.now() - t0) / 1000);
  await classify.dispose();
  return perSecond;
}

async function main(): Promise<void> {
  const bare = await bareLibrary();
  console.error(`bare library: ${bare.toFixed(1)} images/s`);
  const server = await startServe(args.port, args.concurrency);
  const { base } = server;
  try {
    const form = multipart({ labels: LABELS }, IMAGE.name, IMAGE.bytes);
    await fetch(`${base}/v1/classify`, { method: 'POST', body: new Uint8Array(form.body), headers: { 'content-type': form.type } }); // warm
    const rssBefore = server.rssMiB();
    const rows: Array<Record<string, number>> = [];
    for (const clients of args.clients.split(',').map(Number)) {
      const r = await autocannon({ url: `${base}/v1/classify`, method: 'POST', body: form.body, headers: { 'content-type': form.type }, connections: clients, duration, timeout: 60 });
      const busy = r.statusCodeStats?.['503']?.count ?? 0;
      rows.push({ clients, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], busy503: busy, errors: r.errors + r.timeouts + r.non2xx - busy });
      console.error(`${clients} clients: ${r.requests.average} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, 2xx ${r['2xx']}, 503 ${busy}`);
    }
    const rssAfter = server.rssMiB();
    const out = { date: new Date().toISOString(), durationSeconds: duration, serverConcurrency: Number(args.concurrency), bareImagesPerSecond: bare, rssBeforeMiB: rssBefore, rssAfterMiB: rssAfter, rows };
    mkdirSync(join(ROOT, '.bench'), { recursive: true });
    writeFileSync(join(ROOT, '.bench/serve.json'), JSON.stringify(out, null, 2));
    console.log(`| clients | req/s | p50 ms | p99 ms | 2xx | 503 (gate) | errors |\n|---|---|---|---|---|---|---|`);
    for (const r of rows) console.log(`| ${r.clients} | ${r.rps.toFixed(1)} | ${r.p50} | ${r.p99} | ${r.ok} | ${r.busy503} | ${r.errors} |`);
    console.log(`\nbare library: ${bare.toFixed(1)} images/s; server RSS ${rssBefore.toFixed(0)} MiB before, ${rssAfter.toFixed(0)} MiB after`);
  } finally {
    server.stop();
  }
}

await main();
