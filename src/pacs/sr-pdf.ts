/**
 * A human-readable rendition of a medvlm SR: the document's content tree as text lines, typeset as a PDF
 * with pdfkit, and wrapped as a DICOM Encapsulated PDF (PS3.3 A.45.1) in the SR's study, written with
 * dcmjs. PACS web viewers that cannot render SR (Orthanc Explorer among them) open the PDF as a document;
 * the SR stays the structured record. The PDF's UIDs derive from the SR's, so it is stored once.
 */
import dcmjs from 'dcmjs';
import PDFDocument from 'pdfkit';
import { InputError } from '../core/errors.js';
import { packageVersion } from '../core/paths.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import { derivedUid, PATIENT_STUDY_KEYWORDS } from './sr.js';

const { DicomDict, DicomMessage, DicomMetaDictionary } = dcmjs.data;

/** Encapsulated PDF Storage. */
export const ENCAPSULATED_PDF = '1.2.840.10008.5.1.4.1.1.104.1';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
/** Series number of medvlm PDF renditions (next to the SR series, 9901). */
export const PDF_SERIES_NUMBER = 9902;

type Item = Record<string, unknown>;

const first = (v: unknown): Item | undefined => (Array.isArray(v) ? (v[0] as Item | undefined) : (v as Item | undefined));
const meaning = (item: Item): string => String(first(item.ConceptNameCodeSequence)?.CodeMeaning ?? '');

/** One content item (and its children) as indented lines. */
function itemLines(item: Item, depth: number): string[] {
  const pad = '  '.repeat(depth);
  const name = meaning(item);
  switch (item.ValueType) {
    case 'TEXT':
      return [`${pad}${name}: ${String(item.TextValue ?? '')}`];
    case 'NUM': {
      const m = first(item.MeasuredValueSequence);
      return [`${pad}${name}: ${String(m?.NumericValue ?? '')}`];
    }
    case 'CODE':
      return [`${pad}${name}: ${String(first(item.ConceptCodeSequence)?.CodeMeaning ?? '')}`];
    case 'IMAGE': {
      const ref = first(item.ReferencedSOPSequence);
      const frame = ref?.ReferencedFrameNumber !== undefined ? ` (frame ${String(ref.ReferencedFrameNumber)})` : '';
      return [`${pad}${name}: ${String(ref?.ReferencedSOPInstanceUID ?? '')}${frame}`];
    }
    case 'CONTAINER': {
      const children = (Array.isArray(item.ContentSequence) ? item.ContentSequence : item.ContentSequence ? [item.ContentSequence] : []) as Item[];
      return [`${pad}${name}`, ...children.flatMap((c) => itemLines(c, depth + 1))];
    }
    default:
      return [`${pad}${name}: (${String(item.ValueType)})`];
  }
}

