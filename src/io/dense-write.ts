/**
 * Writers for dense outputs (probability/similarity maps and binary masks): 8-bit grey PNG, overlay PNG
 * (a colour ramp blended over the view), 2D float32 NPY, and float32 NIfTI-1 with a given voxel-to-world
 * affine (sform and qform codes 2 = aligned, units mm), readable by nibabel. Pure encoders returning bytes;
 * callers write them with the one atomic writer.
 */
import sharp from 'sharp';
import { hotColour } from './colour-ramp.js';
import { encodeNpyFloat32 } from './npy.js';
import { encodeRgbPng } from './png-encode.js';
import type { Affine } from './nifti-affine.js';
import type { RGBImage } from './types.js';

/** A row-major single-channel float map. */
export interface FloatMap {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

async function png(raw: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Uint8Array> {
  let img = sharp(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), { raw: { width, height, channels } });
  if (channels === 1) img = img.toColourspace('b-w'); // else libvips writes the one channel as RGB
  const buf = await img.png({ compressionLevel: 6 }).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Grey PNG of a map whose values lie in 0..1 (clamped; 1 → 255). A binary mask gives 0/255. */
export function encodeMapPng(map: FloatMap): Promise<Uint8Array> {
  const out = new Uint8Array(map.width * map.height);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, map.data[i])) * 255);
  return png(out, map.width, map.height, 1);
}

export { encodeRgbPng };

export { hotColour };

/**
 * Overlay PNG: `view` with the 0..1 map blended in the hot ramp at `opacity` × value (so low values stay
 * see-through), and, when `contour` is given, that binary mask's boundary drawn in green.
 */
export function encodeOverlayPng(view: RGBImage, map: FloatMap, opts: { opacity?: number; contour?: FloatMap } = {}): Promise<Uint8Array> {
  const { width: w, height: h } = view;
  if (map.width !== w || map.height !== h) throw new RangeError(`overlay: map ${map.width}x${map.height} differs from view ${w}x${h}`);
  const opacity = opts.opacity ?? 0.6;
  const out = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const t = Math.min(1, Math.max(0, map.data[i]));
    const a = opacity * t;
    const c = hotColour(t);
    for (let k = 0; k < 3; k++) out[i * 3 + k] = Math.round(view.data[i * 3 + k] * (1 - a) + c[k] * a);
  }
  const m = opts.contour;
  if (m) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if (!m.data[i]) continue;
        const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || !m.data[i - 1] || !m.data[i + 1] || !m.data[i - w] || !m.data[i + w];
        if (edge) out.set([0, 255, 0], i * 3);
      }
    }
  }
  return png(out, w, h, 3);
}

/** NPY (float32, shape [height, width]) of a map. */
export function encodeMapNpy(map: FloatMap): Uint8Array {
  const rows: Float32Array[] = [];
  for (let y = 0; y < map.height; y++) rows.push(Float32Array.from({ length: map.width }, (_, x) => map.data[y * map.width + x]));
  return encodeNpyFloat32(rows, map.width);
}

/**
 * A float32 NIfTI-1 (.nii; gzip it for .nii.gz) of a volume `dims` = [nx, ny, nz] (x fastest), with
 * `affine` (voxel → world in mm, 4x4 rows) as both the sform and the qform (codes 2, aligned).
 */
export function encodeNiftiFloat32(data: Float32Array, dims: [number, number, number], affine: Affine, description = 'medvlm map'): Uint8Array {
  return encodeNifti(data, dims, affine, description);
}

/** A uint8 NIfTI-1 of a label volume (a 0/1 mask), otherwise as {@link encodeNiftiFloat32}. */
export function encodeNiftiUint8(data: Uint8Array, dims: [number, number, number], affine: Affine, description = 'medvlm mask'): Uint8Array {
  return encodeNifti(data, dims, affine, description);
}

