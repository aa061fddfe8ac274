/**
 * NIfTI-1 and NIfTI-2 reader (`.nii`, `.nii.gz`), single-file form only (magic `n+1` / `n+2`).
 *
 * Header fields are parsed by nifti-reader-js; the voxel-to-world affine is computed here with
 * nibabel's rules (`get_best_affine`): the sform when sform_code > 0, else the qform (quaternion,
 * qfac from pixdim[0]) when qform_code > 0, else NIfTI "method 1": diag(pixdim), origin 0.
 * (nibabel's own fallback is a centred, x-flipped Analyze affine; the NIfTI-1 standard says
 * method 1, which is what this reader does: orientation is then only nominal, see `meta.affineSource`.)
 *
 * World coordinates are NIfTI's RAS+ (x to the patient's Right, y Anterior, z Superior), in mm.
 */
import { NIFTI1, NIFTI2, readHeader } from 'nifti-reader-js';
import { inputError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { gunzipFile, gunzipPrefix, isGzip } from './gzip.js';
import { affineToAxisCodes, qformAffine, type Affine } from './nifti-affine.js';
export { affineToAxisCodes, qformAffine, type Affine } from './nifti-affine.js';
import type { MedicalImage } from './types.js';

/** A 4x4 affine as rows. */

type TypedArrayOf = (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number> | BigInt64Array | BigUint64Array;

interface DatatypeInfo {
  name: string;
  bytes: number;
  channels: 1 | 3;
  /** A little-endian typed view over a buffer of samples. */
  view: TypedArrayOf;
}

/** NIfTI datatype codes this reader decodes (nifti1.h). */
const DATATYPES: Record<number, DatatypeInfo> = {
  2: { name: 'uint8', bytes: 1, channels: 1, view: (b, o, n) => new Uint8Array(b, o, n) },
  4: { name: 'int16', bytes: 2, channels: 1, view: (b, o, n) => new Int16Array(b, o, n) },
  8: { name: 'int32', bytes: 4, channels: 1, view: (b, o, n) => new Int32Array(b, o, n) },
  16: { name: 'float32', bytes: 4, channels: 1, view: (b, o, n) => new Float32Array(b, o, n) },
  64: { name: 'float64', bytes: 8, channels: 1, view: (b, o, n) => new Float64Array(b, o, n) },
  128: { name: 'rgb24', bytes: 1, channels: 3, view: (b, o, n) => new Uint8Array(b, o, n) },
  256: { name: 'int8', bytes: 1, channels: 1, view: (b, o, n) => new Int8Array(b, o, n) },
  512: { name: 'uint16', bytes: 2, channels: 1, view: (b, o, n) => new Uint16Array(b, o, n) },
  768: { name: 'uint32', bytes: 4, channels: 1, view: (b, o, n) => new Uint32Array(b, o, n) },
  1024: { name: 'int64', bytes: 8, channels: 1, view: (b, o, n) => new BigInt64Array(b, o, n) },
  1280: { name: 'uint64', bytes: 8, channels: 1, view: (b, o, n) => new BigUint64Array(b, o, n) },
};

/** True on little-endian hosts (typed arrays use the host's byte order). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Samples of the data region as plain numbers, converted from the file's byte order. */
function decodeSamples(raw: Uint8Array, plan: DataPlan, fileLittleEndian: boolean): ArrayLike<number> | BigInt64Array | BigUint64Array {
  const size = plan.dtype.bytes;
  const start = raw.byteOffset + plan.offset;
  if (start % size === 0 && (size === 1 || fileLittleEndian === HOST_LITTLE_ENDIAN)) {
    return plan.dtype.view(raw.buffer, start, (plan.end - plan.offset) / size);
  }
  const bytes = new Uint8Array(plan.end - plan.offset); // aligned copy
  bytes.set(raw.subarray(plan.offset, plan.end));
  if (size > 1 && fileLittleEndian !== HOST_LITTLE_ENDIAN) {
    for (let o = 0; o < bytes.length; o += size) bytes.subarray(o, o + size).reverse();
  }
  return plan.dtype.view(bytes.buffer, 0, bytes.length / size);
}

const SPACE_UNITS: Record<number, { name: string; toMm: number }> = {
  0: { name: 'unknown', toMm: 1 },
  1: { name: 'm', toMm: 1000 },
  2: { name: 'mm', toMm: 1 },
  3: { name: 'um', toMm: 0.001 },
};
const TIME_UNITS: Record<number, string> = { 0: 'unknown', 8: 's', 16: 'ms', 24: 'us', 32: 'Hz', 40: 'ppm', 48: 'rad/s' };

interface RawHeaderFacts {
  version: 1 | 2;
  littleEndian: boolean;
  headerSize: number;
  magic: string;
  voxOffset: number;
  /** dim[0..7] read as plain numbers (NIfTI-2: int64). */
  dims: number[];
  datatype: number;
}

/**
 * True when `bytes` starts with an uncompressed single-file NIfTI header: sizeof_hdr 348 (NIfTI-1)
 * or 540 (NIfTI-2) in either byte order, and the matching magic (`n+1` / `n+2`).
 */
export function isNifti(bytes: Uint8Array): boolean {
  try {
    return sniffHeader(bytes) !== null;
  } catch {
    return false;
  }
}

/** Read sizeof_hdr, magic, dims, datatype and vox_offset; null when this is no NIfTI header. */
function sniffHeader(bytes: Uint8Array): RawHeaderFacts | null {
  if (bytes.length < 348) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === 348) {
      const magic = ascii(bytes, 344, 4);
      if (magic !== 'n+1' && magic !== 'ni1') continue;
      const dims = Array.from({ length: 8 }, (_, i) => view.getInt16(40 + 2 * i, littleEndian));
      return {
        version: 1,
        littleEndian,
        headerSize: 348,
        magic,
        voxOffset: view.getFloat32(108, littleEndian),
        dims,
        datatype: view.getInt16(70, littleEndian),
      };
    }
    if (size === 540 && bytes.length >= 540) {
      const magic = ascii(bytes, 4, 8);
      if (magic !== 'n+2' && magic !== 'ni2') continue;
      const dims = Array.from({ length: 8 }, (_, i) => Number(view.getBigInt64(16 + 8 * i, littleEndian)));
      return {
        version: 2,
        littleEndian,
        headerSize: 540,
        magic,
        voxOffset: Number(view.getBigInt64(168, littleEndian)),
        dims,
        datatype: view.getInt16(12, littleEndian),
      };
    }
  }
  return null;
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  let s = '';
  for (let i = start; i < start + length && i < bytes.length; i++) {
    if (bytes[i] === 0) break;
    s += String.fromCharCode(bytes[i]);
  }
  return s;
}

