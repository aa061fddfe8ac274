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

/** Windows from WindowCenter/WindowWidth (one per value pair). */
export function readWindows(ds: DataSet): Window[] {
  const centers = numbers(ds, 'x00281050');
  const widths = numbers(ds, 'x00281051');
  const n = Math.min(centers.length, widths.length);
  const out: Window[] = [];
  for (let i = 0; i < n; i++) if (widths[i] > 0) out.push({ center: centers[i], width: widths[i], source: 'file' });
  return out;
}

/** Column spacing, row spacing and slice spacing in mm. */
export function readSpacing(ds: DataSet): [number, number, number] {
  let ps = numbers(ds, 'x00280030');
  if (ps.length < 2) ps = numbers(ds, 'x00181164');
  const positive = (v: number | undefined): number | undefined => (v !== undefined && v > 0 ? v : undefined);
  const rowSpacing = positive(ps[0]) ?? 1;
  const colSpacing = positive(ps[1]) ?? 1;
  const slice = positive(numbers(ds, 'x00180050')[0]) ?? positive(numbers(ds, 'x00180088')[0]) ?? 1;
  return [colSpacing, rowSpacing, slice];
}

/** ImagePositionPatient, when present. */
export function readOrigin(ds: DataSet): [number, number, number] | undefined {
  const p = numbers(ds, 'x00200032');
  return p.length >= 3 ? [p[0], p[1], p[2]] : undefined;
}

/** Row-major 3x3 direction cosines from ImageOrientationPatient (columns: row dir, column dir, normal). */
export function readDirection(ds: DataSet): number[] | undefined {
  const o = numbers(ds, 'x00200037');
  if (o.length < 6) return undefined;
  const [r0, r1, r2, c0, c1, c2] = o;
  const n0 = r1 * c2 - r2 * c1;
  const n1 = r2 * c0 - r0 * c2;
  const n2 = r0 * c1 - r1 * c0;
  return [r0, c0, n0, r1, c1, n1, r2, c2, n2];
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
