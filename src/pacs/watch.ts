/**
 * `watch`: poll a PACS with QIDO-RS and classify each new image series once, storing its SR.
 *
 * - Generic DICOMweb (no server-specific change feed): each poll lists the studies matching the filters
 *   (e.g. a StudyDate range) and their image series with instance counts.
 * - A series is analysed when its instance count is unchanged since the previous poll (it has settled).
 * - Idempotent per series and model without local state: the SR's UIDs derive from (series, model files,
 *   labels, templates), so "already analysed" is a QIDO-RS lookup of that SR. A restarted watcher, or one
 *   watching a restarted PACS, neither misses nor repeats a series.
 * - Network errors and 5xx (after the client's own retries) end the poll, not the watch: the next poll comes
 *   after a backoff that doubles up to `maxBackoffMs`. Authentication errors end the watch.
 */
import { errorToJSON, type ErrorCode } from '../core/errors.js';
import type { DualEncoder } from '../models/capabilities.js';
import { parseLabels } from '../tasks/zero-shot.js';
import { DEFAULT_TEMPLATES, type TemplateSet } from '../tasks/templates.js';
import { loadTemplates } from '../tasks/templates-files.js';
import type { ViewOptions } from '../transforms/index.js';
import { classifyStudy, NON_IMAGE_MODALITIES } from './classify.js';
import type { DicomwebClient, QidoFilters } from './client.js';
import { num, str } from './dicom-json.js';
import { srExists, storeSeriesSr, type SrOutcome } from './store-results.js';
import { srUids } from './sr.js';

/** What the watcher reports, one event at a time. */
export type WatchEvent =
  | { kind: 'poll'; poll: number; series: number }
  | { kind: 'analysed'; studyUid: string; seriesUid: string; images: number; failed: number; sr: SrOutcome }
  | { kind: 'already-done'; studyUid: string; seriesUid: string }
  | { kind: 'series-failed'; studyUid: string; seriesUid: string; error: { code: ErrorCode; message: string } }
  | { kind: 'poll-failed'; poll: number; error: { code: ErrorCode; message: string }; retryInMs: number };

/** Options of `watchPacs`. */
export interface WatchOptions {
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
  let failures = 0;
  for (let poll = 1; !opts.signal?.aborted && (opts.maxPolls === undefined || poll <= opts.maxPolls); poll++) {
    try {
      const studies = await client.searchStudies(opts.filters ?? {});
      let seen = 0;
      for (const study of studies) {
        const studyUid = str(study, 'StudyInstanceUID');
        const series = await client.searchSeries({ studyUid }, { includeFields: ['NumberOfSeriesRelatedInstances'] });
        for (const s of series) {
          if (opts.signal?.aborted) break;
          const seriesUid = str(s, 'SeriesInstanceUID');
          if (NON_IMAGE_MODALITIES.has(str(s, 'Modality').toUpperCase()) || done.has(seriesUid)) continue;
          seen++;
          const count = num(s, 'NumberOfSeriesRelatedInstances') ?? -1;
          const settled = opts.noSettle || lastCount.get(seriesUid) === count;
          lastCount.set(seriesUid, count);
          if (!settled) continue;
          const uids = srUids({ seriesUid, model, labels, templates: templates.name });
          if (await srExists(client, studyUid, uids.series, uids.instance)) {
            done.add(seriesUid);
            opts.onEvent?.({ kind: 'already-done', studyUid, seriesUid });
            continue;
          }
          try {
            const [result] = await classifyStudy(client, encoder, {
              studyUid, seriesUid, labels, templates, ...(opts.view ? { view: opts.view } : {}), ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
            });
            const sr = await storeSeriesSr(client, result, { model, labels, templates: templates.name, dryRun: opts.dryRun });
            done.add(seriesUid);
            opts.onEvent?.({ kind: 'analysed', studyUid, seriesUid, images: result.results.length, failed: result.failed.length, sr });
          } catch (e) {
            const error = errorToJSON(e);
            if (error.code === 'E_PACS_AUTH' || error.code === 'E_PACS_UNREACHABLE') throw e;
            // A series that cannot be analysed (e.g. removed meanwhile) is reported and retried next poll.
            opts.onEvent?.({ kind: 'series-failed', studyUid, seriesUid, error });
          }
        }
      }
      failures = 0;
      opts.onEvent?.({ kind: 'poll', poll, series: seen });
      if (opts.maxPolls === undefined || poll < opts.maxPolls) await sleep(interval, opts.signal);
    } catch (e) {
      const error = errorToJSON(e);
      if (!TRANSIENT.has(error.code)) throw e;
      failures++;
      const retryInMs = Math.min(maxBackoff, interval * 2 ** Math.min(failures - 1, 10));
      opts.onEvent?.({ kind: 'poll-failed', poll, error, retryInMs });
      await sleep(retryInMs, opts.signal);
    }
  }
}