function encodeNifti(data: Float32Array | Uint8Array, dims: [number, number, number], affine: Affine, description: string): Uint8Array {
  const [nx, ny, nz] = dims;
  if (data.length !== nx * ny * nz) throw new RangeError(`NIfTI: ${data.length} values for dims ${dims.join('x')}`);
  const bytes = data instanceof Uint8Array ? 1 : 4;
  const out = new Uint8Array(352 + data.length * bytes);
  const v = new DataView(out.buffer);
  v.setInt32(0, 348, true);
  const ndim = nz > 1 ? 3 : 2;
  [ndim, nx, ny, nz, 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + i * 2, d, true));
  v.setInt16(70, bytes === 1 ? 2 : 16, true); // datatype UINT8 or FLOAT32
  v.setInt16(72, bytes * 8, true); // bitpix
  const zooms = [0, 1, 2].map((c) => Math.hypot(affine[0][c], affine[1][c], affine[2][c]) || 1);
  const det = affine[0][0] * (affine[1][1] * affine[2][2] - affine[1][2] * affine[2][1]) - affine[0][1] * (affine[1][0] * affine[2][2] - affine[1][2] * affine[2][0]) + affine[0][2] * (affine[1][0] * affine[2][1] - affine[1][1] * affine[2][0]);
  const qfac = det < 0 ? -1 : 1;
  [qfac, zooms[0], zooms[1], zooms[2], 1, 1, 1, 1].forEach((d, i) => v.setFloat32(76 + i * 4, d, true));
  v.setFloat32(108, 352, true); // vox_offset
  v.setFloat32(112, 1, true); // scl_slope
  v.setFloat32(116, 0, true); // scl_inter
  out[123] = 2 | 8; // xyzt_units: mm, s
  for (let i = 0; i < Math.min(79, description.length); i++) out[148 + i] = description.charCodeAt(i) & 0x7f;
  v.setInt16(252, 2, true); // qform_code aligned
  v.setInt16(254, 2, true); // sform_code aligned
  const q = quaternion(affine, zooms, qfac);
  [q.b, q.c, q.d, affine[0][3], affine[1][3], affine[2][3]].forEach((d, i) => v.setFloat32(256 + i * 4, d, true));
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat32(280 + r * 16 + c * 4, affine[r][c], true);
  for (let i = 0; i < 4; i++) out[344 + i] = 'n+1\0'.charCodeAt(i);
  if (data instanceof Uint8Array) out.set(data, 352);
  else for (let i = 0; i < data.length; i++) v.setFloat32(352 + i * 4, data[i], true);
  return out;
}

/** qform quaternion (b, c, d) of the rotation part of `affine` (nibabel's mat2quat on the normalised matrix). */
function quaternion(affine: Affine, zooms: number[], qfac: number): { b: number; c: number; d: number } {
  const R = [0, 1, 2].map((r) => [0, 1, 2].map((c) => affine[r][c] / zooms[c] * (c === 2 ? qfac : 1)));
  const [[r11, r12, r13], [r21, r22, r23], [r31, r32, r33]] = R;
  const a = 0.5 * Math.sqrt(Math.max(0, 1 + r11 + r22 + r33));
  if (a > 1e-4) return { b: (r32 - r23) / (4 * a), c: (r13 - r31) / (4 * a), d: (r21 - r12) / (4 * a) };
  // a ≈ 0: 180° rotation; take the largest diagonal term
  const b = 0.5 * Math.sqrt(Math.max(0, 1 + r11 - r22 - r33));
  if (b > 1e-4) return { b, c: (r12 + r21) / (4 * b), d: (r13 + r31) / (4 * b) };
  const c = 0.5 * Math.sqrt(Math.max(0, 1 - r11 + r22 - r33));
  if (c > 1e-4) return { b: (r12 + r21) / (4 * c), c, d: (r23 + r32) / (4 * c) };
  const d = 0.5 * Math.sqrt(Math.max(0, 1 - r11 - r22 + r33));
  return { b: (r13 + r31) / (4 * d), c: (r23 + r32) / (4 * d), d };
}
