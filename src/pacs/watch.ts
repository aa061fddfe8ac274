/**
 * `watch`: follow a PACS and classify each new image series once, storing its SR.
 *
 * - Orthanc (detected from its `/system` answer beside the DICOMweb root): each poll reads Orthanc's change
 *   log (`/changes?since=N`, orthanc-changes.ts) from the last sequence number; a new or stable series is
 *   looked up (UIDs, instance count) and checked until it is analysed. A watcher starts at sequence 0, so
 *   a restarted one sees every series again (and finds the done ones done); a log that went backwards
 *   (Orthanc's database replaced) is read again from 0.
 * - Any other DICOMweb server: each poll lists the studies matching the filters (e.g. a StudyDate range)
 *   and their image series with instance counts (QIDO-RS).
 * - A series is analysed when its instance count is unchanged since the previous poll (it has settled).
 * - Idempotent per series and model without local state: the SR's UIDs derive from (series, model files,
 *   labels, templates), so "already analysed" is a QIDO-RS lookup of that SR. A restarted watcher, or one
 *   watching a restarted PACS, neither misses nor repeats a series.
 * - Network errors and 5xx (after the client's own retries) end the poll, not the watch: the next poll comes
 *   after a backoff that doubles up to `maxBackoffMs`. Authentication errors end the watch.
 */
import { errorToJSON, PacsError, type ErrorCode } from '../core/errors.js';
import type { DualEncoder } from '../models/capabilities.js';
import { parseLabels } from '../tasks/zero-shot.js';
import { DEFAULT_TEMPLATES, type TemplateSet } from '../tasks/templates.js';
import { loadTemplates } from '../tasks/templates-files.js';
import type { ViewOptions } from '../transforms/index.js';
import { classifyStudy, NON_IMAGE_MODALITIES } from './classify.js';
import type { DicomwebClient, QidoFilters } from './client.js';
import { num, str } from './dicom-json.js';
import { detectOrthanc, type OrthancRest } from './orthanc-changes.js';
import { srExists, storeSeriesSr, type SrOutcome } from './store-results.js';
import { srUids } from './sr.js';

/** What the watcher reports, one event at a time. */
export type WatchEvent =
  | { kind: 'feed'; feed: WatchFeed; detail: string }
  | { kind: 'poll'; poll: number; series: number }
  | { kind: 'analysed'; studyUid: string; seriesUid: string; images: number; failed: number; sr: SrOutcome }
  | { kind: 'already-done'; studyUid: string; seriesUid: string }
  | { kind: 'series-failed'; studyUid: string; seriesUid: string; error: { code: ErrorCode; message: string } }
  | { kind: 'poll-failed'; poll: number; error: { code: ErrorCode; message: string }; retryInMs: number };

/** How the watcher learns of new series: Orthanc's change log, or QIDO-RS listings. */
export type WatchFeed = 'orthanc-changes' | 'qido';

/** Options of `watchPacs`. */
export interface WatchOptions {
  /** 'auto' (default): Orthanc's change log when the server is Orthanc, else QIDO-RS; or force one. */
  feed?: 'auto' | WatchFeed;
  /** Orthanc's REST root when it is not the DICOMweb root without `/dicom-web`. */
  orthancUrl?: string;
  labels: string | string[];
  templates?: string | TemplateSet;
  view?: ViewOptions;
  batchSize?: number;
  /** Study-level QIDO filters selecting what to watch (e.g. `{ studyDate: '20240101-' }`). */
  filters?: QidoFilters;
  /** Milliseconds between polls (default 10 000). */
  intervalMs?: number;
  /** Longest wait after failed polls (default 60 000). */
  maxBackoffMs?: number;
  /** Build the SRs but do not store them. */
  dryRun?: boolean;
  /** Analyse series without waiting for a second poll to confirm they have settled (for `--once`). */
  noSettle?: boolean;
  /** Stop after this many polls (default: until `signal` aborts). */
  maxPolls?: number;
  signal?: AbortSignal;
  onEvent?: (e: WatchEvent) => void;
}

/** Change types of Orthanc's log that make the watcher look at a series. */
const SERIES_CHANGES = new Set(['NewSeries', 'StableSeries']);

