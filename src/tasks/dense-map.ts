/**
 * Dense maps from a dual encoder: a score per pixel of a 2D view, from
 * - `patch`: the model's patch features (DenseEncoder: medvlm-tiny's 6x6 grid), each scored, upsampled
 *   bilinearly from the cell centres;
 * - `windows`: multi-scale square windows (the WinCLIP idea: Jeong et al., CVPR 2023) through the
 *   ordinary pooled image embedding; a pixel gets the mean score of the windows that cover it;
 * - `both`: the pixel-wise mean of the two (same scorer, so the same units).
 * The view is first stretched to a square canvas (no crop), so every canvas cell maps back to the view
 * exactly; the result is resized to the view's own size. Scoring is a function of an embedding, so the
 * same machinery serves text similarity (`medvlm map`), zero-shot and few-shot anomaly maps.
 */
import { OptionError } from '../core/errors.js';
import { requireDense, type DenseFeatures, type DualEncoder, type RGBImage } from '../models/capabilities.js';
import { resizeMap, resizeRgbRegion } from '../transforms/dense-resample.js';

/** How a map is made. */
export type MapMethod = 'patch' | 'windows' | 'both';

/** The methods, for option parsing and reports. */
export const MAP_METHODS: readonly MapMethod[] = ['patch', 'windows', 'both'];

/** Options of dense maps. */
export interface DenseMapOptions {
  /** Default `patch` when the model has dense features (best on BUSI/Kvasir validation, docs/dense.md), else `windows`. */
  method?: MapMethod;
  /** Window sides as fractions of the canvas side, each with stride half a window (default [1/2]: 9 windows). */
  windowScales?: number[];
}

/** Where an embedding came from: a patch of the grid, or a window (0 = the whole view). */
export interface EmbeddingSource {
  kind: 'patch' | 'window';
  index: number;
}

/** Scores one embedding (patch or window), higher = more of what the map shows. */
export type EmbeddingScorer = (embedding: Float32Array, source: EmbeddingSource) => number;

/** A map over a view, row-major, plus the whole-image score (the scorer on the pooled embedding). */
export interface DenseMap {
  width: number;
  height: number;
  data: Float32Array;
  /** The scorer applied to the whole image's pooled embedding. */
  imageScore: number;
  method: MapMethod;
}

/** Canvas side in units of the model's input size: windows of 1/2 the canvas are then seen at full input resolution. */
const CANVAS_FACTOR = 2;
const DEFAULT_SCALES = [1 / 2];

interface Window {
  x: number;
  y: number;
  side: number;
}

/** Square windows over a canvas of side `c`: for each scale, side round(c*s), stride half a side, last one flush with the edge. */
export function windowGrid(c: number, scales: number[]): Window[] {
  const out: Window[] = [];
  for (const s of scales) {
    if (!(s > 0 && s <= 1)) throw new OptionError('E_BAD_OPTION', `window scale ${s}: expected a fraction in (0, 1]`, { option: 'windowScales' });
    const side = Math.max(1, Math.round(c * s));
    const stride = Math.max(1, Math.floor(side / 2));
    const starts: number[] = [];
    for (let p = 0; p + side < c; p += stride) starts.push(p);
    starts.push(c - side);
    for (const y of starts) for (const x of starts) out.push({ x, y, side });
  }
  return out;
}

/** The method to use: `patch` and `both` need dense features; without them only `windows`. */
export function resolveMethod(encoder: DualEncoder, method: MapMethod | undefined): MapMethod {
  if (method === 'patch' || method === 'both') requireDense(encoder);
  return method ?? (encoder.dense ? 'patch' : 'windows');
}

/** The embeddings a dense map is made of, for one view. */
export interface ViewEmbeddings {
  /** Pooled embedding of the whole view (index 0) and of each window (1..), in `windowGrid` order. */
  pooled: Float32Array[];
  /** Patch grid of the whole view, when the method uses patches. */
  grid?: DenseFeatures;
}

interface Layout {
  method: MapMethod;
  size: number;
  canvas: number;
  windows: Window[];
}

function layout(encoder: DualEncoder, opts: DenseMapOptions): Layout {
  const method = resolveMethod(encoder, opts.method);
  const size = encoder.dense?.inputSize ?? 224;
  const canvas = size * CANVAS_FACTOR;
  return { method, size, canvas, windows: method === 'patch' ? [] : windowGrid(canvas, opts.windowScales ?? DEFAULT_SCALES) };
}

async function embedView(encoder: DualEncoder, view: RGBImage, l: Layout): Promise<ViewEmbeddings> {
  const square = resizeRgbRegion(view, 0, 0, view.width, view.height, l.canvas, l.canvas);
  const crops = [resizeRgbRegion(square, 0, 0, l.canvas, l.canvas, l.size, l.size), ...l.windows.map((w) => resizeRgbRegion(square, w.x, w.y, w.side, w.side, l.size, l.size))];
  const pooled = await encoder.encodeImages(crops);
  const grid = l.method !== 'windows' ? (await encoder.dense!.encodePatches([crops[0]]))[0] : undefined;
  return { pooled, ...(grid ? { grid } : {}) };
}

/** The embeddings of each view that `denseMaps` would score (memory banks of normal references use them). */
export async function denseEmbeddings(encoder: DualEncoder, views: RGBImage[], opts: DenseMapOptions = {}): Promise<ViewEmbeddings[]> {
  const l = layout(encoder, opts);
  const out: ViewEmbeddings[] = [];
  for (const v of views) out.push(await embedView(encoder, v, l));
  return out;
}

/**
 * One map per view. Views of any size; the maps have each view's own width and height. `score` gets
 * each embedding and whether it is a patch or a window (index into `ViewEmbeddings.pooled`, 0 = whole view).
 * @throws ModelLoadError E_MODEL_NO_DENSE when `patch`/`both` is asked of a model without dense features
 */
export async function denseMaps(encoder: DualEncoder, views: RGBImage[], score: EmbeddingScorer, opts: DenseMapOptions = {}): Promise<DenseMap[]> {
  const l = layout(encoder, opts);
  const { canvas, windows, method } = l;
  const out: DenseMap[] = [];
  for (const view of views) {
    const e = await embedView(encoder, view, l);
    const imageScore = score(e.pooled[0], { kind: 'window', index: 0 });
    let patchMap: Float32Array | undefined;
    if (e.grid) {
      const grid = e.grid;
      const cells = Float32Array.from(grid.patches, (p, i) => score(p, { kind: 'patch', index: i }));
      patchMap = resizeMap(cells, grid.cols, grid.rows, canvas, canvas);
    }
    let windowMap: Float32Array | undefined;
    if (method !== 'patch') {
      const sum = new Float32Array(canvas * canvas);
      const count = new Float32Array(canvas * canvas);
      windows.forEach((w, k) => {
        const s = score(e.pooled[k + 1], { kind: 'window', index: k + 1 });
        for (let y = w.y; y < w.y + w.side; y++) {
          for (let x = w.x; x < w.x + w.side; x++) {
            sum[y * canvas + x] += s;
            count[y * canvas + x] += 1;
          }
        }
      });
      windowMap = sum.map((v, i) => (count[i] ? v / count[i] : imageScore));
    }
    let map: Float32Array;
    if (patchMap && windowMap) {
      const b = windowMap;
      map = patchMap.map((v, i) => (v + b[i]) / 2);
    } else map = (patchMap ?? windowMap)!;
    out.push({ width: view.width, height: view.height, data: resizeMap(map, canvas, canvas, view.width, view.height), imageScore, method });
  }
  return out;
}