/** Explain why a buffer is not a NIfTI header (for E_NIFTI_INVALID messages). */
function describeBadHeader(bytes: Uint8Array): string {
  if (bytes.length < 348) return `is too short for a NIfTI header (${bytes.length} bytes, need at least 348)`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = view.getInt32(0, true);
  const be = view.getInt32(0, false);
  if (![348, 540].includes(le) && ![348, 540].includes(be)) {
    return `has header size ${le} (expected sizeof_hdr 348 for NIfTI-1 or 540 for NIfTI-2)`;
  }
  if (le === 540 || be === 540) {
    return bytes.length < 540 ? 'is too short for a NIfTI-2 header (need 540 bytes)' : `has no NIfTI-2 magic "n+2"`;
  }
  return 'has no NIfTI-1 magic "n+1" (an Analyze 7.5 file?)';
}

/**
 * Read a NIfTI-1/NIfTI-2 image, gzipped or not.
 *
 * Values are `scl_slope * stored + scl_inter` (no scaling when slope is 0 or not finite, as in
 * nibabel), as Float32. Layout: x = i fastest, then j, k, t (see {@link MedicalImage}); dims 5-7
 * are folded into `timepoints`. RGB24 gives channels 3.
 *
 * @throws InputError E_GZIP_INVALID (a `.gz` name whose bytes are not gzip, corrupt gzip),
 *   E_NIFTI_INVALID (bad header size/magic, bad dims, unsupported datatype, truncated data),
 *   E_IMAGE_TOO_LARGE (dims beyond {@link LIMITS}, checked before allocating)
 */
export async function readNifti(bytes: Uint8Array, source: string): Promise<MedicalImage> {
  let raw = bytes;
  const gz = isGzip(bytes);
  if (!gz && /\.gz$/i.test(source)) {
    throw inputError('E_GZIP_INVALID', source, 'has a .gz name but is not gzip-compressed data');
  }
  if (gz) {
    const head = gunzipPrefix(bytes, source);
    const facts = requireHeader(head, source);
    const plan = planData(facts, source);
    raw = gunzipFile(bytes, source, plan.end + 64 * 1024 * 1024);
  }
  const facts = requireHeader(raw, source);
  const plan = planData(facts, source);
  if (raw.length < plan.end) {
    throw inputError(
      'E_NIFTI_INVALID',
      source,
      `is truncated: the header describes ${plan.end - plan.offset} bytes of voxel data from offset ${plan.offset}, ` +
        `but the file has ${Math.max(0, raw.length - plan.offset)}`,
    );
  }
  return decode(raw, facts, plan, source);
}

