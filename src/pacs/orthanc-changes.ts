/**
 * Orthanc's change log (`GET /changes?since=N`, Orthanc's own REST API beside its DICOMweb root), for
 * `watch`: instead of listing every study on every poll, the watcher reads only what changed since the
 * last sequence number. Only Orthanc has it; `detectOrthanc` tells Orthanc apart (its `/system` answer)
 * so that any other PACS falls back to QIDO-RS polling.
 */
import { PacsError } from '../core/errors.js';
import type { PacsHttp } from './http.js';

/** One entry of Orthanc's change log. */
export interface OrthancChange {
  Seq: number;
  ChangeType: string;
  ResourceType: string;
  /** Orthanc's own id of the resource (not a DICOM UID). */
  ID: string;
}

/** A page of the change log. */
export interface OrthancChangesPage {
  changes: OrthancChange[];
  /** Sequence number of the last change returned (the `since` of the next page). */
  last: number;
  /** No more changes after `last` for now. */
  done: boolean;
}

/** What `watch` needs to know of an Orthanc series. */
export interface OrthancSeriesInfo {
  studyUid: string;
  seriesUid: string;
  modality: string;
  instances: number;
}

/** Orthanc's REST API root for a DICOMweb root that ends in `/dicom-web` (the plugin's default), else undefined. */
export function orthancRootOf(dicomWebUrl: URL): string | undefined {
  const m = /^(.*)\/dicom-web\/?$/.exec(dicomWebUrl.pathname);
  return m ? `${dicomWebUrl.origin}${m[1]}` : undefined;
}

async function getJson<T>(http: PacsHttp, path: string, query?: Record<string, string>): Promise<T> {
  const res = await http.send({ path, ...(query ? { query } : {}), headers: { accept: 'application/json' } });
  try {
    return JSON.parse(Buffer.from(res.body).toString('utf8')) as T;
  } catch (e) {
    throw new PacsError('E_PACS_PROTOCOL', `${http.describe(path)}: answer is not JSON`, { cause: e });
  }
}

/** Orthanc's REST API: the change log and series lookups. */
export class OrthancRest {
  constructor(readonly http: PacsHttp) {}

  /** Changes after sequence number `since`, at most `limit`. */
  async changes(since: number, limit = 1000): Promise<OrthancChangesPage> {
    const r = await getJson<{ Changes?: OrthancChange[]; Last?: number; Done?: boolean }>(this.http, '/changes', { since: String(since), limit: String(limit) });
    if (!Array.isArray(r.Changes) || typeof r.Last !== 'number') throw new PacsError('E_PACS_PROTOCOL', `${this.http.describe('/changes')}: not an Orthanc change log`);
    return { changes: r.Changes, last: r.Last, done: Boolean(r.Done) };
  }

  /** The DICOM UIDs, modality and instance count of the series with Orthanc id `id`. */
  async series(id: string): Promise<OrthancSeriesInfo> {
    if (!/^[0-9a-f-]+$/.test(id)) throw new PacsError('E_PACS_PROTOCOL', `Orthanc series id "${id.slice(0, 60)}" is not an Orthanc id`);
    const s = await getJson<{ MainDicomTags?: Record<string, string>; ParentStudy?: string; Instances?: string[] }>(this.http, `/series/${id}`);
    const parent = s.ParentStudy ?? '';
    if (!/^[0-9a-f-]+$/.test(parent)) throw new PacsError('E_PACS_PROTOCOL', `${this.http.describe(`/series/${id}`)}: no parent study`);
    const study = await getJson<{ MainDicomTags?: Record<string, string> }>(this.http, `/studies/${parent}`);
    return {
      studyUid: study.MainDicomTags?.StudyInstanceUID ?? '',
      seriesUid: s.MainDicomTags?.SeriesInstanceUID ?? '',
      modality: s.MainDicomTags?.Modality ?? '',
      instances: s.Instances?.length ?? 0,
    };
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

/**
 * Whether the DICOMweb server is an Orthanc whose change log medvlm can read with the same credentials:
 * its REST root (`restUrl`, else the DICOMweb root without `/dicom-web`) answers `/system` with Orthanc's
 * fields and `/changes` with a change log. Otherwise the reason, and the watcher polls with QIDO-RS.
 * @throws PacsError E_PACS_UNREACHABLE when the server does not answer (so the caller can try again).
 */
export async function detectOrthanc(dicomWeb: PacsHttp, restUrl?: string): Promise<{ rest: OrthancRest; version: string } | { reason: string }> {
  const root = restUrl ?? orthancRootOf(dicomWeb.base);
  if (!root) return { reason: `the DICOMweb root ${dicomWeb.base.pathname} does not end in /dicom-web (Orthanc's default); not looking for Orthanc's REST API` };
  const rest = new OrthancRest(dicomWeb.at(root));
  try {
    const sys = await getJson<{ ApiVersion?: unknown; DicomAet?: unknown; Version?: unknown; Name?: unknown }>(rest.http, '/system');
    if (typeof sys.ApiVersion !== 'number' || typeof sys.DicomAet !== 'string' || typeof sys.Version !== 'string') {
      await rest.close();
      return { reason: `${rest.http.describe('/system')} does not answer as Orthanc does` };
    }
    await rest.changes(0, 1);
    return { rest, version: sys.Version };
  } catch (e) {
    await rest.close();
    // a server that cannot be reached now says nothing about what it is: the caller tries again later
    if (e instanceof PacsError && e.code === 'E_PACS_UNREACHABLE') throw e;
    return { reason: (e as Error).message };
  }
}
