/**
 * The SAM-family input frame (Hugging Face's SamImageProcessor semantics): resize so that the longest
 * side is `edge` (sizes rounded as `int(x + 0.5)`, Pillow resampling), rescale and normalise, then pad
 * bottom/right with zeros to a fixed square; and the way back for masks: bilinear up to the padded
 * square, crop to the resized frame, bilinear to the original size (PyTorch `align_corners=False`).
 * Pure functions, so the browser build can use them.
 */
import { MedvlmError } from '../core/errors.js';
import type { RGBImage } from '../io/types.js';
import { resizeMap } from './dense-resample.js';
import { preprocessImages, type PixelBatch } from './preprocess.js';
import type { ResampleFilter } from './resize.js';

/** The numbers of a longest-side-and-pad recipe (from a SAM preprocessor_config.json). */
export interface LongestSideRecipe {
  /** Target of the longest side (`size.longest_edge`). */
  edge: number;
  /** The padded input (`pad_size`). */
  pad: { height: number; width: number };
  filter: ResampleFilter;
  /** `rescale_factor` when `do_rescale` (usually 1/255). */
  rescale?: number;
  mean?: [number, number, number];
  std?: [number, number, number];
}

/** Where an image lands in the padded input: its resized size (top-left aligned) and the scale per axis. */
export interface LongestSideFrame {
  original: { width: number; height: number };
  resized: { width: number; height: number };
  pad: { height: number; width: number };
  /** resized / original, per axis: multiply pixel coordinates by these. */
  scaleX: number;
  scaleY: number;
}

/** Resized size with the longest side `edge`, as Hugging Face's `get_preprocess_shape` rounds it. */
export function longestSideSize(width: number, height: number, edge: number): { width: number; height: number } {
  const scale = edge / Math.max(width, height);
  return { width: Math.max(1, Math.trunc(width * scale + 0.5)), height: Math.max(1, Math.trunc(height * scale + 0.5)) };
}

/** The frame of a `width` × `height` image under `recipe`. */
export function longestSideFrame(width: number, height: number, recipe: LongestSideRecipe): LongestSideFrame {
  const resized = longestSideSize(width, height, recipe.edge);
  return { original: { width, height }, resized, pad: recipe.pad, scaleX: resized.width / width, scaleY: resized.height / height };
}

/**
 * One image as channels-first float32 pixel values [1, 3, pad.height, pad.width], and its frame.
 * @throws MedvlmError E_INTERNAL when the resized image does not fit the pad size
 */
export function longestSideInput(img: RGBImage, recipe: LongestSideRecipe): { batch: PixelBatch; frame: LongestSideFrame } {
  const frame = longestSideFrame(img.width, img.height, recipe);
  const { width: w, height: h } = frame.resized;
  const { width: pw, height: ph } = recipe.pad;
  if (w > pw || h > ph) throw new MedvlmError('E_INTERNAL', `longestSideInput: resized ${w}x${h} does not fit the pad size ${pw}x${ph}`);
  const inner = preprocessImages([img], {
    resampler: 'pillow',
    filter: recipe.filter,
    resize: { width: w, height: h },
    ...(recipe.rescale !== undefined ? { rescale: recipe.rescale } : {}),
    ...(recipe.mean && recipe.std ? { mean: recipe.mean, std: recipe.std } : {}),
  });
  const data = new Float32Array(3 * ph * pw);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) data.set(inner.data.subarray((c * h + y) * w, (c * h + y + 1) * w), (c * ph + y) * pw);
  }
  return { batch: { data, dims: [1, 3, ph, pw] }, frame };
}

/**
 * A low-resolution mask (`w` × `h`, covering the padded square) back to the original image: bilinear to
 * the pad size, crop to the resized frame, bilinear to the original size.
 */
export function maskToOriginal(low: ArrayLike<number>, w: number, h: number, frame: LongestSideFrame): Float32Array {
  const { width: pw, height: ph } = frame.pad;
  const { width: rw, height: rh } = frame.resized;
  const padded = resizeMap(low, w, h, pw, ph);
  const cropped = new Float32Array(rw * rh);
  for (let y = 0; y < rh; y++) cropped.set(padded.subarray(y * pw, y * pw + rw), y * rw);
  return resizeMap(cropped, rw, rh, frame.original.width, frame.original.height);
}