function requireHeader(bytes: Uint8Array, source: string): RawHeaderFacts {
  const facts = sniffHeader(bytes);
  if (!facts) throw inputError('E_NIFTI_INVALID', source, describeBadHeader(bytes));
  if (facts.magic === 'ni1' || facts.magic === 'ni2') {
    throw inputError('E_NIFTI_INVALID', source, 'is the header of a .hdr/.img pair; only single-file .nii/.nii.gz is supported');
  }
  return facts;
}

interface DataPlan {
  dtype: DatatypeInfo;
  ndim: number;
  /** dim[1..ndim] */
  shape: number[];
  width: number;
  height: number;
  depth: number;
  timepoints: number;
  offset: number;
  end: number;
}

/** Validate dims/datatype/offset and work out sizes, before any large allocation. */
function planData(f: RawHeaderFacts, source: string): DataPlan {
  const ndim = f.dims[0];
  if (!Number.isInteger(ndim) || ndim < 1 || ndim > 7) {
    throw inputError('E_NIFTI_INVALID', source, `has dim[0] = ${ndim} (must be 1..7)`);
  }
  const shape = f.dims.slice(1, ndim + 1);
  const bad = shape.findIndex((d) => !Number.isSafeInteger(d) || d < 1);
  if (bad >= 0) throw inputError('E_NIFTI_INVALID', source, `has dim[${bad + 1}] = ${shape[bad]} (must be >= 1)`);
  const dtype = DATATYPES[f.datatype];
  if (!dtype) {
    const names = Object.values(DATATYPES).map((d) => d.name).join(', ');
    throw inputError('E_NIFTI_INVALID', source, `has datatype code ${f.datatype}, which medvlm does not read (supported: ${names})`);
  }
  const [width, height = 1, depth = 1] = shape;
  const timepoints = shape.slice(3).reduce((a, b) => a * b, 1);
  const samples = width * height * depth * timepoints * dtype.channels;
  if (width * height > LIMITS.maxPixelsPerFrame || samples > LIMITS.maxTotalSamples) {
    throw inputError(
      'E_IMAGE_TOO_LARGE',
      source,
      `claims ${shape.join('x')} voxels (${samples} samples), more than medvlm reads ` +
        `(${LIMITS.maxPixelsPerFrame} per slice, ${LIMITS.maxTotalSamples} in total)`,
    );
  }
  const minOffset = f.headerSize + 4;
  if (!Number.isFinite(f.voxOffset) || f.voxOffset < minOffset) {
    throw inputError('E_NIFTI_INVALID', source, `has vox_offset ${f.voxOffset} (must be >= ${minOffset} in a .nii file)`);
  }
  const offset = Math.floor(f.voxOffset);
  const end = offset + samples * dtype.bytes;
  return { dtype, ndim, shape, width, height, depth, timepoints, offset, end };
}

