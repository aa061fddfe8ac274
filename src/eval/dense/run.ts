/**
 * The dense evaluation tasks: `maps` (zero-shot text→image maps, pixel AUROC against a centre prior),
 * `anomaly` (image AUROC, pixel AUROC, AUPRO; zero-shot and k-shot) and `segmentation` (Dice, IoU,
 * HD95, boundary F per image, mean with bootstrap CIs). Images and masks are read through the one batch
 * path (prepareInput). Pixel-level metrics are computed at `evalSize` x `evalSize` (maps bilinear, masks
 * nearest) to keep them tractable; segmentation metrics at each image's own size.
 */
import { join } from 'node:path';
import { writeAtomic } from '../../core/atomic.js';
import { encodeOverlayPng } from '../../io/dense-write.js';
import { bootstrapCI, mulberry32, type CI } from '../../metrics/bootstrap.js';
import { aupro, pixelAuroc, type ScoredMask } from '../../metrics/pixel-anomaly.js';
import { rocAucBinary } from '../../metrics/roc.js';
import { binarise, segmentationScores, type Mask, type SegmentationScores } from '../../metrics/segmentation.js';
import type { DualEncoder, RGBImage, TextPromptedSegmenter } from '../../models/capabilities.js';
import { AnomalyDetector } from '../../tasks/anomaly.js';
import { prepareInput } from '../../tasks/batch.js';
import { denseMaps, type MapMethod } from '../../tasks/dense-map.js';
import { segmentViews } from '../../tasks/segment.js';
import { minMaxNormalise, resizeMap } from '../../transforms/dense-resample.js';
import type { DenseDataset, DenseItem } from './data.js';

/** Options shared by the dense tasks. */
export interface DenseEvalOptions {
  split?: 'val' | 'test';
  /** Bootstrap resamples for image-level CIs (default 1000) and pixel-level CIs (default 200). */
  bootstrap?: number;
  pixelBootstrap?: number;
  seed?: number;
  /** Side of the square grid pixel metrics are computed on (default 128). */
  evalSize?: number;
  /** Use only the first N items of the split (quick runs; results say so). */
  limit?: number;
  /** Write best/median/worst overlays here. */
  overlaysDir?: string;
}

/** An image and its mask, read. */
export interface LoadedItem {
  item: DenseItem;
  view: RGBImage;
  mask: Mask;
}

/** Read items' images and masks (mask = first channel ≥ 128). */
export async function loadItems(items: DenseItem[]): Promise<LoadedItem[]> {
  const out: LoadedItem[] = [];
  for (const item of items) {
    const view = (await prepareInput(item.image, undefined)).rgb!;
    const m = (await prepareInput(item.mask, undefined)).rgb!;
    const data = new Uint8Array(m.width * m.height);
    for (let i = 0; i < data.length; i++) data[i] = m.data[i * 3] >= 128 ? 1 : 0;
    if (m.width !== view.width || m.height !== view.height) throw new RangeError(`${item.mask}: mask ${m.width}x${m.height} differs from image ${view.width}x${view.height}`);
    out.push({ item, view, mask: { width: m.width, height: m.height, data } });
  }
  return out;
}

function nearestMask(m: Mask, size: number): Mask {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(m.height - 1, Math.floor(((y + 0.5) * m.height) / size));
    for (let x = 0; x < size; x++) data[y * size + x] = m.data[sy * m.width + Math.min(m.width - 1, Math.floor(((x + 0.5) * m.width) / size))] ? 1 : 0;
  }
  return { width: size, height: size, data };
}

/** A centred Gaussian prior (σ = a quarter of each side): the baseline every map must beat. */
export function centrePrior(width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const sx = width / 4;
  const sy = height / 4;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = Math.exp(-(((x + 0.5 - width / 2) / sx) ** 2 + ((y + 0.5 - height / 2) / sy) ** 2) / 2);
  return out;
}

