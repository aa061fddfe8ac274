/**
 * medvlm results as a DICOM Comprehensive SR document (PS3.3 A.35.3), written with dcmjs: one document per
 * analysed series, in the source study, carrying the model id and file hashes, the labels and scores per
 * image, the research-use statement, and references to every analysed SOP instance (content items of
 * value type IMAGE, and the Current Requested Procedure Evidence Sequence).
 *
 * The document's UIDs are derived from (source series, model, model files, labels, templates): storing the
 * same analysis twice gives the same SOP instance, so a PACS keeps one copy and `watch` can tell what is done.
 */
import { createHash } from 'node:crypto';
import dcmjs from 'dcmjs';
import { InputError } from '../core/errors.js';
import { packageVersion } from '../core/paths.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import type { LabelScore } from '../tasks/zero-shot.js';

const { DicomDict, DicomMessage, DicomMetaDictionary } = dcmjs.data;

/** Comprehensive SR Storage. */
export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
/** medvlm's private coding scheme for concepts DICOM has no code for (PS3.16 8.2: "99" prefix). */
export const MEDVLM_SCHEME = '99MEDVLM';
/** Series number given to medvlm SR series (an arbitrary, recognisable value). */
export const SR_SERIES_NUMBER = 9901;
/** Series description of medvlm SR series; `watch` finds earlier results by it. */
export const SR_SERIES_DESCRIPTION = 'medvlm zero-shot classification (research use)';

/** One analysed image and its scores. */
export interface SrImageResult {
  sopClassUid: string;
  sopInstanceUid: string;
  /** 1-based frame the model saw, for multi-frame images. */
  frame?: number;
  labels: LabelScore[];
}

/** What goes into one SR document. */
export interface ClassificationSrInput {
  /** Bytes of one analysed instance of the series: patient and study attributes are copied from it. */
  sourceInstance: Uint8Array;
  studyUid: string;
  seriesUid: string;
  model: { id: string; dtype: string; fileHashes: Record<string, string> };
  labels: string[];
  templates: string;
  results: SrImageResult[];
  /** Instances of the series that could not be analysed, with the reason. */
  failed: Array<{ sopInstanceUid: string; reason: string }>;
  /** Content date/time (default now). */
  now?: Date;
}

/** A written SR document. */
export interface ClassificationSr {
  bytes: Uint8Array;
  sopInstanceUid: string;
  seriesInstanceUid: string;
}

/** A UID under 2.25 (PS3.5 B.2) made from a hash of `parts`: the same parts give the same UID. */
export function derivedUid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${hex}`).toString()}`;
}

