/**
 * Draft reports for PACS series: the series' images are embedded in memory (`embedStudy`), their mean
 * embedding is matched against a case corpus (a medvlm index or a JSONL of cases) by the draft-report task,
 * and each sentence keeps its source case and field. One draft per image series.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { META_FILE } from '../index-store/meta.js';
import type { DualEncoder } from '../models/capabilities.js';
import { draftFromEmbedding, type DraftCorpus, type DraftReport, type DraftReportOptions } from '../tasks/draft-report.js';
import { meanNormalised } from '../core/vectors.js';
import { embedStudy, type InstanceFailure, type PacsEmbedOptions } from './classify.js';
import type { DicomwebClient } from './client.js';

/** Options of `draftStudyReports`. */
export interface PacsDraftOptions extends PacsEmbedOptions {
  draft?: Omit<DraftReportOptions, 'view'>;
}

/** The draft of one series, with the images it was made from. */
export interface SeriesDraft {
  studyUid: string;
  seriesUid: string;
  modality: string;
  images: Array<{ sopClassUid: string; sopInstanceUid: string; frame?: number; sha256: string }>;
  failed: InstanceFailure[];
  sourceInstance?: Uint8Array;
  /** Absent when no image of the series could be read. */
  draft?: DraftReport;
}

/** What identifies a corpus in an SR: its name and the sha256 of its file (JSONL) or index metadata. */
export function corpusIdentity(path: string): string {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, META_FILE) : path;
  const hash = existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'unknown';
  return `${basename(path)} sha256:${hash}`;
}

/** A draft report per image series of a study (or one series). */
export async function draftStudyReports(client: DicomwebClient, encoder: DualEncoder, corpus: DraftCorpus, opts: PacsDraftOptions): Promise<SeriesDraft[]> {
  const embedded = await embedStudy(client, encoder, opts);
  const out: SeriesDraft[] = [];
  for (const s of embedded) {
    const images = s.results.map((r) => ({
      sopClassUid: r.instance.sopClassUid,
      sopInstanceUid: r.instance.sopInstanceUid,
      sha256: r.sha256,
      ...(r.frame !== undefined ? { frame: r.frame } : {}),
    }));
    const base = { studyUid: s.studyUid, seriesUid: s.seriesUid, modality: s.modality, images, failed: s.failed, ...(s.sourceInstance ? { sourceInstance: s.sourceInstance } : {}) };
    if (s.results.length === 0) {
      out.push(base);
      continue;
    }
    const vec = meanNormalised(s.results.map((r) => r.embedding));
    const draft = await draftFromEmbedding(encoder, corpus, `pacs:series:${s.seriesUid}`, vec, { ...(opts.draft ?? {}) });
    out.push({ ...base, draft });
  }
  return out;
}