function pixelCI(items: ScoredMask[], metric: (xs: ScoredMask[]) => number, opts: DenseEvalOptions): CI {
  return bootstrapCI(items.length, (idx) => metric(idx.map((i) => items[i])), { samples: opts.pixelBootstrap ?? 200, seed: opts.seed ?? 0 });
}

function split(ds: DenseDataset, opts: DenseEvalOptions): DenseItem[] {
  const all = ds.splits[opts.split ?? 'test'];
  return opts.limit ? all.slice(0, opts.limit) : all;
}

/** Pixel AUROC of zero-shot text maps per method, and of the centre prior, on images with a lesion. */
export async function evalMaps(encoder: DualEncoder, ds: DenseDataset, methods: MapMethod[], opts: DenseEvalOptions = {}): Promise<Record<string, unknown>> {
  const size = opts.evalSize ?? 128;
  const loaded = (await loadItems(split(ds, opts))).filter((l) => !l.item.normal);
  const [text] = await encoder.encodeTexts([ds.target]);
  const masks = loaded.map((l) => nearestMask(l.mask, size));
  const results: Record<string, { pixelAuroc: CI; aupro: number }> = {};
  const prior = centrePrior(size, size);
  const priorItems = masks.map((mask) => ({ scores: prior, mask }));
  results['centre-prior'] = { pixelAuroc: pixelCI(priorItems, pixelAuroc, opts), aupro: aupro(priorItems) };
  for (const method of methods) {
    const maps = await denseMaps(encoder, loaded.map((l) => l.view), (e) => dotText(e, text), { method });
    const items = maps.map((m, i) => ({ scores: resizeMap(m.data, m.width, m.height, size, size), mask: masks[i] }));
    results[method] = { pixelAuroc: pixelCI(items, pixelAuroc, opts), aupro: aupro(items) };
    if (opts.overlaysDir && method === methods[methods.length - 1]) await writeOverlays(opts.overlaysDir, `${ds.id}-map-${method}`, loaded, maps.map((m) => minMaxNormalise(m.data)), items.map((it) => pixelAuroc([it])));
  }
  return { task: 'maps', text: ds.target, n: loaded.length, evalSize: size, results };
}

function dotText(e: Float32Array, t: Float32Array): number {
  let s = 0;
  for (let i = 0; i < e.length; i++) s += e[i] * t[i];
  return s;
}

/** Seeded choice of k normal references from the train split. */
export function chooseNormals(ds: DenseDataset, k: number, seed: number): DenseItem[] {
  const pool = ds.splits.train.filter((i) => i.normal);
  const rng = mulberry32(seed);
  const order = pool.map((it) => ({ it, r: rng() })).sort((a, b) => a.r - b.r);
  return order.slice(0, k).map((o) => o.it);
}

/** Image AUROC, pixel AUROC and AUPRO of anomaly detection, zero-shot (k = 0) or with k normal references. */
export async function evalAnomaly(encoder: DualEncoder, ds: DenseDataset, k: number, opts: DenseEvalOptions & { method?: MapMethod } = {}): Promise<Record<string, unknown>> {
  const size = opts.evalSize ?? 128;
  const loaded = await loadItems(split(ds, opts));
  const refs = k > 0 ? await loadItems(chooseNormals(ds, k, opts.seed ?? 0)) : [];
  const detector = await AnomalyDetector.create(encoder, { object: ds.object, normals: refs.map((r) => r.view), ...(opts.method ? { method: opts.method } : {}) });
  const outs = await detector.score(loaded.map((l) => l.view));
  const labels = loaded.map((l) => (l.item.normal ? 0 : 1));
  const scores = outs.map((o) => o.score);
  const imageAuroc = bootstrapCI(loaded.length, (idx) => rocAucBinary(idx.map((i) => labels[i]), idx.map((i) => scores[i])), { samples: opts.bootstrap ?? 1000, seed: opts.seed ?? 0 });
  const items = outs.map((o, i) => ({ scores: resizeMap(o.map.data, o.map.width, o.map.height, size, size), mask: nearestMask(loaded[i].mask, size) }));
  if (opts.overlaysDir) {
    const abn = loaded.map((l, i) => ({ l, i })).filter((x) => !x.l.item.normal);
    await writeOverlays(opts.overlaysDir, `${ds.id}-anomaly-k${k}`, abn.map((x) => x.l), abn.map((x) => minMaxNormalise(outs[x.i].map.data)), abn.map((x) => pixelAuroc([items[x.i]])));
  }
  return {
    task: 'anomaly',
    mode: detector.mode,
    references: refs.map((r) => r.item.id),
    n: loaded.length,
    anomalous: labels.filter((l) => l === 1).length,
    evalSize: size,
    imageAuroc,
    pixelAuroc: pixelCI(items, pixelAuroc, opts),
    aupro: aupro(items),
  };
}

