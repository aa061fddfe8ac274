/**
 * Segmenting a whole volume slice by slice: every slice along the view's normal, viewed with one window,
 * segmented in batches, and the probabilities and masks put back in the input's voxel grid and affine.
 */
import { OptionError } from '../core/errors.js';
import type { Affine } from '../io/nifti-affine.js';
import type { RGBImage } from '../io/types.js';
import { writeSliceInto } from '../transforms/dense-geometry.js';
import type { ViewOptions } from '../transforms/index.js';
import type { ProgressFn } from './batch.js';
import { overSlices, volumeTarget, type DenseInput } from './dense-input.js';
import type { ViewSegmentation } from './segment.js';

/** Segments views; `undefined` for a view the segmenter cannot take (e.g. a flat map gives no prompt). */
export type SegmentViewsFn = (views: RGBImage[]) => Promise<Array<ViewSegmentation | undefined>>;

/** A volume's segmentation in its own voxel grid. */
export interface VolumeSegmentation {
  /** [nx, ny, nz] of the input (x fastest). */
  dims: [number, number, number];
  affine: Affine;
  probability: Float32Array;
  /** 0/1 per voxel. */
  mask: Uint8Array;
  maskVoxels: number;
  /** Slices segmented, along the normal of the chosen plane. */
  slices: number;
  /** The one window every slice was viewed with. */
  window: { center: number; width: number; source: string };
  /** The slice with the most mask voxels (nearest the middle on ties, e.g. an empty mask): for the PNGs people look at. */
  shown: { index: number; input: DenseInput; segmentation: ViewSegmentation };
  /** Slices the segmenter could not take; their voxels stay 0. */
  skipped: number[];
}

/** Segment every slice of `input` along its view's normal with `segment`, `batch` slices per call. */
export async function segmentVolume(
  input: DenseInput, view: ViewOptions, segment: SegmentViewsFn, opts: { batch?: number; onProgress?: ProgressFn } = {},
): Promise<VolumeSegmentation> {
  const { slices, dims, affine } = volumeTarget(input, view);
  const probability = new Float32Array(dims[0] * dims[1] * dims[2]);
  const mask = new Uint8Array(probability.length);
  const skipped: number[] = [];
  const middle = Math.floor(slices.count / 2);
  let best: { index: number; voxels: number; input: DenseInput; segmentation: ViewSegmentation } | undefined;
  let maskVoxels = 0;
  await overSlices(slices, opts.batch ?? 8, segment, (index, slice, seg) => {
    if (!seg) {
      skipped.push(index);
      return;
    }
    writeSliceInto(probability, input.image, slice.slice, seg.probability.data);
    writeSliceInto(mask, input.image, slice.slice, seg.mask.data);
    const voxels = seg.mask.data.reduce((a, v) => a + (v > 0 ? 1 : 0), 0);
    maskVoxels += voxels;
    // the fullest slice, else (no mask anywhere) the one nearest the middle
    if (!best || voxels > best.voxels || (voxels === best.voxels && Math.abs(index - middle) < Math.abs(best.index - middle))) {
      best = { index, voxels, input: slice, segmentation: seg };
    }
  }, (done, total) => opts.onProgress?.(done, total, input.file));
  if (!best) throw new OptionError('E_BAD_OPTION', `${input.file}: the segmenter could take none of its ${slices.count} slices`, { file: input.file });
  return {
    dims, affine, probability, mask, maskVoxels, slices: slices.count, window: slices.window, skipped,
    shown: { index: best.index, input: best.input, segmentation: best.segmentation },
  };
}
