/**
 * `npx tsx bench/eval.ts [--model ID] [--threads N]`: throughput of the whole evaluation (medvlm eval's
 * runner: read, hash, decode, view, encode, cache, metrics with bootstrap CIs, few-shot probes) against
 * bare encoding (read, decode, view, encode) of the same images, in the same process, on up to 2,000
 * images from MedPix 2.0, BUSI and PneumoniaMNIST (../shared/data). Reported as images/s and as the
 * ratio eval/bare (absolute numbers on shared machines are noisy; the ratio is the result).
 */
import '../src/io/platform-node.js'; // Node's file reading and decoders, as the package's Node entries install them
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findDatasetSpec, loadDataset } from '../src/eval/datasets/registry.js';
import type { EvalItem } from '../src/eval/datasets/types.js';
import { runEval } from '../src/eval/runner.js';
import { decodeImage } from '../src/io/read.js';
import type { DualEncoder, RGBImage } from '../src/models/capabilities.js';
import { loadDualEncoder } from '../src/models/registry.js';
import { listBundledModels } from '../src/runtime/sources.js';
import { toModelView, toRGB8 } from '../src/transforms/index.js';
import { buildDualEncoderFolder, TINY_CLIP } from '../test/support/onnx/clip-builder.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DATA = resolve(ROOT, '..', 'shared', 'data');
const OUT = join(ROOT, '.bench', 'eval');
const DATASETS = ['medpix-modality', 'busi', 'pneumoniamnist'];
const LIMIT = 2000;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The model: --model, else the bundled medvlm-tiny when complete, else the tiny test graph. */
function pickModel(): { name: string; id: string } {
  const given = arg('--model');
  if (given) return { name: given, id: given };
  if (listBundledModels().includes('medvlm-tiny')) return { name: 'medvlm-tiny', id: 'medvlm-tiny' };
  const tiny = join(ROOT, '.bench', 'tiny-clip');
  buildDualEncoderFolder(tiny, TINY_CLIP);
  return { name: 'tiny-clip (test graph)', id: tiny };
}

async function toView(item: EvalItem): Promise<RGBImage> {
  const ref = item.images[0];
  if (ref.kind === 'pixels') return toRGB8(Float32Array.from(ref.data, (v) => v / 255), ref.width, ref.height, ref.channels);
  return toModelView(await decodeImage(new Uint8Array(await readFile(ref.path)), ref.path), {});
}

/** Bare encoding: read, decode, view, encode in batches of 16; no hashing, cache or metrics. */
async function bare(encoder: DualEncoder, items: EvalItem[]): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < items.length; i += 16) {
    const views = await Promise.all(items.slice(i, i + 16).map(toView));
    await encoder.encodeImages(views);
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`bench:eval: ${DATA} is absent; the benchmark needs the real images there. Skipped.`);
    return;
  }
  const threads = arg('--threads') ? Number(arg('--threads')) : undefined;
  const model = pickModel();
  const load = () => loadDualEncoder(model.id, threads ? { threads } : {});
  // the images the zero-shot cells evaluate: the test splits, capped at LIMIT
  const items = DATASETS.flatMap((id) => loadDataset(findDatasetSpec(id), DATA).splits.test).slice(0, LIMIT);
  const warm = await load();
  await warm.encodeImages([await toView(items[0]), await toView(items[1])]); // session warm-up
  const bareMs = await bare(warm, items);
  await warm.dispose();

  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const grid = { models: [model.id], datasets: DATASETS, tasks: ['zeroshot' as const], out: join(OUT, 'results'), cacheDir: join(OUT, 'cache'), dataRoot: DATA, load };
  const t0 = performance.now();
  const cold = await runEval(grid);
  const coldMs = performance.now() - t0;
  const t1 = performance.now();
  await runEval({ ...grid, force: true });
  const warmMs = performance.now() - t1;
  const t2 = performance.now();
  const few = await runEval({ ...grid, tasks: ['fewshot'] });
  const fewMs = performance.now() - t2;
  if (cold.failed.length || few.failed.length) throw new Error(JSON.stringify([...cold.failed, ...few.failed]));

  const n = items.length;
  const ips = (ms: number) => (1000 * n) / ms;
  const rows = [
    ['bare encoding (read, decode, view, encode)', bareMs, ips(bareMs), 1],
    ['medvlm eval zero-shot, cold cache (+ hash, cache write, text, metrics with 1,000-sample bootstrap CIs)', coldMs, ips(coldMs), ips(coldMs) / ips(bareMs)],
    ['medvlm eval zero-shot, warm cache (--force: read + hash only, then metrics)', warmMs, ips(warmMs), ips(warmMs) / ips(bareMs)],
  ] as const;
  const lines = [
    `model ${model.name}; ${n} test images (${DATASETS.join(', ')}); threads ${threads ?? 'all'}; node ${process.version}; ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| run | wall s | images/s | ratio to bare |',
    '|---|---|---|---|',
    ...rows.map(([name, ms, r, ratio]) => `| ${name} | ${(ms / 1000).toFixed(2)} | ${r.toFixed(1)} | ${ratio.toFixed(2)}x |`),
    '',
    `few-shot cells on the same data sets after that (warm test-split cache; shots 1-16, 3 seeds, linear probe + Tip-Adapter): ${(fewMs / 1000).toFixed(2)} s`,
  ];
  console.log(lines.join('\n'));
  writeFileSync(join(ROOT, '.bench', 'eval.json'), JSON.stringify({ date: new Date().toISOString(), model: model.name, images: n, threads: threads ?? null, bareMs, coldMs, warmMs, fewMs }, null, 2));
}

await main();
