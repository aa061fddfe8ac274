/**
 * A text-to-image similarity map of one view: the cosine similarity (dot product of unit vectors) of the
 * text's embedding with the view's patch (or window) embeddings, at the view's size. The one place the
 * CLI's `map` and the server's `/v1/map` make it.
 */
import { dot } from '../core/vectors.js';
import type { DualEncoder, RGBImage } from '../models/capabilities.js';
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
