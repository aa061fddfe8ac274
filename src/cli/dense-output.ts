/** Writing dense results the user asked for: a map or mask by file extension (.png, .npy, .nii, .nii.gz) plus an overlay PNG. */
import { gzipSync } from 'node:zlib';
import { OptionError } from '../core/errors.js';
import { encodeMapNpy, encodeMapPng, encodeNiftiFloat32, encodeNiftiUint8, encodeOverlayPng, type FloatMap } from '../io/dense-write.js';
import { encodeNpyUint8 } from '../io/npy.js';
import type { Affine } from '../io/nifti-affine.js';
import { mapInInputGeometry, type DenseInput } from '../tasks/dense-input.js';
import { writeOutput } from './output.js';

/** Output formats by extension. */
export const MAP_EXTENSIONS = ['.png', '.npy', '.nii', '.nii.gz'] as const;

/** The format of an output path, or E_BAD_OPTION naming the option. */
export function mapFormat(path: string, option: string): (typeof MAP_EXTENSIONS)[number] {
  const lower = path.toLowerCase();
  const ext = MAP_EXTENSIONS.find((e) => lower.endsWith(e) && !(e === '.nii' && lower.endsWith('.nii.gz')));
  if (!ext) throw new OptionError('E_BAD_OPTION', `${option} ${path}: expected a name ending in ${MAP_EXTENSIONS.join(', ')}`, { option: option.replace(/^--/, '') });
  return lower.endsWith('.nii.gz') ? '.nii.gz' : ext;
}

/**
 * Write `map` (over the input's view) to `path`: PNG as 8-bit grey of `display` (0..1), NPY as float32
 * [height, width] of `map`, NIfTI as float32 of `map` in the input's voxel grid and affine.
 */
export async function writeMap(path: string, input: DenseInput, map: FloatMap, display: FloatMap, force: boolean): Promise<void> {
  const fmt = mapFormat(path, '--out');
  if (fmt === '.png') return writeOutput(path, await encodeMapPng(display), force);
  if (fmt === '.npy') return writeOutput(path, encodeMapNpy(map), force);
  const g = mapInInputGeometry(input, map.data);
  return writeNifti(path, g.data, g.dims, g.affine, force);
}

/**
 * Write a volume as NIfTI-1 (`.nii`, or gzipped for `.nii.gz`) with `affine`: uint8 for a `Uint8Array` (a 0/1
 * mask), else float32 with `description`.
 */
export function writeNifti(path: string, data: Float32Array | Uint8Array, dims: [number, number, number], affine: Affine, force: boolean, description?: string): Promise<void> {
  const nii = data instanceof Uint8Array ? encodeNiftiUint8(data, dims, affine) : encodeNiftiFloat32(data, dims, affine, description);
  return writeOutput(path, /\.gz$/i.test(path) ? new Uint8Array(gzipSync(nii)) : nii, force);
}

/**
 * Write a 0/1 `mask` (over the input's view) to `path`: PNG as 0/255 grey, NPY as uint8 [height, width],
 * NIfTI as uint8 in the input's voxel grid and affine.
 */
export async function writeMask(path: string, input: DenseInput, mask: FloatMap, force: boolean): Promise<void> {
  const fmt = mapFormat(path, '--format');
  if (fmt === '.png') return writeOutput(path, await encodeMapPng(mask), force);
  const bits = Uint8Array.from(mask.data, (v) => (v > 0 ? 1 : 0));
  if (fmt === '.npy') return writeOutput(path, encodeNpyUint8(bits, mask.height, mask.width), force);
  const g = mapInInputGeometry<Uint8Array>(input, bits, 'uint8');
  return writeNifti(path, g.data, g.dims, g.affine, force);
}

/** Write the overlay PNG of `display` (0..1) over the view, with `contour` drawn when given. */
export async function writeOverlay(path: string, input: DenseInput, display: FloatMap, force: boolean, contour?: FloatMap): Promise<void> {
  await writeOutput(path, await encodeOverlayPng(input.view, display, contour ? { contour } : {}), force);
}

/** `dir/stem` + suffix for an input file name (no folders, no extension). */
export function stemOf(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.nii\.gz$/i, '').replace(/\.[^.]+$/, '');
}
