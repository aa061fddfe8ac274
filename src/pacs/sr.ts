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
    ContentSequence: [text('MEDVLM31', 'Label', l.label), numberItem('MEDVLM32', 'Score', l.score)],
  };
}

function imageResult(r: SrImageResult): Record<string, unknown> {
  return {
    RelationshipType: 'CONTAINS',
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: code('MEDVLM20', 'Image result'),
    ContinuityOfContent: 'SEPARATE',
    ContentSequence: [imageItem(r), ...r.labels.map(labelScore)],
  };
}

/** Patient and study attributes every medvlm result object copies from its source (StudyInstanceUID aside). */
export const PATIENT_STUDY_KEYWORDS = ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber'];

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
  const out: Record<string, unknown> = {};
  for (const k of PATIENT_STUDY_KEYWORDS) out[k] = ds[k] ?? '';
  return out;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const dicomDate = (d: Date) => `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`;
const dicomTime = (d: Date) => `${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}`;

/** What every medvlm SR document shares; the content items differ per task. */
interface SrDocument {
  sourceInstance: Uint8Array;
  studyUid: string;
  seriesUid: string;
  uids: { series: string; instance: string };
  title: ReturnType<typeof code>;
  seriesNumber: number;
  seriesDescription: string;
  content: Array<Record<string, unknown>>;
  /** The analysed instances (Current Requested Procedure Evidence Sequence). */
  evidence: Array<{ sopClassUid: string; sopInstanceUid: string }>;
  now: Date;
}

/** The items every medvlm SR starts with: research statement, algorithm, model id and file hashes. */
function provenanceItems(algorithm: string, model: ClassificationSrInput['model']): Array<Record<string, unknown>> {
  const hashes = Object.entries(model.fileHashes).sort(([a], [b]) => a.localeCompare(b));
  return [
    text('MEDVLM10', 'Research use statement', RESEARCH_NOTICE),
    text('111001', 'Algorithm Name', algorithm, 'DCM'),
    text('111003', 'Algorithm Version', packageVersion(), 'DCM'),
    text('MEDVLM11', 'Model identifier', `${model.id} (${model.dtype})`),
    ...hashes.map(([file, sha]) => text('MEDVLM12', 'Model file SHA-256', `${file} sha256:${sha}`)),
  ];
}

/**
 * Storage SOP classes defined as multi-frame (PS3.3 C.7.6.6 / PS3.4 B.5): only these may carry a
 * Referenced Frame Number. A file of another class with several frames gets the reference without it.
 */
export const MULTI_FRAME_SOP_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT
  '1.2.840.10008.5.1.4.1.1.2.2', // Legacy Converted Enhanced CT
  '1.2.840.10008.5.1.4.1.1.3.1', // Ultrasound Multi-frame
  '1.2.840.10008.5.1.4.1.1.4.1', // Enhanced MR
  '1.2.840.10008.5.1.4.1.1.4.3', // Enhanced MR Color
  '1.2.840.10008.5.1.4.1.1.4.4', // Legacy Converted Enhanced MR
  '1.2.840.10008.5.1.4.1.1.6.2', // Enhanced US Volume
  '1.2.840.10008.5.1.4.1.1.7.1', // Multi-frame Single Bit SC
  '1.2.840.10008.5.1.4.1.1.7.2', // Multi-frame Grayscale Byte SC
  '1.2.840.10008.5.1.4.1.1.7.3', // Multi-frame Grayscale Word SC
  '1.2.840.10008.5.1.4.1.1.7.4', // Multi-frame True Color SC
  '1.2.840.10008.5.1.4.1.1.12.1', // X-Ray Angiographic
  '1.2.840.10008.5.1.4.1.1.12.1.1', // Enhanced XA
  '1.2.840.10008.5.1.4.1.1.12.2', // X-Ray Radiofluoroscopic
  '1.2.840.10008.5.1.4.1.1.12.2.1', // Enhanced XRF
  '1.2.840.10008.5.1.4.1.1.13.1.1', // X-Ray 3D Angiographic
  '1.2.840.10008.5.1.4.1.1.13.1.2', // X-Ray 3D Craniofacial
  '1.2.840.10008.5.1.4.1.1.13.1.3', // Breast Tomosynthesis
  '1.2.840.10008.5.1.4.1.1.20', // Nuclear Medicine
  '1.2.840.10008.5.1.4.1.1.77.1.6', // VL Whole Slide Microscopy
  '1.2.840.10008.5.1.4.1.1.77.1.5.4', // Ophthalmic Tomography
  '1.2.840.10008.5.1.4.1.1.128.1', // Legacy Converted Enhanced PET
  '1.2.840.10008.5.1.4.1.1.130', // Enhanced PET
]);

