/**
 * What the DICOM objects medvlm derives from one analysed frame (Segmentation, Parametric Map) share:
 * the source instance's identity, patient/study attributes and plane geometry read with dcmjs, the
 * multi-frame functional groups of a one-frame derived image (pixel measures, plane position and
 * orientation, derivation image, frame content) and the Part 10 encoding.
 *
 * Geometry: a classic single-frame image gives ImagePositionPatient/ImageOrientationPatient/PixelSpacing
 * at the top level; an enhanced multi-frame image gives them in its shared or per-frame functional groups
 * (the analysed frame's). A source without a Frame of Reference (a secondary capture) gives a derived
 * object without one: no plane position/orientation, pixel spacing only when the source has it.
 */
import dcmjs from 'dcmjs';
import { InputError } from '../core/errors.js';
import { packageVersion } from '../core/paths.js';
import { derivedUid, MULTI_FRAME_SOP_CLASSES, PATIENT_STUDY_KEYWORDS } from './sr.js';

const { DicomDict, DicomMessage, DicomMetaDictionary } = dcmjs.data;

const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';

type Item = Record<string, unknown>;

/** The analysed source frame as a derived object needs it. */
export interface SourceFrame {
  sopClassUid: string;
  sopInstanceUid: string;
  studyUid: string;
  seriesUid: string;
  rows: number;
  columns: number;
  /** 1-based frame number in the source. */
  frameNumber: number;
  /** Frames in the source. */
  frames: number;
  /** Patient and study attributes to copy (PATIENT_STUDY_KEYWORDS, StudyInstanceUID). */
  patientStudy: Item;
  specificCharacterSet?: unknown;
  frameOfReferenceUid?: string;
  /** [row spacing, column spacing] in mm, as DICOM stores it. */
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  imagePosition?: [number, number, number];
  imageOrientation?: number[];
  /** Source's body part / laterality, when present (copied to the derived series). */
  bodyPartExamined?: string;
}

const first = (v: unknown): Item | undefined => (Array.isArray(v) ? (v[0] as Item | undefined) : (v as Item | undefined));
const numbers = (v: unknown): number[] | undefined => {
  const a = Array.isArray(v) ? v : v === undefined || v === null || v === '' ? [] : [v];
  const n = a.map(Number);
  return n.length && n.every(Number.isFinite) ? n : undefined;
};

/** A functional-group attribute of `frame` (0-based): per-frame first, then shared. */
function group(ds: Item, frame: number, sequence: string): Item | undefined {
  const perFrame = Array.isArray(ds.PerFrameFunctionalGroupsSequence) ? (ds.PerFrameFunctionalGroupsSequence[frame] as Item | undefined) : undefined;
  return first(perFrame?.[sequence]) ?? first(first(ds.SharedFunctionalGroupsSequence)?.[sequence]);
}

/**
 * Read the source instance (up to its pixel data) and the geometry of its frame `frame` (0-based).
 * @throws InputError E_DICOM_INVALID when the bytes are not a DICOM instance with UIDs, rows and columns
 */
