/**
 * Resampling of 8-bit RGB images with Pillow's semantics (`Image.resize`), so that a model sees the
 * same pixels here, in the browser, and in the Python pipeline it was trained with. Convolution-based
 * filters are antialiased (the kernel widens with the downscale factor) and computed in two separable
 * passes, horizontal then vertical, in 22-bit fixed point with rounding and clamping to 8 bits after
 * each pass, as Pillow does; nearest neighbour samples pixel centres.
 */
import { MedvlmError } from '../core/errors.js';
import type { RGBImage } from '../io/types.js';

/** Resampling filters, by the numbers Pillow and Hugging Face preprocessor configs use. */
export const RESAMPLE = { nearest: 0, lanczos: 1, bilinear: 2, bicubic: 3, box: 4, hamming: 5 } as const;

/** A filter name. */
export type ResampleFilter = keyof typeof RESAMPLE;

interface Kernel {
  support: number;
  weight(x: number): number;
}

const sinc = (x: number): number => {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
};

const KERNELS: Record<Exclude<ResampleFilter, 'nearest'>, Kernel> = {
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: { support: 1, weight: (x) => (x < 0 ? -x : x) < 1 ? 1 - (x < 0 ? -x : x) : 0 },
  hamming: {
    support: 1,
    weight: (x) => {
      const a = x < 0 ? -x : x;
      if (a === 0) return 1;
      if (a >= 1) return 0;
      return sinc(a) * (0.54 + 0.46 * Math.cos(Math.PI * a));
    },
  },
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const t = x < 0 ? -x : x;
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, weight: (x) => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

const PRECISION_BITS = 32 - 8 - 2;

/** Per output position: first input index, tap count, and fixed-point weights (ksize per position). */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Int32Array;
  ksize: number;
}

function taps(inSize: number, outSize: number, kernel: Kernel): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = kernel.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const inv = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const v = kernel.weight((x + xmin - center + 0.5) * inv);
      w[x] = v;
      total += v;
    }
    for (let x = 0; x < xmax; x++) {
      const k = total !== 0 ? w[x] / total : w[x];
      weights[xx * ksize + x] = Math.trunc(k < 0 ? -0.5 + k * (1 << PRECISION_BITS) : 0.5 + k * (1 << PRECISION_BITS));
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, ksize };
}

const clip8 = (acc: number): number => {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

function horizontal(src: Uint8ClampedArray, width: number, height: number, outW: number, t: Taps): Uint8ClampedArray {
  const out = new Uint8ClampedArray(outW * height * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let xx = 0; xx < outW; xx++) {
      const k0 = xx * t.ksize;
      const x0 = t.start[xx];
      let r = half;
      let g = half;
      let b = half;
      for (let x = 0; x < t.count[xx]; x++) {
        const k = t.weights[k0 + x];
        const p = row + (x0 + x) * 3;
        r += src[p] * k;
        g += src[p + 1] * k;
        b += src[p + 2] * k;
      }
      const o = (y * outW + xx) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return out;
}

function vertical(src: Uint8ClampedArray, width: number, outH: number, t: Taps): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * outH * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let yy = 0; yy < outH; yy++) {
    const k0 = yy * t.ksize;
    const y0 = t.start[yy];
    const n = t.count[yy];
    for (let x = 0; x < width; x++) {
      let r = half;
      let g = half;
      let b = half;
      for (let y = 0; y < n; y++) {
        const k = t.weights[k0 + y];
        const p = ((y0 + y) * width + x) * 3;
        r += src[p] * k;
        g += src[p + 1] * k;
        b += src[p + 2] * k;
      }
      const o = (yy * width + x) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return out;
}

/** Pillow's nearest-neighbour scale: source positions accumulated from the first pixel centre. */
function nearestIndex(inSize: number, outSize: number): Int32Array {
  const idx = new Int32Array(outSize);
  const step = inSize / outSize;
  let pos = step * 0.5;
  for (let i = 0; i < outSize; i++) {
    idx[i] = Math.min(inSize - 1, Math.max(0, Math.trunc(pos)));
    pos += step;
  }
  return idx;
}

function nearest(img: RGBImage, outW: number, outH: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(outW * outH * 3);
  const xs = nearestIndex(img.width, outW);
  const ys = nearestIndex(img.height, outH);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const p = (ys[y] * img.width + xs[x]) * 3;
      const o = (y * outW + x) * 3;
      out[o] = img.data[p];
      out[o + 1] = img.data[p + 1];
      out[o + 2] = img.data[p + 2];
    }
  }
  return out;
}

/** The filter name for a Pillow / Hugging Face `resample` number (undefined when unknown). */
export function resampleFilterFor(code: number): ResampleFilter | undefined {
  return (Object.keys(RESAMPLE) as ResampleFilter[]).find((k) => RESAMPLE[k] === code);
}

/**
 * Resize interleaved 8-bit RGB to `width` × `height` the way Pillow's `Image.resize(size, filter)`
 * does (bit-exact for the convolution filters on 8-bit RGB).
 *
 * @throws MedvlmError E_INTERNAL when a size is not a positive integer or the pixel buffer is short
 */
