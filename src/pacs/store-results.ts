/**
 * Store classification results back in the PACS as one Comprehensive SR per analysed series, once:
 * the SR's UIDs derive from (series, model, labels, templates), so an SR already on the server is found
 * with QIDO-RS and not stored again.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelInfo } from '../models/capabilities.js';
import type { DicomwebClient } from './client.js';
import type { SeriesScores } from './classify.js';
import type { SeriesDraft } from './draft.js';
import { buildClassificationSr, buildDraftSr, draftSrUids, srUids, type ClassificationSr } from './sr.js';
import { buildSrPdf } from './sr-pdf.js';

/** What happened to one series' SR. */
export interface SrOutcome {
  seriesUid: string;
  srSeriesUid: string;
  srInstanceUid: string;
  status: 'stored' | 'already-stored' | 'dry-run' | 'nothing-analysed';
  /** Instances referenced by the SR. */
  references: number;
  /** Local copy, when asked for with `srOut`. */
  file?: string;
  /** The SR's PDF rendition (Encapsulated PDF), when asked for with `pdf`. */
  pdf?: { sopInstanceUid: string; status: 'stored' | 'already-stored' | 'dry-run'; file?: string };
}

/** Options of `storeSeriesSr`. */
export interface StoreSrOptions {
  model: Pick<ModelInfo, 'id' | 'dtype' | 'fileHashes'>;
  labels: string[];
  templates: string;
  /** Build the SR but do not send it. */
  dryRun?: boolean;
  /** Also write the SR file into this folder (named by its SOP instance UID). */
  srOut?: string;
  /** Also store a PDF rendition of the SR (Encapsulated PDF, modality DOC) that PACS web viewers open as a document. */
  pdf?: boolean;
}

/** True when the server already holds this SR instance in the study. */
export async function srExists(client: DicomwebClient, studyUid: string, srSeriesUid: string, srInstanceUid: string): Promise<boolean> {
  const found = await client.searchInstances({ studyUid, seriesUid: srSeriesUid, sopInstanceUid: srInstanceUid });
  return found.length > 0;
}

/** Build and (unless dry-run or already there) STOW-RS the SR of one analysed series. */
export async function storeSeriesSr(client: DicomwebClient, series: SeriesScores, opts: StoreSrOptions): Promise<SrOutcome> {
  const uids = srUids({ seriesUid: series.seriesUid, model: opts.model, labels: opts.labels, templates: opts.templates });
  const base = { seriesUid: series.seriesUid, srSeriesUid: uids.series, srInstanceUid: uids.instance, references: series.results.length };
  if (series.results.length === 0 || !series.sourceInstance) return { ...base, status: 'nothing-analysed' };
  const sr = buildClassificationSr({
    sourceInstance: series.sourceInstance,
    studyUid: series.studyUid,
    seriesUid: series.seriesUid,
    model: opts.model,
    labels: opts.labels,
    templates: opts.templates,
    results: series.results.map((r) => ({
      sopClassUid: r.instance.sopClassUid,
      sopInstanceUid: r.instance.sopInstanceUid,
      ...(r.frame !== undefined ? { frame: r.frame } : {}),
      labels: r.labels,
    })),
    failed: series.failed.map((f) => ({ sopInstanceUid: f.instance.sopInstanceUid, reason: `${f.error.message} [${f.error.code}]` })),
  });
  return sendSr(client, series.studyUid, sr, base, opts);
}

/** Keep a local copy if asked, then store the SR (and its PDF rendition) unless dry-run or already on the server. */
async function sendSr(
  client: DicomwebClient,
  studyUid: string,
  sr: ClassificationSr,
  base: Omit<SrOutcome, 'status'>,
  opts: { dryRun?: boolean; srOut?: string; pdf?: boolean },
): Promise<SrOutcome> {
  const file = await keepCopy(opts.srOut, sr.sopInstanceUid, sr.bytes);
  const withFile = file ? { ...base, file } : base;
  let status: SrOutcome['status'] = 'dry-run';
  if (!opts.dryRun) {
    status = (await srExists(client, studyUid, sr.seriesInstanceUid, sr.sopInstanceUid)) ? 'already-stored' : 'stored';
    if (status === 'stored') await client.store([sr.bytes], studyUid);
  }
  const pdf = opts.pdf ? await sendPdf(client, studyUid, sr, opts) : undefined;
  return { ...withFile, status, ...(pdf ? { pdf } : {}) };
}

async function keepCopy(folder: string | undefined, sopInstanceUid: string, bytes: Uint8Array): Promise<string | undefined> {
  if (!folder) return undefined;
  await mkdir(folder, { recursive: true });
  const file = join(folder, `${sopInstanceUid}.dcm`);
  await writeFile(file, bytes);
  return file;
}

async function sendPdf(client: DicomwebClient, studyUid: string, sr: ClassificationSr, opts: { dryRun?: boolean; srOut?: string }): Promise<NonNullable<SrOutcome['pdf']>> {
  const pdf = await buildSrPdf(sr.bytes);
  const file = await keepCopy(opts.srOut, pdf.sopInstanceUid, pdf.bytes);
  const base = { sopInstanceUid: pdf.sopInstanceUid, ...(file ? { file } : {}) };
  if (opts.dryRun) return { ...base, status: 'dry-run' };
  if (await srExists(client, studyUid, pdf.seriesInstanceUid, pdf.sopInstanceUid)) return { ...base, status: 'already-stored' };
  await client.store([pdf.bytes], studyUid);
  return { ...base, status: 'stored' };
}

/** Options of `storeDraftSr`. */
export interface StoreDraftSrOptions {
  model: Pick<ModelInfo, 'id' | 'dtype' | 'fileHashes'>;
  /** `corpusIdentity(path)`. */
  corpus: string;
  /** The draft options that change the result, as a stable string. */
  settings: string;
  dryRun?: boolean;
  srOut?: string;
  /** Also store the SR's PDF rendition. */
  pdf?: boolean;
}

/** Build and (unless dry-run or already there) STOW-RS the draft-report SR of one series. */
export async function storeDraftSr(client: DicomwebClient, series: SeriesDraft, opts: StoreDraftSrOptions): Promise<SrOutcome> {
  const uids = draftSrUids({ seriesUid: series.seriesUid, model: opts.model, corpus: opts.corpus, settings: opts.settings });
  const base = { seriesUid: series.seriesUid, srSeriesUid: uids.series, srInstanceUid: uids.instance, references: series.images.length };
  if (!series.draft || !series.sourceInstance) return { ...base, status: 'nothing-analysed' };
  const sr = buildDraftSr({
    sourceInstance: series.sourceInstance,
    studyUid: series.studyUid,
    seriesUid: series.seriesUid,
    model: opts.model,
    corpus: opts.corpus,
    settings: opts.settings,
    text: series.draft.text,
    sentences: series.draft.sentences.map((x) => ({
      text: x.text,
      sourceCase: x.source.caseId ?? x.source.path,
      field: x.source.field,
      caseSimilarity: x.caseSimilarity,
      sentenceSimilarity: x.sentenceSimilarity,
    })),
    images: series.images,
    failed: series.failed.map((f) => ({ sopInstanceUid: f.instance.sopInstanceUid, reason: `${f.error.message} [${f.error.code}]` })),
  });
  return sendSr(client, series.studyUid, sr, base, opts);
}
