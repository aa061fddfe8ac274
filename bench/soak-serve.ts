/**
 * Soak test of `medvlm serve` (`npm run soak:serve [-- --minutes 10 --clients 4]`; not part of `npm test`):
 * steady load on a real server process for a bounded time (a warm-up, then `--minutes`), with a mix of
 * real requests (classify a JPEG upload, classify a PNG as raw bytes, inspect, a text embedding,
 * health), the server's RSS sampled from /proc every `--interval` seconds. Passes when RSS grows by
 * less than 10 % from the end of the warm-up to the end, and no answer is a 5xx or a transport error.
 * Clients stay at or under the server's concurrency + queue, so the gate has no reason to answer 503.
 * Writes .bench/soak-serve.json and prints a summary; exits 1 when a criterion fails.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { BENCH_LABELS as LABELS, multipart, ROOT, startServe } from './support/serve-process.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '60' },
    clients: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '2' },
    interval: { type: 'string', default: '10' },
    port: { type: 'string', default: '18788' },
  },
});
const soakSeconds = Number(args.minutes) * 60;
const warmupSeconds = Number(args.warmup);
const intervalMs = Number(args.interval) * 1000;
const MAX_GROWTH = 0.1;
const JPEG = readFileSync(join(ROOT, 'samples/vqarad-chest-xray-1.jpg'));
const PNG = readFileSync(join(ROOT, 'samples/pneumoniamnist-test-0000-pneumonia.png'));

async function main(): Promise<void> {
  const server = await startServe(args.port, args.concurrency, 240);
  const { base } = server;
  try {
    const classifyJpeg = multipart({ labels: LABELS }, 'chest.jpg', JPEG);
    const inspectJpeg = multipart({}, 'chest.jpg', JPEG);
    const requests = [
      { method: 'POST' as const, path: '/v1/classify', body: classifyJpeg.body, headers: { 'content-type': classifyJpeg.type } },
      { method: 'POST' as const, path: `/v1/classify?labels=${encodeURIComponent(LABELS)}&name=x.png`, body: PNG, headers: { 'content-type': 'image/png' } },
      { method: 'POST' as const, path: '/v1/inspect', body: inspectJpeg.body, headers: { 'content-type': inspectJpeg.type } },
      { method: 'POST' as const, path: '/v1/embed', body: JSON.stringify({ text: 'chest x-ray with a right lower lobe opacity' }), headers: { 'content-type': 'application/json' } },
      { method: 'GET' as const, path: '/v1/health' },
    ];
    const samples: Array<{ s: number; rssMiB: number }> = [];
    const t0 = performance.now();
    const sample = () => samples.push({ s: Math.round((performance.now() - t0) / 1000), rssMiB: server.rssMiB() });
    sample();
    const timer = setInterval(sample, intervalMs);
    const total = warmupSeconds + soakSeconds;
    console.error(`soak: ${args.clients} clients for ${warmupSeconds} s warm-up + ${soakSeconds} s, server --concurrency ${args.concurrency}`);
    const r = await autocannon({ url: base, requests, connections: Number(args.clients), duration: total, timeout: 120 });
    clearInterval(timer);
    sample();
    const afterWarmup = samples.filter((x) => x.s >= warmupSeconds);
    const baseline = afterWarmup[0]?.rssMiB ?? NaN;
    const final = samples.at(-1)!.rssMiB;
    const peak = Math.max(...afterWarmup.map((x) => x.rssMiB));
    const growth = (final - baseline) / baseline;
    const codes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, v]) => [code, (v as { count: number }).count]));
    const fivexx = Object.entries(codes).filter(([c]) => c.startsWith('5')).reduce((n, [, v]) => n + v, 0);
    const out = {
      date: new Date().toISOString(),
      clients: Number(args.clients),
      serverConcurrency: Number(args.concurrency),
      warmupSeconds,
      soakSeconds,
      requests: r.requests.total,
      requestsPerSecond: r.requests.average,
      latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
      statusCodes: codes,
      fivexx,
      transportErrors: r.errors,
      timeouts: r.timeouts,
      rssMiB: { start: samples[0].rssMiB, afterWarmup: baseline, peakAfterWarmup: peak, final },
      growthAfterWarmup: growth,
      samples,
    };
    mkdirSync(join(ROOT, '.bench'), { recursive: true });
    writeFileSync(join(ROOT, '.bench/soak-serve.json'), JSON.stringify(out, null, 2));
    const ok = growth < MAX_GROWTH && fivexx === 0 && r.errors === 0 && r.timeouts === 0;
    console.log(
      `soak ${ok ? 'PASSED' : 'FAILED'}: ${r.requests.total} requests in ${total} s (${r.requests.average} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms); ` +
        `status ${JSON.stringify(codes)}; 5xx ${fivexx}, transport errors ${r.errors}, timeouts ${r.timeouts}; ` +
        `RSS ${samples[0].rssMiB.toFixed(0)} MiB at start, ${baseline.toFixed(0)} after warm-up, peak ${peak.toFixed(0)}, ${final.toFixed(0)} at the end: growth ${(growth * 100).toFixed(1)} % (limit ${MAX_GROWTH * 100} %)`,
    );
    if (!ok) process.exitCode = 1;
  } finally {
    server.stop();
  }
}

await main();
