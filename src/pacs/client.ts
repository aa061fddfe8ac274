/**
 * A DICOMweb client (PS3.18): QIDO-RS search, WADO-RS retrieval, STOW-RS store. Works against any
 * conformant server; tested against Orthanc with its DICOMweb plugin.
 */
import { PacsError } from '../core/errors.js';
import { isUid, items, str, TAG, type DicomJson } from './dicom-json.js';
import { PacsHttp, type PacsHttpOptions } from './http.js';
import { buildMultipartRelated, parseMultipartRelated } from './multipart.js';

/** QIDO-RS match keys medvlm exposes, mapped to DICOM attributes. Values use DICOM matching (wildcards *, ?, date ranges A-B). */
export interface QidoFilters {
  patientId?: string;
  patientName?: string;
  /** YYYYMMDD or a range YYYYMMDD-YYYYMMDD (either end may be left open). */
  studyDate?: string;
  /** Study level: ModalitiesInStudy; series and instance level: Modality. */
  modality?: string;
  accession?: string;
  studyUid?: string;
  seriesUid?: string;
  sopInstanceUid?: string;
}

/** Paging and extra fields of a QIDO-RS search. */
export interface QidoOptions {
  limit?: number;
  offset?: number;
  /** Extra attributes to return (keywords or tags), or 'all'. */
  includeFields?: string[];
}

/** The outcome of a STOW-RS request. */
export interface StoreResult {
  stored: string[];
  failed: Array<{ sopInstanceUid: string; reason?: number }>;
}

/** Path segment for a UID; refuses anything that is not a UID (the value may come from a server or a user). */
function uidSegment(uid: string, what: string): string {
  if (!isUid(uid)) throw new PacsError('E_PACS_PROTOCOL', `${what} "${uid.slice(0, 80)}" is not a DICOM UID (digits and dots, at most 64 characters)`);
  return uid;
}

function qidoQuery(level: 'studies' | 'series' | 'instances', f: QidoFilters, o: QidoOptions): Record<string, string | undefined> {
  return {
    PatientID: f.patientId,
    PatientName: f.patientName,
    StudyDate: f.studyDate,
    [level === 'studies' ? 'ModalitiesInStudy' : 'Modality']: f.modality,
    AccessionNumber: f.accession,
    StudyInstanceUID: f.studyUid,
    SeriesInstanceUID: level !== 'studies' ? f.seriesUid : undefined,
    SOPInstanceUID: level === 'instances' ? f.sopInstanceUid : undefined,
    includefield: o.includeFields?.length ? o.includeFields.join(',') : undefined,
    limit: o.limit !== undefined ? String(o.limit) : undefined,
    offset: o.offset !== undefined ? String(o.offset) : undefined,
  };
}

/** Accept header asking for instances in the transfer syntax they are stored in (no transcoding). */
export const ACCEPT_DICOM_AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*';

/** DICOMweb client for one server. */
export class DicomwebClient {
  readonly http: PacsHttp;

  constructor(opts: PacsHttpOptions | PacsHttp) {
    this.http = opts instanceof PacsHttp ? opts : new PacsHttp(opts);
  }

