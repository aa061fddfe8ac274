/**
 * A minimal NIfTI-1 writer for tests that must run without nibabel or real data (bad-input tests,
 * header edge cases). Writes a little-endian single-file `.nii` with an sform.
 */

/** What {@link writeNifti1} puts into the file. */
export interface SynthNifti1 {
  /** dim[1..] (at most 7). */
  dims: number[];
  /** NIfTI datatype code (2 uint8, 4 int16, 16 float32, ...). */
  datatype: number;
  /** Voxel values already encoded in the datatype, in file order. */
  data: ArrayBufferView;
  pixdim?: number[];
  /** 3 rows of 4 (srow_x, srow_y, srow_z); written with sform_code 1. */
  srows?: number[][];
  sclSlope?: number;
  sclInter?: number;
}

const BITPIX: Record<number, number> = { 2: 8, 4: 16, 8: 32, 16: 32, 64: 64, 128: 24, 256: 8, 512: 16, 768: 32 };

/** Encode a NIfTI-1 `.nii` (header 348 bytes, 4 extension bytes, data from offset 352). */
export function writeNifti1(spec: SynthNifti1): Uint8Array {
  const dataBytes = new Uint8Array(spec.data.buffer, spec.data.byteOffset, spec.data.byteLength);
  const out = new Uint8Array(352 + dataBytes.length);
  const v = new DataView(out.buffer);
  v.setInt32(0, 348, true);
  v.setInt16(40, spec.dims.length, true);
  spec.dims.forEach((d, i) => v.setInt16(42 + 2 * i, d, true));
  for (let i = spec.dims.length; i < 7; i++) v.setInt16(42 + 2 * i, 1, true);
  v.setInt16(70, spec.datatype, true);
  v.setInt16(72, BITPIX[spec.datatype] ?? 8, true);
  const pixdim = spec.pixdim ?? spec.dims.map(() => 1);
  v.setFloat32(76, 1, true);
  pixdim.forEach((p, i) => v.setFloat32(80 + 4 * i, p, true));
  v.setFloat32(108, 352, true);
  v.setFloat32(112, spec.sclSlope ?? 1, true);
  v.setFloat32(116, spec.sclInter ?? 0, true);
  v.setUint8(123, 2 | 8); // mm, s
  if (spec.srows) {
    v.setInt16(254, 1, true);
    spec.srows.forEach((row, r) => row.forEach((x, c) => v.setFloat32(280 + (r * 4 + c) * 4, x, true)));
  }
  out.set([0x6e, 0x2b, 0x31, 0], 344);
  out.set(dataBytes, 352);
  return out;
}