/** The SR series and instance UIDs for one analysis of one series (see the module comment). */
export function srUids(input: Pick<ClassificationSrInput, 'seriesUid' | 'model' | 'labels' | 'templates'>): { series: string; instance: string } {
  const hashes = Object.entries(input.model.fileHashes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
  const key = ['medvlm-sr-v1', input.seriesUid, input.model.id, input.model.dtype, ...hashes, `labels=${input.labels.join('\u0001')}`, `templates=${input.templates}`];
  return { series: derivedUid('series', ...key), instance: derivedUid('instance', ...key) };
}

const code = (value: string, meaning: string, scheme = MEDVLM_SCHEME) => [{ CodeValue: value, CodingSchemeDesignator: scheme, CodeMeaning: meaning }];

function text(value: string, meaning: string, content: string, scheme?: string): Record<string, unknown> {
  // TEXT values are UT; keep well under its limit and drop control characters other than CR/LF/TAB.
  const clean = content.replace(/[^\P{Cc}\r\n\t]/gu, ' ').slice(0, 10_000);
  return { RelationshipType: 'CONTAINS', ValueType: 'TEXT', ConceptNameCodeSequence: code(value, meaning, scheme), TextValue: clean };
}

function labelScore(l: LabelScore): Record<string, unknown> {
  return {
    RelationshipType: 'CONTAINS',
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: code('MEDVLM30', 'Label score'),
    ContinuityOfContent: 'SEPARATE',
    ContentSequence: [
      text('MEDVLM31', 'Label', l.label),
      {
        RelationshipType: 'CONTAINS',
        ValueType: 'NUM',
        ConceptNameCodeSequence: code('MEDVLM32', 'Score'),
        MeasuredValueSequence: [
          {
            MeasurementUnitsCodeSequence: code('1', 'no units', 'UCUM'),
            NumericValue: l.score.toFixed(6),
          },
        ],
      },
    ],
  };
}

function imageResult(r: SrImageResult): Record<string, unknown> {
  return {
    RelationshipType: 'CONTAINS',
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: code('MEDVLM20', 'Image result'),
    ContinuityOfContent: 'SEPARATE',
    ContentSequence: [
      {
        RelationshipType: 'CONTAINS',
        ValueType: 'IMAGE',
        ConceptNameCodeSequence: code('MEDVLM21', 'Analysed image'),
        ReferencedSOPSequence: [
          {
            ReferencedSOPClassUID: r.sopClassUid,
            ReferencedSOPInstanceUID: r.sopInstanceUid,
            ...(r.frame !== undefined ? { ReferencedFrameNumber: r.frame } : {}),
          },
        ],
      },
      ...r.labels.map(labelScore),
    ],
  };
}

/** Patient and study attributes of the source instance (read up to the pixel data). */
function sourceAttributes(bytes: Uint8Array, studyUid: string): Record<string, unknown> {
  let ds: Record<string, unknown>;
  try {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const dict = DicomMessage.readFile(ab, { untilTag: '7FE00010', ignoreErrors: true });
    ds = DicomMetaDictionary.naturalizeDataset(dict.dict);
  } catch (e) {
    throw new InputError('E_DICOM_INVALID', `pacs:${studyUid}: cannot read patient and study attributes for the SR (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const keep = ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber'];
  const out: Record<string, unknown> = {};
  for (const k of keep) out[k] = ds[k] ?? '';
  return out;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const dicomDate = (d: Date) => `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`;
const dicomTime = (d: Date) => `${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}`;

/**
 * Write the Comprehensive SR for one analysed series (see the module comment).
 * @throws InputError when the source instance's attributes cannot be read.
 */
export function buildClassificationSr(input: ClassificationSrInput): ClassificationSr {
  const now = input.now ?? new Date();
  const uids = srUids(input);
  const version = packageVersion();
  const hashes = Object.entries(input.model.fileHashes).sort(([a], [b]) => a.localeCompare(b));
  const content = [
    text('MEDVLM10', 'Research use statement', RESEARCH_NOTICE),
    text('111001', 'Algorithm Name', 'medvlm zero-shot classification', 'DCM'),
    text('111003', 'Algorithm Version', version, 'DCM'),
    text('MEDVLM11', 'Model identifier', `${input.model.id} (${input.model.dtype})`),
    ...hashes.map(([file, sha]) => text('MEDVLM12', 'Model file SHA-256', `${file} sha256:${sha}`)),
    text('MEDVLM13', 'Prompt templates', input.templates),
    text('MEDVLM14', 'Candidate labels', input.labels.join('; ')),
    ...input.results.map(imageResult),
    ...input.failed.map((f) => text('MEDVLM40', 'Image not analysed', `${f.sopInstanceUid}: ${f.reason}`)),
  ];
  const dataset: Record<string, unknown> = {
    InstanceCreationDate: dicomDate(now),
    InstanceCreationTime: dicomTime(now),
    SOPClassUID: COMPREHENSIVE_SR,
    SOPInstanceUID: uids.instance,
    ...sourceAttributes(input.sourceInstance, input.studyUid),
    StudyInstanceUID: input.studyUid,
    Modality: 'SR',
    SeriesInstanceUID: uids.series,
    SeriesNumber: SR_SERIES_NUMBER,
    SeriesDescription: SR_SERIES_DESCRIPTION,
    ReferencedPerformedProcedureStepSequence: [],
    Manufacturer: 'medvlm',
    SoftwareVersions: version,
    InstanceNumber: 1,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: dicomDate(now),
    ContentTime: dicomTime(now),
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: [
      {
        StudyInstanceUID: input.studyUid,
        ReferencedSeriesSequence: [
          {
            SeriesInstanceUID: input.seriesUid,
            ReferencedSOPSequence: input.results.map((r) => ({ ReferencedSOPClassUID: r.sopClassUid, ReferencedSOPInstanceUID: r.sopInstanceUid })),
          },
        ],
      },
    ],
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: code('MEDVLM01', 'Zero-shot image classification (research use)'),
    ContinuityOfContent: 'SEPARATE',
    ContentSequence: content,
  };
  // dcmjs writes text as UTF-8: declare it when any value is not plain ASCII.
  if ([...JSON.stringify(dataset)].some((c) => c.charCodeAt(0) > 0x7f)) dataset.SpecificCharacterSet = 'ISO_IR 192';
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: COMPREHENSIVE_SR,
    MediaStorageSOPInstanceUID: uids.instance,
    TransferSyntaxUID: EXPLICIT_VR_LE,
    ImplementationClassUID: derivedUid('medvlm-implementation'),
    ImplementationVersionName: `MEDVLM_${version}`.slice(0, 16),
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return { bytes: new Uint8Array(dict.write()), sopInstanceUid: uids.instance, seriesInstanceUid: uids.series };
}
