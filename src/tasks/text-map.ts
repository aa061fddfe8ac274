/**
 * A text-to-image similarity map of one view: the cosine similarity (dot product of unit vectors) of the
 * text's embedding with the view's patch (or window) embeddings, at the view's size. The one place the
 * CLI's `map` and the server's `/v1/map` make it.
 */
import { dot } from '../core/vectors.js';
import type { DualEncoder, RGBImage } from '../models/capabilities.js';
import type { Affine } from '../io/nifti-affine.js';
import type { ViewOptions } from '../transforms/index.js';
import { mapEverySlice, type DenseInput, type VolumeSlices } from './dense-input.js';
import { denseMaps, type DenseMap, type DenseMapOptions } from './dense-map.js';

/** The similarity map of `view` for `text`. */
export async function textMap(encoder: DualEncoder, view: RGBImage, text: string, opts: DenseMapOptions = {}): Promise<DenseMap> {
  const [t] = await encoder.encodeTexts([text]);
  const [map] = await denseMaps(encoder, [view], (e) => dot(e, t), opts);
  return map;
}

/** Smallest and largest value of a map. */
export function mapRange(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    lo = Math.min(lo, data[i]);
    hi = Math.max(hi, data[i]);
  }
  return [lo, hi];
}

/** A text map over every slice of a volume, in the input's voxel grid. */
export interface VolumeMap {
  dims: [number, number, number];
  affine: Affine;
  /** Cosine similarity per voxel. */
  data: Float32Array;
  slices: number;
  method: DenseMap['method'];
  /** The one window every slice was viewed with. */
  window: VolumeSlices['window'];
  /** The slice holding the map's maximum: for the overlay people look at. */
  shown: { index: number; input: DenseInput; map: DenseMap };
}

/** The similarity map of every slice of `input` for `text`, `batch` slices per model call. */
export async function textMapVolume(
  encoder: DualEncoder, input: DenseInput, view: ViewOptions, text: string, opts: DenseMapOptions & { batch?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<VolumeMap> {
  const [t] = await encoder.encodeTexts([text]);
  let shown: VolumeMap['shown'] | undefined;
  let peak = -Infinity;
  const mapOpts: DenseMapOptions = { ...(opts.method ? { method: opts.method } : {}), ...(opts.windowScales ? { windowScales: opts.windowScales } : {}) };
  const vol = await mapEverySlice(input, view, (views) => denseMaps(encoder, views, (e) => dot(e, t), mapOpts), (map) => map.data, (index, slice, map) => {
    const [, hi] = mapRange(map.data);
    if (hi > peak) {
      peak = hi;
      shown = { index, input: slice, map };
    }
  }, opts);
  const s = shown!;
  return { dims: vol.dims, affine: vol.affine, data: vol.data, slices: vol.slices.count, method: s.map.method, window: vol.slices.window, shown: s };
}
