/**
 * Pixel-level anomaly metrics over many images, pooled (every pixel of every image is one sample, as in
 * the MVTec AD protocol): pixel AUROC and AUPRO (Bergmann et al., IJCV 2021). Checked against a
 * scipy/numpy reimplementation (test/support/metrics-segmentation.py).
 */
import { type Mask } from './segmentation.js';

/** A score map and its ground-truth mask (same size). */
export interface ScoredMask {
  scores: ArrayLike<number>;
  mask: Mask;
}

/**
 * Exact binary AUROC by ranks (Mann–Whitney U / (n₊ n₋), ties count one half): equals the trapezoid
 * area under the ROC curve (sklearn's `roc_auc_score`), in O(n log n) on typed arrays so that millions
 * of pixels are fine. NaN when one class is absent.
 */
export function aurocByRanks(positives: Float64Array, negatives: Float64Array): number {
  if (positives.length === 0 || negatives.length === 0) return NaN;
  const p = positives.slice().sort();
  const n = negatives.slice().sort();
  let j = 0;
  let k = 0;
  let u = 0;
  for (let i = 0; i < p.length; i++) {
    while (j < n.length && n[j] < p[i]) j++;
    k = Math.max(k, j);
    while (k < n.length && n[k] <= p[i]) k++;
    u += j + (k - j) / 2;
  }
  return u / (p.length * n.length);
}

/** Pixel AUROC pooled over images; NaN without any anomalous (or any normal) pixel. */
export function pixelAuroc(items: ScoredMask[]): number {
  let np = 0;
  let nn = 0;
  for (const it of items) {
    for (let i = 0; i < it.mask.data.length; i++) {
      if (it.mask.data[i]) np++;
      else nn++;
    }
  }
  const pos = new Float64Array(np);
  const neg = new Float64Array(nn);
  np = 0;
  nn = 0;
  for (const it of items) {
    for (let i = 0; i < it.mask.data.length; i++) {
      if (it.mask.data[i]) pos[np++] = it.scores[i];
      else neg[nn++] = it.scores[i];
    }
  }
  return aurocByRanks(pos, neg);
}

/** Connected components (8-connectivity, as scipy.ndimage.label with a 3x3 structure) of a mask: a label per pixel (0 = background) and their count. */
export function labelComponents(m: Mask): { labels: Int32Array; count: number } {
  const { width: w, height: h, data } = m;
  const labels = new Int32Array(w * h);
  let count = 0;
  const stack: number[] = [];
  for (let start = 0; start < w * h; start++) {
    if (!data[start] || labels[start]) continue;
    labels[start] = ++count;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % w;
      const y = (i - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          const j = yy * w + xx;
          if (data[j] && !labels[j]) {
            labels[j] = count;
            stack.push(j);
          }
        }
      }
    }
  }
  return { labels, count };
}

/**
 * AUPRO up to a false-positive rate of `maxFpr` (default 0.3), normalised by `maxFpr`: the area under
 * the per-region-overlap curve, where PRO(t) is the mean over all ground-truth connected components (8-
 * connectivity, pooled over images) of the share of the component's pixels scoring ≥ t, and FPR(t) the
 * share of normal pixels scoring ≥ t. Exact curve (one point per distinct score), linear interpolation
 * at `maxFpr`. NaN without any anomalous region or without normal pixels.
 */
export function aupro(items: ScoredMask[], maxFpr = 0.3): number {
  let total = 0;
  let regions = 0;
  let normals = 0;
  const regionOf: Int32Array[] = [];
  const regionSize: number[] = [0];
  for (const it of items) {
    const { labels, count } = labelComponents(it.mask);
    const shifted = new Int32Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      if (labels[i]) {
        shifted[i] = labels[i] + regions;
        regionSize[shifted[i]] = (regionSize[shifted[i]] ?? 0) + 1;
      } else normals++;
    }
    regions += count;
    regionOf.push(shifted);
    total += labels.length;
  }
  if (regions === 0 || normals === 0) return NaN;
  const scores = new Float64Array(total);
  const region = new Int32Array(total);
  let o = 0;
  items.forEach((it, k) => {
    for (let i = 0; i < it.mask.data.length; i++, o++) {
      scores[o] = it.scores[i];
      region[o] = regionOf[k][i];
    }
  });
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  order.sort((a, b) => scores[b] - scores[a]);
  const fprs = [0];
  const pros = [0];
  let fp = 0;
  let pro = 0;
  for (let r = 0; r < total; r++) {
    const i = order[r];
    if (region[i]) pro += 1 / (regionSize[region[i]] * regions);
    else fp++;
    if (r === total - 1 || scores[order[r + 1]] !== scores[i]) {
      fprs.push(fp / normals);
      pros.push(pro);
    }
  }
  let area = 0;
  for (let i = 1; i < fprs.length; i++) {
    const x0 = fprs[i - 1];
    if (x0 >= maxFpr) break;
    let x1 = fprs[i];
    let y1 = pros[i];
    if (x1 > maxFpr) {
      y1 = pros[i - 1] + ((pros[i] - pros[i - 1]) * (maxFpr - x0)) / (x1 - x0);
      x1 = maxFpr;
    }
    area += ((x1 - x0) * (y1 + pros[i - 1])) / 2;
  }
  return area / maxFpr;
}