/** Dice, IoU, HD95 and boundary F of a text-prompted segmenter, per image at its own size, mean with CIs. */
export async function evalSegmentation(segmenter: TextPromptedSegmenter, ds: DenseDataset, opts: DenseEvalOptions & { text?: string } = {}): Promise<Record<string, unknown>> {
  const loaded = (await loadItems(split(ds, opts))).filter((l) => !l.item.normal);
  const text = opts.text ?? segmenter.prompts[ds.target] ?? ds.target;
  const segs = await segmentViews(segmenter, loaded.map((l) => l.view), text);
  const per: Array<SegmentationScores & { id: string }> = segs.map((s, i) => ({ id: loaded[i].item.id, ...segmentationScores(binarise(s.mask.data, s.mask.width, s.mask.height, 0.5), loaded[i].mask) }));
  const ci = (key: keyof SegmentationScores): CI & { undefinedCount: number } => {
    const vals = per.map((p) => p[key]);
    const defined = vals.map((v, i) => ({ v, i })).filter((x) => Number.isFinite(x.v));
    const c = bootstrapCI(defined.length, (idx) => idx.reduce((a, j) => a + defined[j].v, 0) / Math.max(1, idx.length), { samples: opts.bootstrap ?? 1000, seed: opts.seed ?? 0 });
    return { ...c, undefinedCount: vals.length - defined.length };
  };
  if (opts.overlaysDir) await writeOverlays(opts.overlaysDir, `${ds.id}-segment`, loaded, segs.map((s) => s.probability.data), per.map((p) => p.dice));
  return {
    task: 'segmentation',
    text,
    threshold: segmenter.threshold,
    n: loaded.length,
    emptyMasks: 'images without a lesion are left out (Dice of empty vs empty is 1 by definition and would inflate the mean)',
    dice: ci('dice'),
    iou: ci('iou'),
    hd95: ci('hd95'),
    boundaryF: ci('boundaryF'),
    perImage: per,
  };
}

/** Best, median and worst case by `score` as overlays (map in the hot ramp, ground truth contour in green). */
async function writeOverlays(dir: string, prefix: string, loaded: LoadedItem[], maps01: Float32Array[], score: number[]): Promise<void> {
  const order = score.map((s, i) => ({ s: Number.isFinite(s) ? s : -Infinity, i })).sort((a, b) => b.s - a.s);
  if (order.length === 0) return;
  const picks = { best: order[0], median: order[Math.floor(order.length / 2)], worst: order[order.length - 1] };
  for (const [name, { i, s }] of Object.entries(picks)) {
    const l = loaded[i];
    const png = await encodeOverlayPng(l.view, { width: l.view.width, height: l.view.height, data: maps01[i] }, { contour: l.mask });
    await writeAtomic(join(dir, `${prefix}-${name}.png`), png);
    await writeAtomic(join(dir, `${prefix}-${name}.json`), JSON.stringify({ item: l.item.id, score: s }) + '\n');
  }
}
