/**
 * The baselines of the generative tasks, computed in the same run on the same items:
 * - `majority-answer` (vqa): every closed question gets the most frequent closed answer of VQA-RAD's
 *   train split, every open question the most frequent open answer (the standard majority baseline);
 * - `nearest-report` (report-generation): the report of the most similar MedPix train image (exact cosine
 *   of the retriever's image embeddings);
 * - `draft-report` (report-generation): medvlm's retrieval-based draft (src/tasks/draft-report.ts) from
 *   the train images, with the settings docs/search.md chose on MedPix dev (k 5, 6 sentences, case weight 0).
 * Image embeddings go through the grid's embedding cache (one pair of files per retriever and data set).
 */
import type { DualEncoder } from '../../models/capabilities.js';
import { draftFromEmbedding, nearestEmbedded, type EmbeddedCase } from '../../tasks/draft-report.js';
import type { ViewOptions } from '../../transforms/index.js';
import type { EmbeddingStore } from '../cache.js';
import type { EvalItem } from '../datasets/types.js';
import { embedItems, type ItemFailure } from '../embed.js';
import { REPORT_FIELDS, type ReportItem, type VqaData, type VqaQuestion } from './data.js';
import { scoreReportItem, scoreVqaItem } from './metrics.js';
import type { ReportCellItem, VqaCellItem } from './schema.js';

/** Baseline ids (the `model.id` of their cells). */
export const BASELINES = { majority: 'baseline:majority-answer', nearest: 'baseline:nearest-report', draft: 'baseline:draft-report' } as const;

/** The draft-report baseline's settings (chosen on MedPix dev in docs/search.md). */
export const DRAFT_BASELINE_SETTINGS = { k: 5, maxSentences: 6, caseWeight: 0 } as const;

/** The majority-answer predictions of VQA-RAD questions. */
export function majorityAnswers(questions: VqaQuestion[], majority: VqaData['majority']): VqaCellItem[] {
  return questions.map((q) => scoreVqaItem(q, q.answerType === 'CLOSED' ? majority.closed.answer : majority.open.answer));
}

/** Options of `retrievalBaselines`. */
export interface RetrievalBaselineOptions {
  cache?: EmbeddingStore;
  view?: ViewOptions;
  batchSize?: number;
  onEmbedStart?: (images: number) => void;
  onProgress?: (done: number, total: number, name: string) => void;
  signal?: AbortSignal;
}

/** The nearest-report and draft-report outputs for the test items (items whose image fails are reported). */
export async function retrievalBaselines(
  encoder: DualEncoder,
  train: ReportItem[],
  test: ReportItem[],
  opts: RetrievalBaselineOptions = {},
): Promise<{ nearest: ReportCellItem[]; draft: ReportCellItem[]; failures: ItemFailure[]; embedMs: number }> {
  const all = [...train, ...test];
  const evalItems: EvalItem[] = all.map((it) => ({ id: it.id, images: [{ kind: 'file', path: it.path }] }));
  opts.onEmbedStart?.(evalItems.length);
  const embedded = await embedItems(encoder, evalItems, {
    ...(opts.cache ? { cache: opts.cache } : {}),
    view: opts.view ?? {},
    batchSize: opts.batchSize ?? 16,
    onProgress: (done, total, name) => {
      opts.signal?.throwIfAborted();
      opts.onProgress?.(done, total, name);
    },
  });
  const corpus: EmbeddedCase[] = [];
  train.forEach((it, i) => {
    const e = embedded.embeddings[i];
    if (e) corpus.push({ path: it.id, caseId: it.caseId, texts: it.texts, embedding: e });
  });
  const nearest: ReportCellItem[] = [];
  const draft: ReportCellItem[] = [];
  for (let j = 0; j < test.length; j++) {
    opts.signal?.throwIfAborted();
    const e = embedded.embeddings[train.length + j];
    if (!e) continue;
    const it = test[j];
    const [best] = nearestEmbedded(corpus, e, 1);
    nearest.push(scoreReportItem(it, best ? REPORT_FIELDS.map((f) => best.case.texts[f]).filter(Boolean).join(' ') : '', best ? [best.case.path] : []));
    const d = await draftFromEmbedding(encoder, { embedded: corpus }, it.id, e, { ...DRAFT_BASELINE_SETTINGS, fields: [...REPORT_FIELDS] });
    draft.push(scoreReportItem(it, d.text, d.neighbours.map((n) => n.path)));
  }
  return { nearest, draft, failures: embedded.failures, embedMs: embedded.stats.totalMs };
}
