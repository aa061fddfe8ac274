/** Read the image-related attributes of a parsed DICOM data set. */
import type { DataSet } from 'dicom-parser';
import { inputError } from '../../core/errors.js';
import type { Window } from '../types.js';

/** The Image Pixel module attributes that decide how pixel data is laid out. */
export interface PixelAttributes {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  /** 0 colour-by-pixel (interleaved), 1 colour-by-plane. */
  planarConfiguration: number;
  photometric: string;
  frames: number;
}

/** Trimmed string value `index` of a tag, or undefined. */
export function str(ds: DataSet, tag: string, index?: number): string | undefined {
  const v = ds.string(tag, index);
  if (v === undefined) return undefined;
  const t = v.replace(/\0/g, '').trim();
  return t === '' ? undefined : t;
}

/** All numeric values of a DS/IS tag (multi-valued, backslash separated). */
export function numbers(ds: DataSet, tag: string): number[] {
  const raw = str(ds, tag);
  if (raw === undefined) return [];
  return raw.split('\\').map((s) => Number(s.trim())).filter((n) => Number.isFinite(n));
}

function usValue(ds: DataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length < 2) return undefined;
  return ds.uint16(tag);
}

/** Read the pixel attributes; throws E_DICOM_INVALID when a required one is missing or absurd. */
export function readPixelAttributes(ds: DataSet, source: string): PixelAttributes {
  const need = (tag: string, name: string): number => {
    const v = usValue(ds, tag);
    if (v === undefined) throw inputError('E_DICOM_INVALID', source, `pixel data present but ${name} is missing`);
    return v;
  };
  const rows = need('x00280010', 'Rows (0028,0010)');
  const columns = need('x00280011', 'Columns (0028,0011)');
  const bitsAllocated = need('x00280100', 'BitsAllocated (0028,0100)');
  const samplesPerPixel = usValue(ds, 'x00280002') ?? 1;
  const bitsStored = usValue(ds, 'x00280101') ?? bitsAllocated;
  const highBit = usValue(ds, 'x00280102') ?? bitsStored - 1;
  const pixelRepresentation = usValue(ds, 'x00280103') ?? 0;
  const planarConfiguration = usValue(ds, 'x00280006') ?? 0;
  const photometric = (str(ds, 'x00280004') ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')).toUpperCase();
  const framesRaw = str(ds, 'x00280008');
  const frames = framesRaw === undefined ? 1 : Math.trunc(Number(framesRaw));
  if (!Number.isFinite(frames) || frames < 1) {
    throw inputError('E_DICOM_INVALID', source, `NumberOfFrames (0028,0008) is "${framesRaw}", expected a positive integer`);
  }
  if (rows === 0 || columns === 0) throw inputError('E_DICOM_INVALID', source, `image has ${rows} rows and ${columns} columns`);
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    throw inputError('E_DICOM_UNSUPPORTED', source, `SamplesPerPixel ${samplesPerPixel} is not supported (expected 1 or 3)`);
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw inputError('E_DICOM_UNSUPPORTED', source, `BitsAllocated ${bitsAllocated} is not supported (expected 8, 16 or 32)`);
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw inputError(
      'E_DICOM_INVALID',
      source,
      `inconsistent bit layout: BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, HighBit ${highBit}`,
    );
  }
  return {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation: pixelRepresentation === 1 ? 1 : 0,
    planarConfiguration: planarConfiguration === 1 ? 1 : 0,
    photometric,
    frames,
  };
}

const SHARED_GROUPS = 'x52009229';
const PER_FRAME_GROUPS = 'x52009230';
const PIXEL_MEASURES = 'x00289110';
const PLANE_POSITION = 'x00209113';
const PLANE_ORIENTATION = 'x00209116';
const PIXEL_VALUE_TRANSFORMATION = 'x00289145';
const FRAME_VOI_LUT = 'x00289132';

/**
 * The first item of functional group macro `macro` (e.g. Pixel Measures) for frame `frame` of an enhanced
 * multi-frame image: the per-frame group's when it has the macro, else the shared group's; undefined for
 * classic images.
 */
export function functionalGroup(ds: DataSet, macro: string, frame = 0): DataSet | undefined {
  const first = (group: DataSet | undefined): DataSet | undefined => group?.elements[macro]?.items?.[0]?.dataSet;
  return first(ds.elements[PER_FRAME_GROUPS]?.items?.[frame]?.dataSet) ?? first(ds.elements[SHARED_GROUPS]?.items?.[0]?.dataSet);
}

/** ImagePositionPatient of every frame from the per-frame Plane Position macro (empty for classic images). */
function framePositions(ds: DataSet): Array<[number, number, number]> {
  const items = ds.elements[PER_FRAME_GROUPS]?.items ?? [];
  const out: Array<[number, number, number]> = [];
  for (let f = 0; f < items.length; f++) {
    const group = functionalGroup(ds, PLANE_POSITION, f);
    const p = group ? numbers(group, 'x00200032') : [];
    if (p.length < 3) return [];
    out.push([p[0], p[1], p[2]]);
  }
  return out;
}

