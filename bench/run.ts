/**
 * `npm run bench`: images/s and ms per stage (read, decode, window, resize/normalise, encode) for
 * a ViT-B/16-sized CLIP graph with seeded weights and for the tiny model, on 64 real images from
 * ../shared/data, with 1 thread and with all cores. Speeds are reported as ratios against the
 * 1-thread run measured in the same process (absolute numbers on these shared machines are noisy).
 */
import '../src/io/platform-node.js'; // Node's file reading and decoders, as the package's Node entries install them
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage } from '../src/io/read.js';
import type { RGBImage } from '../src/models/capabilities.js';
import { loadDualEncoder } from '../src/models/registry.js';
import { listBundledModels } from '../src/runtime/sources.js';
import { toModelView } from '../src/transforms/index.js';
import { buildDualEncoderFolder, TINY_CLIP, VIT_B16_CLIP } from '../test/support/onnx/clip-builder.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DATA = resolve(ROOT, '..', 'shared', 'data');
const OUT = join(ROOT, '.bench');
const N = 64;

function pickImages(): string[] {
  const medpix = readFileSync(join(DATA, 'medpix2', 'manifest.jsonl'), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as { image: string; split: string })
    .filter((r) => r.split === 'test').slice(0, 48).map((r) => join(DATA, 'medpix2', r.image));
  const busi = readFileSync(join(DATA, 'busi', 'manifest.csv'), 'utf8').trim().split('\n').slice(1)
    .map((l) => l.split(',')[0]).slice(0, N - medpix.length).map((f) => join(DATA, 'busi', f));
  return [...medpix, ...busi];
}

interface Row {
  model: string;
  threads: number;
  imagesPerSecond: number;
  msPerImage: { read: number; decode: number; window: number; resizeNormalise: number; encode: number; total: number };
}

async function measure(modelName: string, folder: string, threads: number, files: string[]): Promise<Row> {
  const encoder = await loadDualEncoder(folder, { threads });
  const first = toModelView(await decodeImage(new Uint8Array(await readFile(files[0])), files[0]), {});
  await encoder.encodeImages([first, first]); // warm-up: session creation, first-run allocations
  const base = { ...encoder.stageTimes! };
  const t = { read: 0, decode: 0, window: 0 };
  const start = performance.now();
  const views: RGBImage[] = [];
  for (const f of files) {
    const t0 = performance.now();
    const bytes = new Uint8Array(await readFile(f));
    const t1 = performance.now();
    const img = await decodeImage(bytes, f);
    const t2 = performance.now();
    views.push(toModelView(img, {}));
    const t3 = performance.now();
    t.read += t1 - t0;
    t.decode += t2 - t1;
    t.window += t3 - t2;
  }
  for (let i = 0; i < views.length; i += 16) await encoder.encodeImages(views.slice(i, i + 16));
  const total = performance.now() - start;
  const st = encoder.stageTimes!;
  await encoder.dispose();
  const per = (ms: number) => ms / files.length;
  return {
    model: modelName,
    threads,
    imagesPerSecond: (1000 * files.length) / total,
    msPerImage: {
      read: per(t.read),
      decode: per(t.decode),
      window: per(t.window),
      resizeNormalise: per(st.preprocessMs - base.preprocessMs),
      encode: per(st.imageInferenceMs - base.imageInferenceMs),
      total: per(total),
    },
  };
}

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`bench: ${DATA} is absent; the benchmark needs the real images there. Skipped.`);
    return;
  }
  mkdirSync(OUT, { recursive: true });
  const files = pickImages();
  const models: Array<[string, string]> = [];
  if (listBundledModels().includes('medvlm-tiny')) models.push(['medvlm-tiny', 'medvlm-tiny']);
  else {
    const tiny = join(OUT, 'tiny-clip');
    buildDualEncoderFolder(tiny, TINY_CLIP);
    models.push(['tiny-clip (test graph)', tiny]);
  }
  const vit = join(OUT, 'vit-b16-clip');
  if (!existsSync(join(vit, 'onnx', 'vision_model.onnx'))) {
    console.error('bench: writing the ViT-B/16-sized CLIP graph (seeded weights, ~600 MB) to .bench/ once...');
    buildDualEncoderFolder(vit, VIT_B16_CLIP);
  }
  models.push(['ViT-B/16 CLIP (seeded)', vit]);
  const cores = availableParallelism();
  const rows: Row[] = [];
  for (const [name, folder] of models) {
    for (const threads of [1, cores]) {
      const row = await measure(name, folder, threads, files);
      rows.push(row);
      console.error(`bench: ${name}, ${threads} thread(s): ${row.imagesPerSecond.toFixed(1)} images/s`);
    }
  }
  const f = (x: number) => x.toFixed(2);
  const lines = [
    `${files.length} real images (${files.filter((x) => x.includes('medpix2')).length} MedPix JPEG, ${files.filter((x) => x.includes('busi')).length} BUSI PNG), ${cores} cores, node ${process.version}`,
    '',
    '| model | threads | images/s | speed-up vs 1 thread | read | decode | window | resize+normalise | encode | ms/image total |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const one = rows.find((x) => x.model === r.model && x.threads === 1)!;
      const m = r.msPerImage;
      return `| ${r.model} | ${r.threads} | ${f(r.imagesPerSecond)} | ${f(r.imagesPerSecond / one.imagesPerSecond)}x | ${f(m.read)} | ${f(m.decode)} | ${f(m.window)} | ${f(m.resizeNormalise)} | ${f(m.encode)} | ${f(m.total)} |`;
    }),
  ];
  console.log(lines.join('\n'));
  writeFileSync(join(OUT, 'results.json'), JSON.stringify({ date: new Date().toISOString(), cores, rows }, null, 2));
}

await main();
