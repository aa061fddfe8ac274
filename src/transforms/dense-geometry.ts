/**
 * Putting a 2D map made on a model view back into the input's own voxel grid: the inverse of
 * `selectSlice` (same axes and flips, from the slice's `meta.slice`), so that a map written as NIfTI has
 * the input's dims and affine and overlays it voxel for voxel.
 */
import type { MedicalImage } from '../io/types.js';
import type { SliceInfo } from './slice.js';

/**
 * Write `map` (row-major over the view `slice`) into `volume` (dims of `image`, x fastest) on the voxels the
 * view came from; the other voxels are left as they are. A view without slice decisions fills from the start.
 */
export function writeSliceInto(volume: Float32Array | Uint8Array, image: MedicalImage, slice: MedicalImage, map: ArrayLike<number>): void {
  const info = slice.meta.slice as SliceInfo | undefined;
  if (!info) {
    copyPrefix(volume, map);
    return;
  }
  const dims = [image.width, image.height, image.depth];
  const stride = [1, image.width, image.width * image.height];
  const W = dims[info.columnAxis];
  const H = dims[info.rowAxis];
  const base = info.index * stride[info.normalAxis];
  for (let r = 0; r < H; r++) {
    const rowBase = base + (info.flipRows ? H - 1 - r : r) * stride[info.rowAxis];
    for (let c = 0; c < W; c++) volume[rowBase + (info.flipColumns ? W - 1 - c : c) * stride[info.columnAxis]] = map[r * W + c];
  }
}

/** Copy the first `volume.length` values of `map` into `volume` (no intermediate arrays: maps can be 12 MP). */
export function copyPrefix(volume: Float32Array | Uint8Array, map: ArrayLike<number>): void {
  const n = Math.min(volume.length, map.length);
  for (let i = 0; i < n; i++) volume[i] = map[i];
}