export function resizeRGB(img: RGBImage, width: number, height: number, filter: ResampleFilter = 'bicubic'): RGBImage {
  for (const [what, v] of [['width', width], ['height', height], ['input width', img.width], ['input height', img.height]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new MedvlmError('E_INTERNAL', `resizeRGB: ${what} must be a positive integer, got ${v}`);
  }
  if (img.data.length < img.width * img.height * 3) {
    throw new MedvlmError('E_INTERNAL', `resizeRGB: ${img.data.length} bytes do not hold a ${img.width}x${img.height} RGB image`);
  }
  const src = img.data instanceof Uint8ClampedArray ? img.data : new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  if (width === img.width && height === img.height) return { data: src.slice(0, width * height * 3), width, height };
  if (filter === 'nearest') return { data: nearest(img, width, height), width, height };
  const kernel = KERNELS[filter];
  let data = src;
  let w = img.width;
  if (width !== img.width) {
    data = horizontal(data, w, img.height, width, taps(img.width, width, kernel));
    w = width;
  }
  if (height !== img.height) data = vertical(data, w, height, taps(img.height, height, kernel));
  return { data: data === src ? src.slice() : data, width, height };
}

const VIPS_TRANSFORM_SCALE = 64;
const VIPS_INTERPOLATE_SHIFT = 12;

/** libvips' Catmull-Rom coefficients for the 65 sub-pixel positions, in 12-bit fixed point (truncated, as libvips casts). */
const VIPS_BICUBIC_TABLE: Int32Array[] = Array.from({ length: VIPS_TRANSFORM_SCALE + 1 }, (_, t) => {
  const x = t / VIPS_TRANSFORM_SCALE;
  const cr1 = 1 - x;
  const cr2 = -0.5 * x;
  const cr3 = cr1 * cr2;
  const cone = cr1 * cr3;
  const cfou = x * cr3;
  const cr4 = cfou - cone;
  const ctwo = cr1 - cone + cr4;
  const cthr = x - cfou - cr4;
  return Int32Array.from([cone, ctwo, cthr, cfou], (c) => Math.trunc(c * (1 << VIPS_INTERPOLATE_SHIFT)));
});

const vipsRound = (v: number): number => (v + (1 << (VIPS_INTERPOLATE_SHIFT - 1))) >> VIPS_INTERPOLATE_SHIFT;

/**
 * Resize interleaved 8-bit RGB to `width` × `height` the way libvips' `affine` with its bicubic
 * (Catmull-Rom) interpolator does it for transformers.js in Node (`sharp.affine([sx, 0, 0, sy])`):
 * corner-aligned sampling (output x reads input x / sx), no antialiasing when shrinking, a black
 * border beyond the edges, sub-pixel positions quantised to 1/64 and 12-bit fixed-point weights.
 * medvlm-tiny was trained on pixels made this way; its preprocessor config asks for it.
 *
 * @throws MedvlmError E_INTERNAL when a size is not a positive integer
 */
export function resizeRGBLibvipsBicubic(img: RGBImage, width: number, height: number): RGBImage {
  for (const [what, v] of [['width', width], ['height', height], ['input width', img.width], ['input height', img.height]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new MedvlmError('E_INTERNAL', `resizeRGBLibvipsBicubic: ${what} must be a positive integer, got ${v}`);
  }
  const { width: W, height: H, data: src } = img;
  const a = width / W;
  const d = height / H;
  const det = a * d;
  const ia = (1 / det) * d;
  const id = (1 / det) * a;
  // Input positions in libvips' padded frame (2 pixels of border), and the 4 source columns/rows with weights.
  const axis = (n: number, inv: number): { first: Int32Array; coeff: Int32Array[] } => {
    const first = new Int32Array(n);
    const coeff: Int32Array[] = [];
    for (let o = 0; o < n; o++) {
      const pos = inv * o + 2;
      const s = Math.trunc(pos * VIPS_TRANSFORM_SCALE * 2);
      const t = ((s & (VIPS_TRANSFORM_SCALE * 2 - 1)) + 1) >> 1;
      first[o] = Math.floor(pos) - 1 - 2;
      coeff.push(VIPS_BICUBIC_TABLE[t]);
    }
    return { first, coeff };
  };
  const xs = axis(width, ia);
  const ys = axis(height, id);
  const px = (x: number, y: number, c: number): number => (x < 0 || y < 0 || x >= W || y >= H ? 0 : src[(y * W + x) * 3 + c]);
  const out = new Uint8ClampedArray(width * height * 3);
  for (let y = 0; y < height; y++) {
    const y0 = ys.first[y];
    const cy = ys.coeff[y];
    for (let x = 0; x < width; x++) {
      const x0 = xs.first[x];
      const cx = xs.coeff[x];
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let j = 0; j < 4; j++) {
          const row = vipsRound(cx[0] * px(x0, y0 + j, c) + cx[1] * px(x0 + 1, y0 + j, c) + cx[2] * px(x0 + 2, y0 + j, c) + cx[3] * px(x0 + 3, y0 + j, c));
          acc += cy[j] * row;
        }
        const v = vipsRound(acc);
        out[(y * width + x) * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { data: out, width, height };
}