/** An IMAGE content item referencing one analysed instance. */
function imageItem(r: { sopClassUid: string; sopInstanceUid: string; frame?: number }): Record<string, unknown> {
  return {
    RelationshipType: 'CONTAINS',
    ValueType: 'IMAGE',
    ConceptNameCodeSequence: code('MEDVLM21', 'Analysed image'),
    ReferencedSOPSequence: [
      {
        ReferencedSOPClassUID: r.sopClassUid,
        ReferencedSOPInstanceUID: r.sopInstanceUid,
        ...(r.frame !== undefined && MULTI_FRAME_SOP_CLASSES.has(r.sopClassUid) ? { ReferencedFrameNumber: r.frame } : {}),
      },
    ],
  };
}

/** A NUM content item without units. */
function numberItem(value: string, meaning: string, n: number): Record<string, unknown> {
  return {
    RelationshipType: 'CONTAINS',
    ValueType: 'NUM',
    ConceptNameCodeSequence: code(value, meaning),
    MeasuredValueSequence: [{ MeasurementUnitsCodeSequence: code('1', 'no units', 'UCUM'), NumericValue: n.toFixed(6) }],
  };
}

/** Encode an SR document with dcmjs (Explicit VR Little Endian, Part 10). */
function writeSr(doc: SrDocument): Uint8Array {
  const { now, uids } = doc;
  const version = packageVersion();
  const dataset: Record<string, unknown> = {
    InstanceCreationDate: dicomDate(now),
    InstanceCreationTime: dicomTime(now),
    SOPClassUID: COMPREHENSIVE_SR,
    SOPInstanceUID: uids.instance,
    ...sourceAttributes(doc.sourceInstance, doc.studyUid),
    StudyInstanceUID: doc.studyUid,
    Modality: 'SR',
    SeriesInstanceUID: uids.series,
    SeriesNumber: doc.seriesNumber,
    SeriesDescription: doc.seriesDescription,
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
        StudyInstanceUID: doc.studyUid,
        ReferencedSeriesSequence: [
          {
            SeriesInstanceUID: doc.seriesUid,
            ReferencedSOPSequence: doc.evidence.map((r) => ({ ReferencedSOPClassUID: r.sopClassUid, ReferencedSOPInstanceUID: r.sopInstanceUid })),
          },
        ],
      },
    ],
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: doc.title,
    ContinuityOfContent: 'SEPARATE',
    ContentSequence: doc.content,
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
  return new Uint8Array(dict.write());
}

/**
 * Write the Comprehensive SR for one classified series (see the module comment).
 * @throws InputError when the source instance's attributes cannot be read.
 */
export function buildClassificationSr(input: ClassificationSrInput): ClassificationSr {
  const uids = srUids(input);
  const bytes = writeSr({
    sourceInstance: input.sourceInstance,
    studyUid: input.studyUid,
    seriesUid: input.seriesUid,
    uids,
    title: code('MEDVLM01', 'Zero-shot image classification (research use)'),
    seriesNumber: SR_SERIES_NUMBER,
    seriesDescription: SR_SERIES_DESCRIPTION,
    content: [
      ...provenanceItems('medvlm zero-shot classification', input.model),
      text('MEDVLM13', 'Prompt templates', input.templates),
      text('MEDVLM14', 'Candidate labels', input.labels.join('; ')),
      ...input.results.map(imageResult),
      ...input.failed.map((f) => text('MEDVLM40', 'Image not analysed', `${f.sopInstanceUid}: ${f.reason}`)),
    ],
    evidence: input.results,
    now: input.now ?? new Date(),
  });
  return { bytes, sopInstanceUid: uids.instance, seriesInstanceUid: uids.series };
}

