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

/** Keep a local copy if asked, then store the SR unless dry-run or already on the server. */
async function sendSr(
  client: DicomwebClient,
  studyUid: string,
  sr: ClassificationSr,
  base: Omit<SrOutcome, 'status'>,
  opts: { dryRun?: boolean; srOut?: string },
): Promise<SrOutcome> {
  let file: string | undefined;
  if (opts.srOut) {
    await mkdir(opts.srOut, { recursive: true });
    file = join(opts.srOut, `${sr.sopInstanceUid}.dcm`);
    await writeFile(file, sr.bytes);
  }
  const withFile = file ? { ...base, file } : base;
  if (opts.dryRun) return { ...withFile, status: 'dry-run' };
  if (await srExists(client, studyUid, sr.seriesInstanceUid, sr.sopInstanceUid)) return { ...withFile, status: 'already-stored' };
  await client.store([sr.bytes], studyUid);
  return { ...withFile, status: 'stored' };
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
