/** Small in-memory MedicalImage builders for transform tests. */
import type { ImageFormat, MedicalImage } from '../../src/io/types.js';

/** A grey or colour image with the given data and geometry; everything else neutral. */
export function makeImage(p: {
  data: ArrayLike<number>;
  width: number;
  height: number;
  depth?: number;
  timepoints?: number;
  channels?: 1 | 3;
  format?: ImageFormat;
  orientation?: string;
  spacing?: [number, number, number];
  origin?: [number, number, number];
  direction?: number[];
  meta?: Record<string, unknown>;
  windows?: MedicalImage['windows'];
  invertForDisplay?: boolean;
}): MedicalImage {
  return {
    source: 'mem.img',
    format: p.format ?? 'png',
    data: Float32Array.from(p.data),
    width: p.width,
    height: p.height,
    depth: p.depth ?? 1,
    timepoints: p.timepoints ?? 1,
    channels: p.channels ?? 1,
    shape: [p.width, p.height, p.depth ?? 1],
    spacing: p.spacing ?? [1, 1, 1],
    origin: p.origin,
    direction: p.direction,
    orientation: p.orientation,
    photometric: p.invertForDisplay ? 'MONOCHROME1' : 'MONOCHROME2',
    invertForDisplay: p.invertForDisplay ?? false,
    windows: p.windows ?? [],
    meta: p.meta ?? {},
    phi: {},
  };
}

/** A volume whose voxel (i, j, k, t) holds i + 100 j + 10000 k + 1e6 t. */
export function codedVolume(w: number, h: number, d: number, t = 1): number[] {
  const out: number[] = [];
  for (let tt = 0; tt < t; tt++)
    for (let k = 0; k < d; k++) for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) out.push(i + 100 * j + 10000 * k + 1e6 * tt);
  return out;
}