/** One sentence of a draft with where it came from. */
export interface SrDraftSentence {
  text: string;
  /** Case id, or the source image path when the corpus has no case ids. */
  sourceCase: string;
  field: string;
  caseSimilarity: number;
  sentenceSimilarity: number;
}

/** What goes into one draft-report SR document. */
export interface DraftSrInput {
  sourceInstance: Uint8Array;
  studyUid: string;
  seriesUid: string;
  model: ClassificationSrInput['model'];
  /** What identifies the case corpus (name and content hash), part of the SR's identity. */
  corpus: string;
  /** Options that change the draft (k, sentences, weights), part of the SR's identity. */
  settings: string;
  text: string;
  sentences: SrDraftSentence[];
  /** The instances whose mean embedding the draft was made for. */
  images: Array<{ sopClassUid: string; sopInstanceUid: string; frame?: number }>;
  failed: Array<{ sopInstanceUid: string; reason: string }>;
  now?: Date;
}

/** Series description of medvlm draft-report SR series. */
export const DRAFT_SR_SERIES_DESCRIPTION = 'medvlm draft report (research use)';

/** The SR series and instance UIDs of one draft for one series. */
export function draftSrUids(input: Pick<DraftSrInput, 'seriesUid' | 'model' | 'corpus' | 'settings'>): { series: string; instance: string } {
  const hashes = Object.entries(input.model.fileHashes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
  const key = ['medvlm-draft-sr-v1', input.seriesUid, input.model.id, input.model.dtype, ...hashes, `corpus=${input.corpus}`, `settings=${input.settings}`];
  return { series: derivedUid('series', ...key), instance: derivedUid('instance', ...key) };
}

/**
 * Write the Comprehensive SR of a draft report for one series: the draft text, then each sentence with its
 * source case, field and similarities, then the analysed images.
 */
export function buildDraftSr(input: DraftSrInput): ClassificationSr {
  const uids = draftSrUids(input);
  const sentence = (s: SrDraftSentence): Record<string, unknown> => ({
    RelationshipType: 'CONTAINS',
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: code('MEDVLM51', 'Draft sentence'),
    ContinuityOfContent: 'SEPARATE',
    ContentSequence: [
      text('MEDVLM52', 'Sentence', s.text),
      text('MEDVLM53', 'Source case', s.sourceCase),
      text('MEDVLM54', 'Source field', s.field),
      numberItem('MEDVLM55', 'Case similarity', s.caseSimilarity),
      numberItem('MEDVLM56', 'Sentence similarity', s.sentenceSimilarity),
    ],
  });
  const bytes = writeSr({
    sourceInstance: input.sourceInstance,
    studyUid: input.studyUid,
    seriesUid: input.seriesUid,
    uids,
    title: code('MEDVLM02', 'Draft report from similar cases (research use)'),
    seriesNumber: SR_SERIES_NUMBER + 1,
    seriesDescription: DRAFT_SR_SERIES_DESCRIPTION,
    content: [
      ...provenanceItems('medvlm draft-report (retrieval of similar cases)', input.model),
      text('MEDVLM15', 'Case corpus', input.corpus),
      text('MEDVLM50', 'Draft text', input.text || '(no sentence could be drawn from the corpus)'),
      ...input.sentences.map(sentence),
      ...input.images.map(imageItem),
      ...input.failed.map((f) => text('MEDVLM40', 'Image not analysed', `${f.sopInstanceUid}: ${f.reason}`)),
    ],
    evidence: input.images,
    now: input.now ?? new Date(),
  });
  return { bytes, sopInstanceUid: uids.instance, seriesInstanceUid: uids.series };
}