/** The SR read as a naturalized dataset. */
function readSr(bytes: Uint8Array): Item {
  try {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    return DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(ab).dict);
  } catch (e) {
    throw new InputError('E_DICOM_INVALID', `SR document: cannot be read (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
}

/** The document's title and its content as text lines (what the PDF shows). */
export function srDocumentLines(srBytes: Uint8Array): { title: string; lines: string[]; sr: Item } {
  const sr = readSr(srBytes);
  if (sr.Modality !== 'SR' || sr.ValueType !== 'CONTAINER') {
    throw new InputError('E_DICOM_INVALID', `SR document ${String(sr.SOPInstanceUID ?? '')}: not a structured report (modality ${String(sr.Modality)})`);
  }
  const children = (Array.isArray(sr.ContentSequence) ? sr.ContentSequence : [sr.ContentSequence]) as Item[];
  return { title: meaning(sr), lines: children.flatMap((c) => itemLines(c, 0)), sr };
}

/** Typeset an SR's content (from `srDocumentLines`) as a PDF (A4, Helvetica; the research-use statement on top). */
export async function renderSrPdf({ title, lines, sr }: ReturnType<typeof srDocumentLines>): Promise<Uint8Array> {
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: title, Creator: `medvlm ${packageVersion()}`, Producer: 'medvlm (pdfkit)' } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.font('Helvetica-Bold').fontSize(15).text(title);
  doc.moveDown(0.3).font('Helvetica-Oblique').fontSize(9).fillColor('#a00000').text(RESEARCH_NOTICE);
  doc.moveDown(0.3).fillColor('#000000').font('Helvetica').fontSize(8)
    .text(`Study ${String(sr.StudyInstanceUID)} · SR ${String(sr.SOPInstanceUID)} · ${String(sr.ContentDate)} ${String(sr.ContentTime)} UTC`);
  doc.moveDown(0.8);
  for (const line of lines) {
    const indent = line.length - line.trimStart().length;
    doc.font(indent === 0 ? 'Helvetica-Bold' : 'Helvetica').fontSize(9).text(line.trimStart(), { indent: indent * 6 });
  }
  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

/** A PDF rendition stored as DICOM. */
export interface SrPdfInstance {
  bytes: Uint8Array;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  /** The PDF inside, as stored. */
  pdf: Uint8Array;
}

/** The PDF rendition's UIDs for an SR (the same SR gives the same rendition UIDs). */
export function srPdfUids(srSeriesUid: string, srInstanceUid: string): { series: string; instance: string } {
  return { series: derivedUid(srSeriesUid, 'pdf-rendition'), instance: derivedUid(srInstanceUid, 'pdf-rendition') };
}

/**
 * The SR's PDF rendition as an Encapsulated PDF instance in the SR's study: patient and study attributes
 * copied from the SR, a Source Instance Sequence pointing at the SR, modality DOC.
 */
export async function buildSrPdf(srBytes: Uint8Array): Promise<SrPdfInstance> {
  const doc = srDocumentLines(srBytes);
  const { title, sr } = doc;
  const pdf = await renderSrPdf(doc);
  const uids = srPdfUids(String(sr.SeriesInstanceUID), String(sr.SOPInstanceUID));
  const copy = ['StudyInstanceUID', ...PATIENT_STUDY_KEYWORDS];
  const padded = new Uint8Array(pdf.length + (pdf.length % 2));
  padded.set(pdf);
  const dataset: Item = {
    SOPClassUID: ENCAPSULATED_PDF,
    SOPInstanceUID: uids.instance,
    ...Object.fromEntries(copy.map((k) => [k, sr[k] ?? ''])),
    ...(sr.SpecificCharacterSet ? { SpecificCharacterSet: sr.SpecificCharacterSet } : {}),
    Modality: 'DOC',
    SeriesInstanceUID: uids.series,
    SeriesNumber: PDF_SERIES_NUMBER,
    SeriesDescription: `${String(sr.SeriesDescription ?? 'medvlm')} (PDF rendition)`.slice(0, 64),
    ConversionType: 'WSD',
    Manufacturer: 'medvlm',
    SoftwareVersions: packageVersion(),
    InstanceNumber: 1,
    ContentDate: sr.ContentDate,
    ContentTime: sr.ContentTime,
    AcquisitionDateTime: `${String(sr.ContentDate)}${String(sr.ContentTime)}`,
    BurnedInAnnotation: 'YES',
    DocumentTitle: title.slice(0, 64),
    ConceptNameCodeSequence: [],
    SourceInstanceSequence: [{ ReferencedSOPClassUID: sr.SOPClassUID, ReferencedSOPInstanceUID: sr.SOPInstanceUID }],
    MIMETypeOfEncapsulatedDocument: 'application/pdf',
    EncapsulatedDocument: [padded.buffer],
  };
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: ENCAPSULATED_PDF,
    MediaStorageSOPInstanceUID: uids.instance,
    TransferSyntaxUID: EXPLICIT_VR_LE,
    ImplementationClassUID: derivedUid('medvlm-implementation'),
    ImplementationVersionName: `MEDVLM_${packageVersion()}`.slice(0, 16),
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return { bytes: new Uint8Array(dict.write()), sopInstanceUid: uids.instance, seriesInstanceUid: uids.series, pdf };
}