/** Distance between the first two frames' positions, when an enhanced image records them. */
function frameStep(ds: DataSet): [number, number, number] | undefined {
  const p = framePositions(ds);
  if (p.length < 2) return undefined;
  const d: [number, number, number] = [p[1][0] - p[0][0], p[1][1] - p[0][1], p[1][2] - p[0][2]];
  return Math.hypot(...d) > 0 ? d : undefined;
}

/**
 * Column spacing, row spacing and slice spacing in mm. Enhanced multi-frame images keep them in the Pixel
 * Measures functional group, and their slice spacing is the distance between the first two frame positions.
 */
export function readSpacing(ds: DataSet): [number, number, number] {
  const measures = functionalGroup(ds, PIXEL_MEASURES);
  let ps = numbers(ds, 'x00280030');
  if (ps.length < 2 && measures) ps = numbers(measures, 'x00280030');
  if (ps.length < 2) ps = numbers(ds, 'x00181164');
  const positive = (v: number | undefined): number | undefined => (v !== undefined && v > 0 ? v : undefined);
  const rowSpacing = positive(ps[0]) ?? 1;
  const colSpacing = positive(ps[1]) ?? 1;
  const step = frameStep(ds);
  const slice = (step ? positive(Math.hypot(...step)) : undefined)
    ?? positive(numbers(ds, 'x00180050')[0]) ?? positive(numbers(ds, 'x00180088')[0])
    ?? (measures ? positive(numbers(measures, 'x00180088')[0]) ?? positive(numbers(measures, 'x00180050')[0]) : undefined)
    ?? 1;
  return [colSpacing, rowSpacing, slice];
}

/** ImagePositionPatient (of the first frame, for enhanced multi-frame images), when present. */
export function readOrigin(ds: DataSet): [number, number, number] | undefined {
  let p = numbers(ds, 'x00200032');
  if (p.length < 3) {
    const group = functionalGroup(ds, PLANE_POSITION);
    if (group) p = numbers(group, 'x00200032');
  }
  return p.length >= 3 ? [p[0], p[1], p[2]] : undefined;
}

/**
 * Row-major 3x3 direction cosines from ImageOrientationPatient (columns: row dir, column dir, normal), from the
 * Plane Orientation functional group for enhanced images; when their frames step against the normal, the third
 * column is the direction they step in, so origin + spacing × direction finds every frame.
 */
export function readDirection(ds: DataSet): number[] | undefined {
  let o = numbers(ds, 'x00200037');
  if (o.length < 6) {
    const group = functionalGroup(ds, PLANE_ORIENTATION);
    if (group) o = numbers(group, 'x00200037');
  }
  if (o.length < 6) return undefined;
  const [r0, r1, r2, c0, c1, c2] = o;
  let n0 = r1 * c2 - r2 * c1;
  let n1 = r2 * c0 - r0 * c2;
  let n2 = r0 * c1 - r1 * c0;
  const step = frameStep(ds);
  if (step && step[0] * n0 + step[1] * n1 + step[2] * n2 < 0) [n0, n1, n2] = [-n0, -n1, -n2];
  return [r0, c0, n0, r1, c1, n1, r2, c2, n2];
}

/** RescaleSlope and RescaleIntercept of frame `frame` (the Pixel Value Transformation group of enhanced images). */
export function readRescale(ds: DataSet, frame = 0): { slope: number; intercept: number } {
  const group = ds.elements.x00281053 || ds.elements.x00281052 ? ds : functionalGroup(ds, PIXEL_VALUE_TRANSFORMATION, frame) ?? ds;
  return { slope: numbers(group, 'x00281053')[0] ?? 1, intercept: numbers(group, 'x00281052')[0] ?? 0 };
}

/** Windows from WindowCenter/WindowWidth (one per value pair); enhanced images: the first frame's Frame VOI LUT. */
export function readWindows(ds: DataSet): Window[] {
  const group = ds.elements.x00281050 ? ds : functionalGroup(ds, FRAME_VOI_LUT) ?? ds;
  const centers = numbers(group, 'x00281050');
  const widths = numbers(group, 'x00281051');
  const n = Math.min(centers.length, widths.length);
  const out: Window[] = [];
  for (let i = 0; i < n; i++) if (widths[i] > 0) out.push({ center: centers[i], width: widths[i], source: 'file' });
  return out;
}

const PHI_TAGS: ReadonlyArray<[string, string]> = [
  ['PatientName', 'x00100010'],
  ['PatientID', 'x00100020'],
  ['PatientBirthDate', 'x00100030'],
  ['PatientSex', 'x00100040'],
  ['PatientAge', 'x00101010'],
  ['OtherPatientIDs', 'x00101000'],
  ['AccessionNumber', 'x00080050'],
  ['InstitutionName', 'x00080080'],
  ['ReferringPhysicianName', 'x00080090'],
  ['StudyDate', 'x00080020'],
  ['StudyInstanceUID', 'x0020000d'],
  ['SeriesInstanceUID', 'x0020000e'],
  ['SOPInstanceUID', 'x00080018'],
];

/** Patient and study identifiers present in the file (raw string values, multi-values kept with "\\"). */
export function readPhi(ds: DataSet): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, tag] of PHI_TAGS) {
    const v = str(ds, tag);
    if (v !== undefined) out[name] = v;
  }
  return out;
}
