/**
 * Segmentation metrics on binary masks (row-major, any non-zero value = foreground), checked against an
 * independent scipy/numpy reimplementation (test/support/metrics-segmentation.py).
 *
 * Empty masks (stated once, used everywhere):
 * - Dice, IoU, boundary F: both masks empty → 1 (a correct "nothing there"); exactly one empty → 0.
 * - HD95: both empty → 0; exactly one empty → NaN (undefined distance, MONAI gives nan/inf too); means
 *   over images leave NaN out and results report how many were left out.
 * Boundary pixels: a foreground pixel with at least one 4-neighbour outside the mask or on the image
 * border (scipy `binary_erosion` with its default cross structure and border 0, as MONAI's edges).
 */

/** A binary mask, row-major. */
export interface Mask {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

function count(m: Mask): number {
  let n = 0;
  for (let i = 0; i < m.data.length; i++) if (m.data[i]) n++;
  return n;
}

function intersection(a: Mask, b: Mask): number {
  sameSize(a, b);
  let n = 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] && b.data[i]) n++;
  return n;
}

function sameSize(a: Mask, b: Mask): void {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length) {
    throw new RangeError(`masks differ in size: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
}

/** Dice = 2|A∩B| / (|A| + |B|); 1 when both are empty. */
export function dice(pred: Mask, gt: Mask): number {
  const i = intersection(pred, gt);
  const s = count(pred) + count(gt);
  return s === 0 ? 1 : (2 * i) / s;
}

/** IoU (Jaccard) = |A∩B| / |A∪B|; 1 when both are empty. */
export function iou(pred: Mask, gt: Mask): number {
  const i = intersection(pred, gt);
  const u = count(pred) + count(gt) - i;
  return u === 0 ? 1 : i / u;
}

/** Boundary pixel coordinates [x, y] of a mask (see the module comment). */
export function boundaryPixels(m: Mask): Array<[number, number]> {
  const { width: w, height: h, data } = m;
  const out: Array<[number, number]> = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!data[y * w + x]) continue;
      const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || !data[y * w + x - 1] || !data[y * w + x + 1] || !data[(y - 1) * w + x] || !data[(y + 1) * w + x];
      if (edge) out.push([x, y]);
    }
  }
  return out;
}

/**
 * Exact Euclidean distance from every pixel to the nearest pixel of `points` (in pixel units scaled by
 * `spacing` [x, y]), by the separable algorithm of Felzenszwalb & Huttenlocher (2012).
 */
export function distanceToPoints(points: Array<[number, number]>, width: number, height: number, spacing: [number, number] = [1, 1]): Float64Array {
  const INF = 1e20;
  const f = new Float64Array(width * height).fill(INF);
  for (const [x, y] of points) f[y * width + x] = 0;
  const transform1d = (get: (i: number) => number, set: (i: number, v: number) => void, n: number, s: number): void => {
    const v = new Int32Array(n);
    const z = new Float64Array(n + 1);
    const g = new Float64Array(n);
    for (let i = 0; i < n; i++) g[i] = get(i);
    let k = 0;
    v[0] = 0;
    z[0] = -INF;
    z[1] = INF;
    const s2 = s * s;
    for (let q = 1; q < n; q++) {
      let sv = ((g[q] + s2 * q * q) - (g[v[k]] + s2 * v[k] * v[k])) / (2 * s2 * (q - v[k]));
      while (sv <= z[k]) {
        k--;
        sv = ((g[q] + s2 * q * q) - (g[v[k]] + s2 * v[k] * v[k])) / (2 * s2 * (q - v[k]));
      }
      k++;
      v[k] = q;
      z[k] = sv;
      z[k + 1] = INF;
    }
    k = 0;
    for (let q = 0; q < n; q++) {
      while (z[k + 1] < q) k++;
      set(q, s2 * (q - v[k]) * (q - v[k]) + g[v[k]]);
    }
  };
  for (let x = 0; x < width; x++) transform1d((i) => f[i * width + x], (i, val) => (f[i * width + x] = val), height, spacing[1]);
  for (let y = 0; y < height; y++) transform1d((i) => f[y * width + i], (i, val) => (f[y * width + i] = val), width, spacing[0]);
  for (let i = 0; i < f.length; i++) f[i] = Math.sqrt(f[i]);
  return f;
}

/** numpy's default (linear) percentile of a list. */
function percentile(values: number[], q: number): number {
  const s = Float64Array.from(values).sort();
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * 95th-percentile symmetric Hausdorff distance between the mask boundaries (MONAI's
 * `compute_hausdorff_distance(percentile=95)`: the larger of the two directed 95th percentiles), in
 * pixels or in the units of `spacing`. 0 when both are empty, NaN when exactly one is.
 */
export function hd95(pred: Mask, gt: Mask, spacing: [number, number] = [1, 1]): number {
  sameSize(pred, gt);
  const bp = boundaryPixels(pred);
  const bg = boundaryPixels(gt);
  if (bp.length === 0 && bg.length === 0) return 0;
  if (bp.length === 0 || bg.length === 0) return NaN;
  const dToG = distanceToPoints(bg, gt.width, gt.height, spacing);
  const dToP = distanceToPoints(bp, gt.width, gt.height, spacing);
  const a = bp.map(([x, y]) => dToG[y * gt.width + x]);
  const b = bg.map(([x, y]) => dToP[y * gt.width + x]);
  return Math.max(percentile(a, 95), percentile(b, 95));
}

/** The boundary F-score tolerance used by default: 0.0075 of the image diagonal, at least 1 pixel (the DAVIS convention, rounded). */
export function defaultBoundaryTolerance(width: number, height: number): number {
  return Math.max(1, Math.round(0.0075 * Math.hypot(width, height)));
}

/**
 * Boundary F-score (Csurka et al. 2013; DAVIS): precision = share of predicted boundary pixels within
 * `tolerance` pixels (Euclidean) of a ground-truth boundary pixel, recall the other way round, F their
 * harmonic mean. Both empty → 1, exactly one empty → 0.
 */
export function boundaryF(pred: Mask, gt: Mask, tolerance = defaultBoundaryTolerance(gt.width, gt.height)): number {
  sameSize(pred, gt);
  const bp = boundaryPixels(pred);
  const bg = boundaryPixels(gt);
  if (bp.length === 0 && bg.length === 0) return 1;
  if (bp.length === 0 || bg.length === 0) return 0;
  const dToG = distanceToPoints(bg, gt.width, gt.height);
  const dToP = distanceToPoints(bp, gt.width, gt.height);
  const precision = bp.filter(([x, y]) => dToG[y * gt.width + x] <= tolerance).length / bp.length;
  const recall = bg.filter(([x, y]) => dToP[y * gt.width + x] <= tolerance).length / bg.length;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/** Per-image segmentation metrics. */
export interface SegmentationScores {
  dice: number;
  iou: number;
  hd95: number;
  boundaryF: number;
}

/** All four metrics of one prediction. */
export function segmentationScores(pred: Mask, gt: Mask): SegmentationScores {
  return { dice: dice(pred, gt), iou: iou(pred, gt), hd95: hd95(pred, gt), boundaryF: boundaryF(pred, gt) };
}

/** A binary mask from a probability map: `p >= threshold`. */
export function binarise(map: ArrayLike<number>, width: number, height: number, threshold: number): Mask {
  const data = new Uint8Array(map.length);
  for (let i = 0; i < map.length; i++) data[i] = map[i] >= threshold ? 1 : 0;
  return { width, height, data };
}
