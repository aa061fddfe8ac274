/**
 * One input made ready for a dense task: decoded once, its model view with the slice decisions, so a
 * map made on the view can go back into the input's geometry (NIfTI in → NIfTI out with its affine).
 */
import { OptionError } from '../core/errors.js';
import { decodeInput, type ImageInput } from '../io/image-input.js';
import type { MedicalImage, RGBImage } from '../io/types.js';
import type { Affine } from '../io/nifti-affine.js';
import { copyPrefix, writeSliceInto } from '../transforms/dense-geometry.js';
import { resolveWindow, toModelViewDetailed, type SliceInfo, type ViewOptions } from '../transforms/index.js';

/** A decoded input, its view and the geometry to map back into. */
export interface DenseInput {
  file: string;
  image: MedicalImage;
  slice: MedicalImage;
  view: RGBImage;
}

/** Read, decode and view one input (the same decode and view path as the batch path). */
export async function prepareDenseInput(input: ImageInput, view: ViewOptions = {}, position?: number): Promise<DenseInput> {
  const loaded = await decodeInput(input, position);
  const details = toModelViewDetailed(loaded.image, view);
  return { file: loaded.name, image: loaded.image, slice: details.slice, view: details.rgb };
}

/**
 * The voxel grid [nx, ny, nz] and affine that maps over `input`'s view go back into: the input's own (NIfTI
 * inputs), or one slice of the view's size with a pixel-spacing affine (other inputs).
 */
export function inputGeometry(input: DenseInput): { dims: [number, number, number]; affine: Affine } {
  const img = input.image;
  if (isNiftiVolume(input)) return { dims: [img.width, img.height, img.depth], affine: img.meta.affine as Affine };
  const [sx, sy] = input.slice.spacing;
  return { dims: [input.slice.width, input.slice.height, 1], affine: [[sx, 0, 0, 0], [0, sy, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] };
}

const isNiftiVolume = (input: DenseInput): boolean => input.image.format === 'nifti' && Array.isArray(input.image.meta.affine);

/**
 * A map over the view as a volume in {@link inputGeometry}: on the voxels the view came from (NIfTI inputs,
 * zero elsewhere), or as it is (other inputs). `Uint8Array` for a 0/1 mask, else float32.
 */
export function mapInInputGeometry<T extends Float32Array | Uint8Array = Float32Array>(
  input: DenseInput, map: ArrayLike<number>, into: 'float32' | 'uint8' = 'float32',
): { data: T; dims: [number, number, number]; affine: Affine } {
  const { dims, affine } = inputGeometry(input);
  const data = into === 'uint8' ? new Uint8Array(dims[0] * dims[1] * dims[2]) : new Float32Array(dims[0] * dims[1] * dims[2]);
  if (isNiftiVolume(input)) writeSliceInto(data, input.image, input.slice, map);
  else copyPrefix(data, map);
  return { data: data as T, dims, affine };
}

/** Every slice of a volume along one normal, viewed alike. */
export interface VolumeSlices {
  /** Slices along the normal of the chosen plane (frames for inputs without anatomical axes). */
  count: number;
  /** The one window every slice is viewed with (resolved on the whole volume for `auto`/percentiles). */
  window: { center: number; width: number; source: string };
  /** Slice `index` as a dense input. */
  at(index: number): DenseInput;
}

/** How many slices `input`'s volume has along the normal of its view's plane (1 for a 2D image). */
export function sliceCount(input: DenseInput): number {
  const info = input.slice.meta.slice as SliceInfo | undefined;
  return info ? [input.image.width, input.image.height, input.image.depth][info.normalAxis] : 1;
}

/**
 * The slices of `input`'s volume along the normal of its view's plane, each viewed with one window, so
 * intensities mean the same on every slice (a per-slice `auto` window would stretch each slice its own way).
 */
export function volumeSlices(input: DenseInput, view: ViewOptions = {}): VolumeSlices {
  const img = input.image;
  const info = input.slice.meta.slice as SliceInfo | undefined;
  const count = sliceCount(input);
  const size = img.width * img.height * img.depth * img.channels;
  const t = info?.volume ?? 0;
  const whole = { ...img, data: img.data.subarray(t * size, (t + 1) * size) }; // the viewed timepoint sets the window
  const window = resolveWindow(whole, view.window ?? { kind: 'auto' });
  const fixed: ViewOptions = { ...view, window: { kind: 'explicit', center: window.center, width: window.width } };
  return {
    count,
    window: { center: window.center, width: window.width, source: window.source ?? 'file' },
    at(index: number): DenseInput {
      const details = toModelViewDetailed(img, { ...fixed, index, frame: index });
      return { file: input.file, image: img, slice: details.slice, view: details.rgb };
    },
  };
}

/**
 * Run `fn` on the views of every slice of `slices`, `batch` at a time, and hand each slice's result to
 * `each` in slice order; `onProgress(done, total)` after each batch.
 */
export async function overSlices<T>(
  slices: VolumeSlices, batch: number, fn: (views: RGBImage[]) => Promise<T[]>, each: (index: number, slice: DenseInput, result: T) => void,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const size = Math.max(1, batch);
  for (let start = 0; start < slices.count; start += size) {
    const inputs = Array.from({ length: Math.min(size, slices.count - start) }, (_, i) => slices.at(start + i));
    const results = await fn(inputs.map((s) => s.view));
    for (const [i, r] of results.entries()) each(start + i, inputs[i], r);
    onProgress?.(Math.min(slices.count, start + size), slices.count);
  }
}

/**
 * The input's volume as the target of per-slice maps: `slices`, the voxel grid and affine (NIfTI inputs), or
 * E_BAD_OPTION for a multi-frame image without one (a DICOM series: convert it to NIfTI first).
 */
export function volumeTarget(input: DenseInput, view: ViewOptions = {}): { slices: VolumeSlices; dims: [number, number, number]; affine: Affine } {
  const slices = volumeSlices(input, view);
  if (slices.count > 1 && !isNiftiVolume(input)) {
    throw new OptionError('E_BAD_OPTION', `${input.file}: volume outputs are written in a NIfTI's voxel grid and affine, and this ${input.image.format.toUpperCase()} has ${slices.count} frames; convert the series to NIfTI first (e.g. dcm2niix) or analyse one frame`, { file: input.file });
  }
  return { slices, ...inputGeometry(input) };
}

/** Per-slice maps of a volume put back into its voxel grid. */
export interface SliceMapsVolume {
  dims: [number, number, number];
  affine: Affine;
  /** float32 per voxel: each slice's map on the voxels it came from. */
  data: Float32Array;
  slices: VolumeSlices;
}

/**
 * Run `fn` (`batch` views per call) on every slice of `input` along its view's normal, put the map `mapOf`
 * gives for each result back into the input's voxel grid, and hand each slice's result to `each` in order.
 * E_BAD_OPTION for a multi-frame image without a voxel grid ({@link volumeTarget}).
 */
export async function mapEverySlice<T>(
  input: DenseInput, view: ViewOptions, fn: (views: RGBImage[]) => Promise<T[]>, mapOf: (result: T) => ArrayLike<number>,
  each: (index: number, slice: DenseInput, result: T) => void, opts: { batch?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<SliceMapsVolume> {
  const { slices, dims, affine } = volumeTarget(input, view);
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  await overSlices(slices, opts.batch ?? 8, fn, (index, slice, result) => {
    writeSliceInto(data, input.image, slice.slice, mapOf(result));
    each(index, slice, result);
  }, opts.onProgress);
  return { dims, affine, data, slices };
}
