/**
 * One input made ready for a dense task: decoded once, its model view with the slice decisions, so a
 * map made on the view can go back into the input's geometry (NIfTI in → NIfTI out with its affine).
 */
import { decodeInput, type ImageInput } from '../io/image-input.js';
import type { MedicalImage, RGBImage } from '../io/types.js';
import type { Affine } from '../io/nifti-affine.js';
import { placeInVolume } from '../transforms/dense-geometry.js';
import { toModelViewDetailed, type ViewOptions } from '../transforms/index.js';

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
 * A map over the view as a volume in the input's voxel grid, with the input's affine (NIfTI inputs), or
 * a 1-slice volume with a pixel-spacing affine for other inputs.
 */
export function mapInInputGeometry(input: DenseInput, map: ArrayLike<number>): { data: Float32Array; dims: [number, number, number]; affine: Affine } {
  const img = input.image;
  if (img.format === 'nifti' && Array.isArray(img.meta.affine)) {
    return { data: placeInVolume(img, input.slice, map), dims: [img.width, img.height, img.depth], affine: img.meta.affine as Affine };
  }
  const s = input.slice;
  const [sx, sy] = s.spacing;
  return {
    data: Float32Array.from(map),
    dims: [s.width, s.height, 1],
    affine: [[sx, 0, 0, 0], [0, sy, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
  };
}
