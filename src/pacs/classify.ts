/**
 * Zero-shot classification of a study in a PACS: instances are retrieved with WADO-RS into memory (never
 * written to disk), decoded and scored exactly as `medvlm classify` scores files. Non-image series (SR,
 * KO, PR, SEG, ...) are skipped; an instance that cannot be retrieved or decoded is reported and the
 * others go on.
 */
import { errorToJSON, type ErrorCode } from '../core/errors.js';
import type { DualEncoder } from '../models/capabilities.js';
import { encodePrepared, isFileError, prepareInput } from '../tasks/batch.js';
import { labelEmbeddings, parseLabels, rankLabels, scoreLabels, type LabelScore } from '../tasks/zero-shot.js';
import { DEFAULT_TEMPLATES, type TemplateSet } from '../tasks/templates.js';
import { loadTemplates } from '../tasks/templates-files.js';
import type { ViewOptions } from '../transforms/index.js';
import type { DicomwebClient } from './client.js';
import { num, str, type DicomJson } from './dicom-json.js';

/** Modalities of series that hold no images to classify. */
export const NON_IMAGE_MODALITIES = new Set(['SR', 'KO', 'PR', 'SEG', 'RTSTRUCT', 'RTPLAN', 'RTDOSE', 'DOC', 'REG', 'FID', 'AU', 'ECG']);

/** One instance of a PACS series. */
export interface InstanceRef {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  instanceNumber?: number;
  frames?: number;
}

/** A classified instance. */
export interface InstanceScores {
  instance: InstanceRef;
  /** sha256 of the bytes retrieved and decoded. */
  sha256: string;
  /** 1-based frame the model saw, for multi-frame images. */
  frame?: number;
  labels: LabelScore[];
}

/** An instance that could not be retrieved or decoded. */
export interface InstanceFailure {
  instance: InstanceRef;
  error: { code: ErrorCode; message: string };
}

/** Results of one series. `sourceInstance` holds the bytes of one analysed instance (for the SR). */
export interface SeriesResults<R> {
  studyUid: string;
  seriesUid: string;
  modality: string;
  results: R[];
  failed: InstanceFailure[];
  sourceInstance?: Uint8Array;
}

/** An embedded instance. */
export interface InstanceEmbedding {
  instance: InstanceRef;
  /** sha256 of the bytes retrieved and decoded. */
  sha256: string;
  /** 1-based frame the model saw, for multi-frame images. */
  frame?: number;
  embedding: Float32Array;
}

/** Classification results of one series. */
export type SeriesScores = SeriesResults<InstanceScores>;
/** Image embeddings of one series. */
export type SeriesEmbeddings = SeriesResults<InstanceEmbedding>;