export function readSourceFrame(bytes: Uint8Array, frame: number, name: string): SourceFrame {
  let ds: Item;
  try {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    ds = DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(ab, { untilTag: '7FE00010', ignoreErrors: true }).dict);
  } catch (e) {
    throw new InputError('E_DICOM_INVALID', `${name}: cannot read the source attributes for a derived DICOM object (${e instanceof Error ? e.message : String(e)})`, { file: name, cause: e });
  }
  for (const k of ['SOPClassUID', 'SOPInstanceUID', 'StudyInstanceUID', 'SeriesInstanceUID', 'Rows', 'Columns']) {
    if (ds[k] === undefined || ds[k] === '') throw new InputError('E_DICOM_INVALID', `${name}: has no ${k}, so a derived DICOM object cannot reference it`, { file: name });
  }
  const frames = Number(ds.NumberOfFrames ?? 1) || 1;
  const enhanced = ds.PerFrameFunctionalGroupsSequence !== undefined || ds.SharedFunctionalGroupsSequence !== undefined;
  const spacing = numbers(enhanced ? group(ds, frame, 'PixelMeasuresSequence')?.PixelSpacing : ds.PixelSpacing) ?? numbers(ds.PixelSpacing);
  const thickness = numbers(enhanced ? group(ds, frame, 'PixelMeasuresSequence')?.SliceThickness : ds.SliceThickness)?.[0];
  const position = numbers(enhanced ? group(ds, frame, 'PlanePositionSequence')?.ImagePositionPatient : frames === 1 ? ds.ImagePositionPatient : undefined);
  const orientation = numbers(enhanced ? group(ds, frame, 'PlaneOrientationSequence')?.ImageOrientationPatient : ds.ImageOrientationPatient);
  const patientStudy: Item = { StudyInstanceUID: ds.StudyInstanceUID };
  for (const k of PATIENT_STUDY_KEYWORDS) patientStudy[k] = ds[k] ?? '';
  return {
    sopClassUid: String(ds.SOPClassUID),
    sopInstanceUid: String(ds.SOPInstanceUID),
    studyUid: String(ds.StudyInstanceUID),
    seriesUid: String(ds.SeriesInstanceUID),
    rows: Number(ds.Rows),
    columns: Number(ds.Columns),
    frameNumber: frame + 1,
    frames,
    patientStudy,
    ...(ds.SpecificCharacterSet ? { specificCharacterSet: ds.SpecificCharacterSet } : {}),
    ...(ds.FrameOfReferenceUID ? { frameOfReferenceUid: String(ds.FrameOfReferenceUID) } : {}),
    ...(spacing?.length === 2 ? { pixelSpacing: spacing as [number, number] } : {}),
    ...(thickness !== undefined ? { sliceThickness: thickness } : {}),
    ...(position?.length === 3 ? { imagePosition: position as [number, number, number] } : {}),
    ...(orientation?.length === 6 ? { imageOrientation: orientation } : {}),
    ...(ds.BodyPartExamined ? { bodyPartExamined: String(ds.BodyPartExamined) } : {}),
  };
}

/** True when the source has the full plane geometry (Frame of Reference, position, orientation, spacing). */
export function hasPlaneGeometry(src: SourceFrame): boolean {
  return Boolean(src.frameOfReferenceUid && src.imagePosition && src.imageOrientation && src.pixelSpacing);
}

const pad2 = (n: number) => String(n).padStart(2, '0');
/** DICOM DA of a date (UTC). */
export const dicomDate = (d: Date): string => `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`;
/** DICOM TM of a time (UTC). */
export const dicomTime = (d: Date): string => `${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}`;

/** DS values: at most 16 characters each. */
export function ds(n: number): string {
  for (let p = 10; p > 0; p--) {
    const s = Number(n.toPrecision(p)).toString();
    if (s.length <= 16) return s;
  }
  return n.toExponential(6);
}