  private async qido(path: string, level: 'studies' | 'series' | 'instances', f: QidoFilters, o: QidoOptions): Promise<DicomJson[]> {
    const res = await this.http.send({ path, query: qidoQuery(level, f, o), headers: { accept: 'application/dicom+json' } });
    if (res.status === 204 || res.body.length === 0) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(res.body).toString('utf8'));
    } catch (e) {
      throw new PacsError('E_PACS_PROTOCOL', `${this.http.describe(path)}: QIDO-RS answer is not JSON`, { cause: e });
    }
    if (!Array.isArray(parsed)) throw new PacsError('E_PACS_PROTOCOL', `${this.http.describe(path)}: QIDO-RS answer is not a JSON array`);
    return parsed as DicomJson[];
  }

  /** QIDO-RS: studies matching the filters. */
  searchStudies(f: QidoFilters = {}, o: QidoOptions = {}): Promise<DicomJson[]> {
    return this.qido('/studies', 'studies', f, o);
  }

  /** QIDO-RS: series, of one study when `studyUid` is given. */
  searchSeries(f: QidoFilters = {}, o: QidoOptions = {}): Promise<DicomJson[]> {
    const path = f.studyUid ? `/studies/${uidSegment(f.studyUid, 'study UID')}/series` : '/series';
    return this.qido(path, 'series', f.studyUid ? { ...f, studyUid: undefined } : f, o);
  }

  /** QIDO-RS: instances, of one study (and series) when given. */
  searchInstances(f: QidoFilters = {}, o: QidoOptions = {}): Promise<DicomJson[]> {
    let path = '/instances';
    let rest = f;
    if (f.studyUid) {
      path = `/studies/${uidSegment(f.studyUid, 'study UID')}`;
      if (f.seriesUid) path += `/series/${uidSegment(f.seriesUid, 'series UID')}`;
      path += '/instances';
      rest = { ...f, studyUid: undefined, seriesUid: undefined };
    }
    return this.qido(path, 'instances', rest, o);
  }

  /**
   * WADO-RS: the bytes of one instance, as stored (no transcoding).
   * @throws PacsError E_PACS_NOT_FOUND, E_PACS_PROTOCOL when the answer is not exactly one DICOM part.
   */
  async retrieveInstance(studyUid: string, seriesUid: string, sopInstanceUid: string): Promise<Uint8Array> {
    const path = `/studies/${uidSegment(studyUid, 'study UID')}/series/${uidSegment(seriesUid, 'series UID')}/instances/${uidSegment(sopInstanceUid, 'SOP instance UID')}`;
    const parts = await this.retrieve(path);
    if (parts.length !== 1) throw new PacsError('E_PACS_PROTOCOL', `${this.http.describe(path)}: expected 1 DICOM part, got ${parts.length}`);
    return parts[0];
  }

  /** WADO-RS: every instance of a series (one request), as stored. */
  retrieveSeries(studyUid: string, seriesUid: string): Promise<Uint8Array[]> {
    return this.retrieve(`/studies/${uidSegment(studyUid, 'study UID')}/series/${uidSegment(seriesUid, 'series UID')}`);
  }

  private async retrieve(path: string): Promise<Uint8Array[]> {
    const res = await this.http.send({ path, headers: { accept: ACCEPT_DICOM_AS_STORED } });
    const parts = parseMultipartRelated(res.contentType, res.body, this.http.describe(path));
    for (const p of parts) {
      if (p.contentType && !/^application\/dicom\b/i.test(p.contentType)) {
        throw new PacsError('E_PACS_PROTOCOL', `${this.http.describe(path)}: part of type "${p.contentType}" where application/dicom was expected`);
      }
    }
    return parts.map((p) => p.bytes);
  }

  /**
   * STOW-RS: store DICOM instances (Part 10 files), into `studyUid` when given.
   * @throws PacsError E_PACS_REJECTED when the server stored none of them.
   */
  async store(instances: Uint8Array[], studyUid?: string): Promise<StoreResult> {
    const path = studyUid ? `/studies/${uidSegment(studyUid, 'study UID')}` : '/studies';
    const { contentType, body } = buildMultipartRelated(instances);
    const res = await this.http.send({ method: 'POST', path, body, headers: { 'content-type': contentType, accept: 'application/dicom+json' } });
    let answer: DicomJson = {};
    if (res.body.length) {
      try {
        answer = JSON.parse(Buffer.from(res.body).toString('utf8')) as DicomJson;
      } catch (e) {
        throw new PacsError('E_PACS_PROTOCOL', `${this.http.describe(path)}: STOW-RS answer is not JSON`, { cause: e });
      }
    }
    const stored = items(answer, 'ReferencedSOPSequence').map((i) => str(i, 'ReferencedSOPInstanceUID'));
    const failed = items(answer, 'FailedSOPSequence').map((i) => {
      const reason = i[TAG.FailureReason]?.Value?.[0];
      return { sopInstanceUid: str(i, 'ReferencedSOPInstanceUID'), ...(typeof reason === 'number' ? { reason } : {}) };
    });
    if (instances.length > 0 && stored.length === 0) {
      throw new PacsError('E_PACS_REJECTED', `${this.http.describe(path)}: the server stored none of the ${instances.length} instances${failed.length ? ` (failure reasons ${failed.map((f) => f.reason ?? '?').join(', ')})` : ''}`);
    }
    return { stored, failed };
  }

  /** Close the connections. */
  close(): Promise<void> {
    return this.http.close();
  }
}