/** Options of `embedStudy`. */
export interface PacsEmbedOptions {
  studyUid: string;
  /** Only this series (default: every image series of the study). */
  seriesUid?: string;
  view?: ViewOptions;
  /** Images per encoder call (default 16). */
  batchSize?: number;
  /** Instances to leave out (e.g. already in an index); they are neither retrieved nor reported. */
  exclude?: (ref: InstanceRef) => boolean;
  /** Called after each instance (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** Options of `classifyStudy`. */
export interface PacsClassifyOptions extends PacsEmbedOptions {
  labels: string | string[];
  templates?: string | TemplateSet;
}

/** Instances of one series from QIDO-RS, in instance-number order. */
export async function listInstances(client: DicomwebClient, studyUid: string, seriesUid: string): Promise<InstanceRef[]> {
  const found = await client.searchInstances({ studyUid, seriesUid }, { includeFields: ['NumberOfFrames'] });
  return found
    .map((j: DicomJson): InstanceRef => ({
      studyUid,
      seriesUid,
      sopInstanceUid: str(j, 'SOPInstanceUID'),
      sopClassUid: str(j, 'SOPClassUID'),
      instanceNumber: num(j, 'InstanceNumber'),
      frames: num(j, 'NumberOfFrames'),
    }))
    .sort((a, b) => (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0) || a.sopInstanceUid.localeCompare(b.sopInstanceUid));
}

/** The image series of a study (or the one asked for), with their modality. */
export async function imageSeries(client: DicomwebClient, studyUid: string, seriesUid?: string): Promise<Array<{ seriesUid: string; modality: string }>> {
  const series = await client.searchSeries({ studyUid, ...(seriesUid ? { seriesUid } : {}) });
  return series
    .map((j) => ({ seriesUid: str(j, 'SeriesInstanceUID'), modality: str(j, 'Modality'), number: num(j, 'SeriesNumber') ?? 0 }))
    .filter((s) => !NON_IMAGE_MODALITIES.has(s.modality.toUpperCase()))
    .sort((a, b) => a.number - b.number || a.seriesUid.localeCompare(b.seriesUid))
    .map(({ seriesUid: uid, modality }) => ({ seriesUid: uid, modality }));
}

/**
 * The zero-shot step itself, on image embeddings: one small function so a library-wide `pipeline()` can
 * take its place.
 */
export function scoreEmbedding(encoder: DualEncoder, embedding: Float32Array, labels: string[], labelEmbs: Float32Array[]): LabelScore[] {
  return rankLabels(labels, scoreLabels(encoder, embedding, labelEmbs));
}

/** Name under which a PACS instance appears in messages (no patient identifiers). */
export function instanceSource(ref: InstanceRef): string {
  return `pacs:${ref.sopInstanceUid}`;
}

/**
 * Retrieve, decode and embed every image instance of a study (or one series), in memory. Errors of the
 * connection itself (auth, server unreachable) end the run; per-instance problems are collected in `failed`.
 */
export async function embedStudy(client: DicomwebClient, encoder: DualEncoder, opts: PacsEmbedOptions): Promise<SeriesEmbeddings[]> {
  const batchSize = Math.max(1, opts.batchSize ?? 16);
  const series = await imageSeries(client, opts.studyUid, opts.seriesUid);
  const listed = await Promise.all(series.map((s) => listInstances(client, opts.studyUid, s.seriesUid)));
  const lists = opts.exclude ? listed.map((l) => l.filter((i) => !opts.exclude!(i))) : listed;
  const total = lists.reduce((n, l) => n + l.length, 0);
  let done = 0;
  const out: SeriesEmbeddings[] = series.map((se) => ({ studyUid: opts.studyUid, seriesUid: se.seriesUid, modality: se.modality, results: [], failed: [] }));
  // One queue across series, so encoder batches stay full when series are small.
  const work = lists.flatMap((list, s) => list.map((instance) => ({ s, instance })));
  const fetchBatch = (from: number) =>
    Promise.allSettled(work.slice(from, from + batchSize).map(({ instance: i }) => client.retrieveInstance(i.studyUid, i.seriesUid, i.sopInstanceUid)));
  // The next batch is retrieved while the current one is decoded and encoded.
  let pending = work.length > 0 ? fetchBatch(0) : undefined;
  for (let start = 0; start < work.length; start += batchSize) {
    const batch = work.slice(start, start + batchSize);
    const fetched = await pending!;
    pending = start + batchSize < work.length ? fetchBatch(start + batchSize) : undefined;
    // a connection that failed (auth, server gone) ends the run; anything else is this instance's own problem
    const fatal = fetched.find((f): f is PromiseRejectedResult => f.status === 'rejected' && ['E_PACS_AUTH', 'E_PACS_UNREACHABLE'].includes(errorToJSON(f.reason).code));
    if (fatal) {
      await pending;
      throw fatal.reason;
    }
    // the library's one batch path: decode → view → encode, each instance named by its SOP instance UID
    const results = await encodePrepared(
      encoder,
      batch.length,
      async (k) => {
        const got = fetched[k];
        if (got.status === 'rejected') throw got.reason;
        return prepareInput(got.value, k, { ...(opts.view ? { view: opts.view } : {}), hash: true, name: instanceSource(batch[k].instance) });
      },
      (k) => instanceSource(batch[k].instance),
      { batchSize },
    );
    results.forEach((r, k) => {
      const { s, instance } = batch[k];
      if (isFileError(r)) out[s].failed.push({ instance, error: { code: r.error.code, message: r.error.message } });
      else {
        const depth = r.header?.depth ?? 1;
        const frame = depth > 1 ? (opts.view?.frame ?? opts.view?.index ?? Math.floor(depth / 2)) + 1 : undefined;
        out[s].results.push({ instance, sha256: r.hash!, ...(frame !== undefined ? { frame } : {}), embedding: r.embedding });
        const got = fetched[k];
        if (got.status === 'fulfilled') out[s].sourceInstance ??= got.value;
      }
      opts.onProgress?.(++done, total);
    });
  }
  return out;
}

/** Classify every image instance of a study (or one series): `embedStudy`, then the zero-shot scores. */
export async function classifyStudy(client: DicomwebClient, encoder: DualEncoder, opts: PacsClassifyOptions): Promise<SeriesScores[]> {
  const labels = parseLabels(opts.labels);
  const templates = typeof opts.templates === 'object' ? opts.templates : loadTemplates(opts.templates ?? DEFAULT_TEMPLATES);
  const embedded = await embedStudy(client, encoder, opts);
  const any = embedded.some((s) => s.results.length > 0);
  const labelEmbs = any ? await labelEmbeddings(encoder, labels, templates) : [];
  return embedded.map((s) => ({
    ...s,
    results: s.results.map(({ embedding, ...r }) => ({ ...r, labels: scoreEmbedding(encoder, embedding, labels, labelEmbs) })),
  }));
}

/** One JSON row per instance (`medvlm pacs classify --json` results, also `/v1/pacs/classify`): as `medvlm classify --json` per file, with the UIDs. */
export function classifyRows(series: SeriesScores[], top?: number): unknown[] {
  return series.flatMap((s) => [
    ...s.results.map((r) => ({
      studyUid: s.studyUid, seriesUid: s.seriesUid, sopInstanceUid: r.instance.sopInstanceUid, sha256: r.sha256,
      ...(r.frame !== undefined ? { frame: r.frame } : {}), labels: top ? r.labels.slice(0, top) : r.labels,
    })),
    ...s.failed.map((f) => ({ studyUid: s.studyUid, seriesUid: s.seriesUid, sopInstanceUid: f.instance.sopInstanceUid, error: f.error })),
  ]);
}