/** Poll failures the watcher rides out: the server down or restarting, a study removed while listed. */
const TRANSIENT = new Set<ErrorCode>(['E_PACS_UNREACHABLE', 'E_PACS_PROTOCOL', 'E_PACS_NOT_FOUND']);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Watch a PACS until `signal` aborts or `maxPolls` polls are done (see the module comment). */
export async function watchPacs(client: DicomwebClient, encoder: DualEncoder, opts: WatchOptions): Promise<void> {
  const labels = parseLabels(opts.labels);
  const templates = typeof opts.templates === 'object' ? opts.templates : loadTemplates(opts.templates ?? DEFAULT_TEMPLATES);
  const interval = opts.intervalMs ?? 10_000;
  const maxBackoff = opts.maxBackoffMs ?? 60_000;
  const model = encoder.info;
  const lastCount = new Map<string, number>();
  const done = new Set<string>();
  const filters = opts.filters ?? {};
  const hasFilters = Object.values(filters).some((v) => v !== undefined && v !== '');

  /** Analyse one image series once it has settled; true when it is done (now or before). */
  const consider = async (studyUid: string, seriesUid: string, modality: string, count: number): Promise<boolean> => {
    if (NON_IMAGE_MODALITIES.has(modality.toUpperCase()) || done.has(seriesUid)) return true;
    const settled = opts.noSettle || lastCount.get(seriesUid) === count;
    lastCount.set(seriesUid, count);
    if (!settled) return false;
    const uids = srUids({ seriesUid, model, labels, templates: templates.name });
    if (await srExists(client, studyUid, uids.series, uids.instance)) {
      done.add(seriesUid);
      opts.onEvent?.({ kind: 'already-done', studyUid, seriesUid });
      return true;
    }
    try {
      const [result] = await classifyStudy(client, encoder, {
        studyUid, seriesUid, labels, templates, ...(opts.view ? { view: opts.view } : {}), ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
      });
      const sr = await storeSeriesSr(client, result, { model, labels, templates: templates.name, dryRun: opts.dryRun });
      done.add(seriesUid);
      opts.onEvent?.({ kind: 'analysed', studyUid, seriesUid, images: result.results.length, failed: result.failed.length, sr });
      return true;
    } catch (e) {
      const error = errorToJSON(e);
      if (error.code === 'E_PACS_AUTH' || error.code === 'E_PACS_UNREACHABLE') throw e;
      // A series that cannot be analysed (e.g. removed meanwhile) is reported and retried next poll.
      opts.onEvent?.({ kind: 'series-failed', studyUid, seriesUid, error });
      return false;
    }
  };

  /** QIDO-RS: list the matching studies and their series. Returns how many image series were looked at. */
  const pollQido = async (): Promise<number> => {
    let seen = 0;
    for (const study of await client.searchStudies(filters)) {
      const studyUid = str(study, 'StudyInstanceUID');
      const series = await client.searchSeries({ studyUid }, { includeFields: ['NumberOfSeriesRelatedInstances'] });
      for (const s of series) {
        if (opts.signal?.aborted) break;
        const seriesUid = str(s, 'SeriesInstanceUID');
        if (NON_IMAGE_MODALITIES.has(str(s, 'Modality').toUpperCase()) || done.has(seriesUid)) continue;
        seen++;
        await consider(studyUid, seriesUid, str(s, 'Modality'), num(s, 'NumberOfSeriesRelatedInstances') ?? -1);
      }
    }
    return seen;
  };

  // Orthanc's change log: series (Orthanc ids) to check, and whether a study matches the filters
  let since = 0;
  const pending = new Set<string>();
  const studyMatches = new Map<string, boolean>();
  const pollChanges = async (rest: OrthancRest): Promise<number> => {
    for (;;) {
      const page = await rest.changes(since);
      if (page.last < since) {
        since = 0; // the log went backwards: another database; read it again
        continue;
      }
      for (const c of page.changes) if (c.ResourceType === 'Series' && SERIES_CHANGES.has(c.ChangeType)) pending.add(c.ID);
      since = page.last;
      if (page.done || page.changes.length === 0) break;
    }
    let seen = 0;
    for (const id of [...pending]) {
      if (opts.signal?.aborted) break;
      let info;
      try {
        info = await rest.series(id);
      } catch (e) {
        if (errorToJSON(e).code === 'E_PACS_NOT_FOUND') {
          pending.delete(id); // deleted meanwhile
          continue;
        }
        throw e;
      }
      if (hasFilters) {
        let ok = studyMatches.get(info.studyUid);
        if (ok === undefined) studyMatches.set(info.studyUid, (ok = (await client.searchStudies({ ...filters, studyUid: info.studyUid })).length > 0));
        if (!ok) {
          pending.delete(id);
          continue;
        }
      }
      if (!NON_IMAGE_MODALITIES.has(info.modality.toUpperCase()) && !done.has(info.seriesUid)) seen++;
      if (await consider(info.studyUid, info.seriesUid, info.modality, info.instances)) pending.delete(id);
    }
    return seen;
  };

  let feed: { kind: 'qido' } | { kind: 'orthanc-changes'; rest: OrthancRest } | undefined = opts.feed === 'qido' ? { kind: 'qido' } : undefined;
  if (feed) opts.onEvent?.({ kind: 'feed', feed: 'qido', detail: 'QIDO-RS polling (asked for)' });
  let failures = 0;
  try {
    for (let poll = 1; !opts.signal?.aborted && (opts.maxPolls === undefined || poll <= opts.maxPolls); poll++) {
      try {
        if (!feed) {
          const found = await detectOrthanc(client.http, opts.orthancUrl);
          if ('rest' in found) {
            feed = { kind: 'orthanc-changes', rest: found.rest };
            opts.onEvent?.({ kind: 'feed', feed: 'orthanc-changes', detail: `Orthanc ${found.version}: change log at ${found.rest.http.describe('/changes')}` });
          } else if (opts.feed === 'orthanc-changes') {
            throw new PacsError('E_PACS_PROTOCOL', `--feed orthanc: ${found.reason}`);
          } else {
            feed = { kind: 'qido' };
            opts.onEvent?.({ kind: 'feed', feed: 'qido', detail: `QIDO-RS polling (not Orthanc: ${found.reason})` });
          }
        }
        const seen = feed.kind === 'qido' ? await pollQido() : await pollChanges(feed.rest);
        failures = 0;
        opts.onEvent?.({ kind: 'poll', poll, series: seen });
        if (opts.maxPolls === undefined || poll < opts.maxPolls) await sleep(interval, opts.signal);
      } catch (e) {
        const error = errorToJSON(e);
        if (!TRANSIENT.has(error.code) || (opts.feed === 'orthanc-changes' && feed === undefined && error.code === 'E_PACS_PROTOCOL')) throw e;
        failures++;
        const retryInMs = Math.min(maxBackoff, interval * 2 ** Math.min(failures - 1, 10));
        opts.onEvent?.({ kind: 'poll-failed', poll, error, retryInMs });
        await sleep(retryInMs, opts.signal);
      }
    }
  } finally {
    if (feed?.kind === 'orthanc-changes') await feed.rest.close();
  }
}
