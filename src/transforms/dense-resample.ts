/**
 * Resampling for dense outputs (maps, masks, crops): bilinear with half-pixel centres (the convention
 * of PyTorch's `interpolate(..., align_corners=False)` and OpenCV's INTER_LINEAR), edge-clamped.
 * Pure functions on row-major arrays; no image library, so the browser build can use them.
 */
import type { RGBImage } from '../io/types.js';

/** Bilinear resize of a single-channel row-major map `w`x`h` to `W`x`H`. */
export function resizeMap(src: ArrayLike<number>, w: number, h: number, W: number, H: number): Float32Array {
  const out = new Float32Array(W * H);
  const sx = w / W;
  const sy = h / H;
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const ty = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const tx = fx - x0;
      const top = src[y0 * w + x0] * (1 - tx) + src[y0 * w + x1] * tx;
      const bottom = src[y1 * w + x0] * (1 - tx) + src[y1 * w + x1] * tx;
      out[y * W + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

/**
 * Bilinear resize of the region [x0, x0+cw) x [y0, y0+ch) of an RGB image to `W`x`H` (a crop and a
 * resize in one pass; the whole image when the region is the full frame).
 */
export function resizeRgbRegion(img: RGBImage, x0: number, y0: number, cw: number, ch: number, W: number, H: number): RGBImage {
  const out = new Uint8Array(W * H * 3);
  const sx = cw / W;
  const sy = ch / H;
  const { width: w, height: h, data } = img;
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max(y0 + (y + 0.5) * sy - 0.5, 0), h - 1);
    const ya = Math.floor(fy);
    const yb = Math.min(ya + 1, h - 1);
    const ty = fy - ya;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(Math.max(x0 + (x + 0.5) * sx - 0.5, 0), w - 1);
      const xa = Math.floor(fx);
      const xb = Math.min(xa + 1, w - 1);
      const tx = fx - xa;
      for (let c = 0; c < 3; c++) {
        const top = data[(ya * w + xa) * 3 + c] * (1 - tx) + data[(ya * w + xb) * 3 + c] * tx;
        const bottom = data[(yb * w + xa) * 3 + c] * (1 - tx) + data[(yb * w + xb) * 3 + c] * tx;
        out[(y * W + x) * 3 + c] = Math.round(top * (1 - ty) + bottom * ty);
      }
    }
  }
  return { data: out, width: W, height: H };
}

/** Scale a map to 0..1 by its own minimum and maximum, or by `range` (e.g. a whole run's); a constant map becomes all zeros. */
export function minMaxNormalise(map: Float32Array, range?: readonly [number, number]): Float32Array {
  let lo = range?.[0] ?? Infinity;
  let hi = range?.[1] ?? -Infinity;
  if (!range) {
    for (const v of map) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const out = new Float32Array(map.length);
  const span = hi - lo;
  if (!(span > 0)) return out;
  for (let i = 0; i < map.length; i++) out[i] = (map[i] - lo) / span;
  return out;
}