function decode(raw: Uint8Array, f: RawHeaderFacts, plan: DataPlan, source: string): MedicalImage {
  // A copy: `raw` may be a Node Buffer, whose .slice() is a view into a shared pool.
  const headerCopy = new Uint8Array(f.headerSize);
  headerCopy.set(raw.subarray(0, f.headerSize));
  let hdr: NIFTI1 | NIFTI2;
  try {
    hdr = readHeader(headerCopy.buffer);
  } catch (e) {
    throw inputError('E_NIFTI_INVALID', source, `has an unreadable header (${e instanceof Error ? e.message : String(e)})`, e);
  }
  const { slope, inter } = scaling(hdr, plan.dtype, source);
  const le = f.littleEndian;
  const samples = decodeSamples(raw, plan, le);
  const n = samples.length;
  const data = new Float32Array(n);
  if (samples instanceof BigInt64Array || samples instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) data[i] = Number(samples[i]) * slope + inter;
  } else if (slope === 1 && inter === 0) {
    data.set(samples);
  } else {
    for (let i = 0; i < n; i++) data[i] = samples[i] * slope + inter;
  }

  const spaceUnit = SPACE_UNITS[hdr.xyzt_units & 0x07] ?? SPACE_UNITS[0];
  const timeUnit = TIME_UNITS[hdr.xyzt_units & 0x38] ?? 'unknown';
  const { affine, source: affineSource } = bestAffine(hdr, f, raw);
  const mm = scaleAffine(affine, spaceUnit.toMm);
  const zooms = [0, 1, 2].map((c) => Math.hypot(mm[0][c], mm[1][c], mm[2][c]));
  const pixdimMm = [1, 2, 3].map((i) => Math.abs(hdr.pixDims[i] || 0) * spaceUnit.toMm);
  const spacing = [0, 1, 2].map((i) => (i < plan.ndim && pixdimMm[i] > 0 ? pixdimMm[i] : 1)) as [number, number, number];
  const direction: number[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) direction.push(zooms[c] > 0 ? mm[r][c] / zooms[c] : r === c ? 1 : 0);

  const description = (hdr.description ?? '').trim();
  return {
    source,
    format: 'nifti',
    data,
    width: plan.width,
    height: plan.height,
    depth: plan.depth,
    timepoints: plan.timepoints,
    channels: plan.dtype.channels,
    shape: plan.shape,
    spacing,
    origin: [mm[0][3], mm[1][3], mm[2][3]],
    direction,
    orientation: affineToAxisCodes(mm),
    photometric: plan.dtype.channels === 3 ? 'RGB' : 'MONOCHROME2',
    invertForDisplay: false,
    windows: calWindow(hdr),
    meta: {
      niftiVersion: f.version,
      datatype: plan.dtype.name,
      datatypeCode: f.datatype,
      byteOrder: le ? 'little' : 'big',
      sclSlope: hdr.scl_slope,
      sclInter: hdr.scl_inter,
      qformCode: hdr.qform_code,
      sformCode: hdr.sform_code,
      affineSource,
      affine: mm,
      worldCoordinates: 'RAS',
      units: { space: spaceUnit.name, time: timeUnit },
      pixdim: hdr.pixDims.slice(0, plan.ndim + 1),
      intentCode: hdr.intent_code,
      ...(description ? { descrip: description } : {}),
    },
    phi: {},
  };
}

/** nibabel's rule: slope 0 or non-finite means no scaling; RGB is never scaled. */
function scaling(hdr: NIFTI1 | NIFTI2, dtype: DatatypeInfo, source: string): { slope: number; inter: number } {
  const slope = hdr.scl_slope;
  const inter = hdr.scl_inter;
  if (dtype.channels === 3 || slope === 0 || !Number.isFinite(slope)) return { slope: 1, inter: 0 };
  if (!Number.isFinite(inter)) {
    throw inputError('E_NIFTI_INVALID', source, `has scl_slope ${slope} but a non-finite scl_inter ${inter}`);
  }
  return { slope, inter };
}

/** cal_min/cal_max as a display window when the file sets a real range. */
function calWindow(hdr: NIFTI1 | NIFTI2): MedicalImage['windows'] {
  const lo = hdr.cal_min;
  const hi = hdr.cal_max;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) return [];
  return [{ center: (lo + hi) / 2 + 0.5, width: hi - lo + 1, source: 'cal_min/cal_max' }];
}

/** The affine nibabel's `get_best_affine` would pick (method 1 instead of nibabel's Analyze fallback). */
function bestAffine(hdr: NIFTI1 | NIFTI2, f: RawHeaderFacts, raw: Uint8Array): { affine: Affine; source: string } {
  if (hdr.sform_code > 0) return { affine: readSrows(raw, f), source: 'sform' };
  if (hdr.qform_code > 0) {
    return {
      affine: qformAffine(
        [hdr.quatern_b, hdr.quatern_c, hdr.quatern_d],
        [hdr.qoffset_x, hdr.qoffset_y, hdr.qoffset_z],
        hdr.pixDims,
      ),
      source: 'qform',
    };
  }
  const p = [1, 2, 3].map((i) => hdr.pixDims[i] || 1);
  return {
    affine: [
      [p[0], 0, 0, 0],
      [0, p[1], 0, 0],
      [0, 0, p[2], 0],
      [0, 0, 0, 1],
    ],
    source: 'pixdim',
  };
}

function readSrows(raw: Uint8Array, f: RawHeaderFacts): Affine {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const rows: Affine = [];
  for (let r = 0; r < 3; r++) {
    const row: number[] = [];
    for (let c = 0; c < 4; c++) {
      row.push(
        f.version === 1
          ? view.getFloat32(280 + (r * 4 + c) * 4, f.littleEndian)
          : view.getFloat64(400 + (r * 4 + c) * 8, f.littleEndian),
      );
    }
    rows.push(row);
  }
  rows.push([0, 0, 0, 1]);
  return rows;
}

function scaleAffine(a: Affine, k: number): Affine {
  if (k === 1) return a.map((r) => r.slice());
  return a.map((r, i) => (i < 3 ? r.map((v) => v * k) : r.slice()));
}