/** The source instance (and frame) a derived frame was made from. */
export function sourceImageItem(src: SourceFrame): Item {
  return {
    ReferencedSOPClassUID: src.sopClassUid,
    ReferencedSOPInstanceUID: src.sopInstanceUid,
    ...(MULTI_FRAME_SOP_CLASSES.has(src.sopClassUid) || src.frames > 1 ? { ReferencedFrameNumber: src.frameNumber } : {}),
    PurposeOfReferenceCodeSequence: [{ CodeValue: '121322', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source image for image processing operation' }],
  };
}

/** Shared functional groups of a one-frame derived image: pixel measures and plane orientation (when known). */
export function sharedGroups(src: SourceFrame, extra: Item = {}): Item {
  const g: Item = { ...extra };
  if (src.pixelSpacing) g.PixelMeasuresSequence = [{ PixelSpacing: src.pixelSpacing.map(ds), SliceThickness: ds(src.sliceThickness ?? 1) }];
  if (hasPlaneGeometry(src)) g.PlaneOrientationSequence = [{ ImageOrientationPatient: src.imageOrientation!.map(ds) }];
  return g;
}

/** Per-frame functional groups of the one frame: derivation (source image), frame content, plane position. */
export function perFrameGroup(src: SourceFrame, derivation: { value: string; meaning: string; scheme?: string }, dimensionIndex: number[], extra: Item = {}): Item {
  return {
    DerivationImageSequence: [
      {
        DerivationCodeSequence: [{ CodeValue: derivation.value, CodingSchemeDesignator: derivation.scheme ?? 'DCM', CodeMeaning: derivation.meaning }],
        SourceImageSequence: [sourceImageItem(src)],
      },
    ],
    FrameContentSequence: [{ StackID: '1', InStackPositionNumber: 1, DimensionIndexValues: dimensionIndex }],
    ...(hasPlaneGeometry(src) ? { PlanePositionSequence: [{ ImagePositionPatient: src.imagePosition!.map(ds) }] } : {}),
    ...extra,
  };
}

/** Multi-frame Dimension module: the given index pointers (tag + functional group sequence, as hex). */
export function dimensions(uid: string, pointers: Array<{ index: string; group?: string; label: string }>): Item {
  return {
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: uid }],
    DimensionOrganizationType: '3D',
    DimensionIndexSequence: pointers.map((p) => ({
      DimensionOrganizationUID: uid,
      DimensionIndexPointer: p.index,
      ...(p.group ? { FunctionalGroupPointer: p.group } : {}),
      DimensionDescriptionLabel: p.label,
    })),
  };
}

/** Patient, study, series, equipment and reference attributes every derived object has. */
export function commonAttributes(src: SourceFrame, o: {
  sopClassUid: string;
  uids: { series: string; instance: string };
  modality: string;
  seriesNumber: number;
  seriesDescription: string;
  now: Date;
}): Item {
  const version = packageVersion();
  return {
    ...(src.specificCharacterSet ? { SpecificCharacterSet: src.specificCharacterSet } : {}),
    InstanceCreationDate: dicomDate(o.now),
    InstanceCreationTime: dicomTime(o.now),
    SOPClassUID: o.sopClassUid,
    SOPInstanceUID: o.uids.instance,
    ...src.patientStudy,
    Modality: o.modality,
    SeriesInstanceUID: o.uids.series,
    SeriesNumber: o.seriesNumber,
    SeriesDescription: o.seriesDescription.slice(0, 64),
    SeriesDate: dicomDate(o.now),
    SeriesTime: dicomTime(o.now),
    ...(src.bodyPartExamined ? { BodyPartExamined: src.bodyPartExamined } : {}),
    ...(src.frameOfReferenceUid ? { FrameOfReferenceUID: src.frameOfReferenceUid, PositionReferenceIndicator: '' } : {}),
    ...(hasPlaneGeometry(src) ? {} : { PatientOrientation: '' }), // Type 2C: needed when the frames carry no plane orientation
    Manufacturer: 'medvlm',
    ManufacturerModelName: 'medvlm',
    DeviceSerialNumber: '0',
    SoftwareVersions: version,
    InstanceNumber: 1,
    ContentDate: dicomDate(o.now),
    ContentTime: dicomTime(o.now),
    ReferencedSeriesSequence: [
      { SeriesInstanceUID: src.seriesUid, ReferencedInstanceSequence: [{ ReferencedSOPClassUID: src.sopClassUid, ReferencedSOPInstanceUID: src.sopInstanceUid }] },
    ],
  };
}

/** Encode a data set as Part 10, Explicit VR Little Endian. */
export function writePart10(dataset: Item, sopClassUid: string, sopInstanceUid: string): Uint8Array {
  if ([...JSON.stringify(dataset, (_k, v: unknown) => (v instanceof ArrayBuffer ? undefined : v))].some((c) => c.charCodeAt(0) > 0x7f)) dataset.SpecificCharacterSet = 'ISO_IR 192';
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClassUid,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LE,
    ImplementationClassUID: derivedUid('medvlm-implementation'),
    ImplementationVersionName: `MEDVLM_${packageVersion()}`.slice(0, 16),
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

/** A derived object as written. */
export interface DerivedInstance {
  bytes: Uint8Array;
  sopInstanceUid: string;
  seriesInstanceUid: string;
}
