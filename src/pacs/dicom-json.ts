/** Reading values out of the DICOM JSON model (PS3.18 F.2) that QIDO-RS and STOW-RS answer with. */

/** One attribute of a DICOM JSON object. */
export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
}

/** A DICOM JSON data set: attributes keyed by 8-hex-digit tag. */
export type DicomJson = Record<string, DicomJsonAttribute>;

/** Tags medvlm reads from QIDO-RS answers, by keyword. */
export const TAG = {
  SpecificCharacterSet: '00080005',
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPInstanceUID: '00081155',
  FailureReason: '00081197',
  PatientName: '00100010',
  PatientID: '00100020',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
  NumberOfFrames: '00280008',
} as const;

/** Keyword of a tag medvlm knows. */
export type TagKeyword = keyof typeof TAG;

/** First value of an attribute as a string ('' when absent); person names give their Alphabetic form. */
export function str(obj: DicomJson, keyword: TagKeyword): string {
  const v = obj[TAG[keyword]]?.Value?.[0];
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return String((v as { Alphabetic?: string }).Alphabetic ?? '');
  return String(v);
}

/** All values of an attribute as strings. */
export function strs(obj: DicomJson, keyword: TagKeyword): string[] {
  return (obj[TAG[keyword]]?.Value ?? []).map((v) => (typeof v === 'object' && v ? String((v as { Alphabetic?: string }).Alphabetic ?? '') : String(v)));
}

/** First value as a number, or undefined. */
export function num(obj: DicomJson, keyword: TagKeyword): number | undefined {
  const v = obj[TAG[keyword]]?.Value?.[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Items of a sequence attribute. */
export function items(obj: DicomJson, keyword: TagKeyword): DicomJson[] {
  return (obj[TAG[keyword]]?.Value ?? []) as DicomJson[];
}

/** A DICOM UID: digits and dots, at most 64 characters (also safe as a file name). */
export function isUid(s: string): boolean {
  return s.length > 0 && s.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(s);
}
