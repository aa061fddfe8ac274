/**
 * Dense-task benchmark (`npm run bench:dense [-- --images 16]`): maps/s (`medvlm map`'s path: patch grid,
 * and WinCLIP windows) and masks/s (a text-prompted segmenter: medvlm-tiny-seg when present, else a tiny
 * random graph in its contract) on seeded synthetic 256x256 images, with 1 thread and with all cores. Each
 * speed is also given as a ratio against a reference measured in the same run on the same machine: pooled
 * image embeddings/s of the same model (`encodeImages` of the same 256 px images, 1 thread), so numbers
 * from different machines compare as ratios. Writes .bench/dense.json and prints a Markdown table.
 */
import '../src/io/platform-node.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadDualEncoder, loadTextSegmenter } from '../src/models/registry.js';
import type { RGBImage } from '../src/models/capabilities.js';
import { mulberry32 } from '../src/metrics/bootstrap.js';
import { denseMaps } from '../src/tasks/dense-map.js';
import { segmentViews } from '../src/tasks/segment.js';
import { tinySegmenter } from '../test/support/tiny-segmenter.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values: args } = parseArgs({ options: { images: { type: 'string', default: '16' }, model: { type: 'string', default: 'medvlm-tiny' } } });
const N = Number(args.images);
const rng = mulberry32(7);
const images: RGBImage[] = Array.from({ length: N }, () => {
  const data = new Uint8Array(256 * 256 * 3);
  for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) {
    const v = Math.round(128 + 60 * Math.sin(x / 17 + rng()) * Math.cos(y / 23) + 30 * rng());
    data.set([v, v, v], (y * 256 + x) * 3);
  }
  return { data, width: 256, height: 256 };
});

async function perSecond(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up
  const t0 = performance.now();
  await fn();
  return (N * 1000) / (performance.now() - t0);
}

const segFolder = existsSync(join(ROOT, 'models/medvlm-tiny-seg/onnx/model.onnx')) ? join(ROOT, 'models/medvlm-tiny-seg') : tinySegmenter().dir;
const rows: Array<{ what: string; threads: number; perS: number; ratio: number }> = [];
let reference = 0;
for (const threads of [1, availableParallelism()]) {
  const enc = await loadDualEncoder(args.model!, { threads });
  if (threads === 1) reference = await perSecond(() => enc.encodeImages(images));
  const text = (await enc.encodeTexts(['lesion']))[0];
  const score = (e: Float32Array) => e.reduce((a, v, i) => a + v * text[i], 0);
  for (const method of ['patch', 'windows'] as const) {
    if (method === 'patch' && !enc.dense) continue;
    const perS = await perSecond(() => denseMaps(enc, images, score, { method }));
    rows.push({ what: `maps/s (${method})`, threads, perS, ratio: perS / reference });
  }
  await enc.dispose();
  if (segFolder) {
    const seg = await loadTextSegmenter(segFolder, { threads });
    const perS = await perSecond(() => segmentViews(seg, images, 'lesion'));
    rows.push({ what: `masks/s (${segFolder.includes('medvlm-tiny-seg') ? 'medvlm-tiny-seg' : 'tiny random segmenter'})`, threads, perS, ratio: perS / reference });
    await seg.dispose();
  }
}
mkdirSync(join(ROOT, '.bench'), { recursive: true });
const result = { images: N, size: 256, model: args.model, reference: { what: 'pooled image embeddings/s, same model, 1 thread', perS: reference }, rows, cores: availableParallelism(), node: process.version };
writeFileSync(join(ROOT, '.bench', 'dense.json'), JSON.stringify(result, null, 2) + '\n');
console.log(`| what (256 px, ${N} images) | threads | per second | ratio to reference (${reference.toFixed(1)} embeddings/s, 1 thread) |\n|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.what} | ${r.threads} | ${r.perS.toFixed(1)} | ${r.ratio.toFixed(3)} |`);
