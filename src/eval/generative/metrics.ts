/**
 * The metrics of the generative cells, from per-item outputs only (so a cell can be re-scored, and two
 * cells compared, without rerunning a model):
 * - `vqa`: closed accuracy = exact match after `normalizeAnswer`, overall and by question type; open
 *   questions: LLaVA-Med's token recall / exact match / F1; LLaVA-Med's closed protocol beside it;
 *   95% percentile bootstrap CIs over questions.
 * - `report-generation`: BLEU-1..4, ROUGE-L, METEOR, CIDEr-D (src/metrics/text.ts; CIDEr-D document
 *   frequencies over the measured references) and the stated modality / body region being right
 *   (src/metrics/report-facts.ts), with case-level bootstrap CIs — the conventions of
 *   training/gen/metrics.ts, which made the model card's numbers.
 */
import { bootstrapCI, normalizeAnswer, type CI } from '../../metrics/index.js';
import { TextMetricsResampler } from '../../metrics/text-resample.js';
import { groupedBootstrapCI, groupedBootstrapCIs } from '../../metrics/grouped-bootstrap.js';
import { modalityRight, regionRight } from '../../metrics/report-facts.js';
import { llavaMedClosedHit, llavaMedOpenScores, scoreLlavaMedVqa } from '../../metrics/vqa-llava-med.js';
import type { VqaData, VqaQuestion } from './data.js';
import type { ReportCell, ReportCellItem, VqaCell, VqaCellItem } from './schema.js';

/** Bootstrap settings. */
export interface BootstrapSettings {
  /** Resamples for per-item means (default 1000). */
  samples?: number;
  seed?: number;
}

const mean = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/** A question's scored output. */
export function scoreVqaItem(q: VqaQuestion, prediction: string): VqaCellItem {
  const base = { id: String(q.qid), qid: q.qid, image: q.image, question: q.question, truth: q.answer, prediction, answerType: q.answerType, questionType: q.questionType };
  if (q.answerType === 'CLOSED') return { ...base, hit: normalizeAnswer(q.answer) === normalizeAnswer(prediction) ? 1 : 0, llavaMedHit: llavaMedClosedHit(q.answer, prediction) };
  const o = llavaMedOpenScores(q.answer, prediction);
  return { ...base, recall: o.recall, exactMatch: o.exactMatch, f1: o.f1 };
}

function meanCI(values: number[], b: BootstrapSettings): CI {
  return bootstrapCI(values.length, (idx) => mean(idx.map((i) => values[i])), { samples: b.samples ?? 1000, seed: b.seed ?? 0 });
}

function byType(items: VqaCellItem[], value: (it: VqaCellItem) => number, b: BootstrapSettings): Record<string, { n: number; value: CI }> {
  const types = [...new Set(items.map((it) => it.questionType))].sort();
  return Object.fromEntries(
    types.map((t) => {
      const vs = items.filter((it) => it.questionType === t).map(value);
      return [t, { n: vs.length, value: meanCI(vs, b) }];
    }),
  );
}

/** The `vqa` metrics of scored items. */
export function vqaMetrics(items: VqaCellItem[], majority: VqaData['majority'], b: BootstrapSettings = {}): VqaCell['metrics'] {
  const closed = items.filter((it) => it.answerType === 'CLOSED');
  const open = items.filter((it) => it.answerType === 'OPEN');
  const llava = scoreLlavaMedVqa(
    items.map((it) => ({ answerType: it.answerType, truth: it.truth, predicted: it.prediction })),
    { bootstrap: b.samples ?? 1000, seed: b.seed ?? 0 },
  ).summary;
  return {
    kind: 'vqa',
    closed: { n: closed.length, accuracy: meanCI(closed.map((it) => it.hit ?? 0), b), byType: byType(closed, (it) => it.hit ?? 0, b) },
    open: {
      n: open.length,
      recall: meanCI(open.map((it) => it.recall ?? 0), b),
      exactMatch: meanCI(open.map((it) => it.exactMatch ?? 0), b),
      f1: meanCI(open.map((it) => it.f1 ?? 0), b),
      byType: byType(open, (it) => it.recall ?? 0, b),
    },
    llavaMed: llava,
    majority,
  };
}

/** A generated (or baseline) report scored against its item's truths. */
export function scoreReportItem(it: { id: string; caseId: string; reference: string; modality: string; region: string }, text: string, sources?: string[]): ReportCellItem {
  return {
    id: it.id,
    case: it.caseId,
    reference: it.reference,
    text,
    modality: it.modality,
    region: it.region,
    modalityRight: modalityRight(text, it.modality),
    regionRight: regionRight(text, it.region),
    ...(sources ? { sources } : {}),
  };
}

const words = (s: string): number => s.split(/\s+/).filter(Boolean).length;

/** The seven report text metrics. */
export type ReportTextScores = Record<'bleu1' | 'bleu2' | 'bleu3' | 'bleu4' | 'rougeL' | 'meteor' | 'ciderD', number>;

/**
 * The text metrics of any subset of `items` (one reference per item), = `textMetrics` on the subset;
 * per-item work is done once, so bootstrap resamples only recompute CIDEr-D's document frequencies.
 */
export function reportTextStat(items: ReportCellItem[]): (idx: number[]) => ReportTextScores {
  const r = new TextMetricsResampler(items.map((it) => [it.reference]), items.map((it) => it.text));
  return (idx) => {
    const m = r.metrics(idx);
    return { bleu1: m.bleu1, bleu2: m.bleu2, bleu3: m.bleu3, bleu4: m.bleu4, rougeL: m.rougeL, meteor: m.meteor, ciderD: m.ciderD };
  };
}

/** The conventions of the report metrics, as recorded in every cell. */
export const REPORT_CONVENTIONS =
  'reference = caption + findings of the test image (one reference per image); BLEU = nltk corpus_bleu, ROUGE-L beta 1.2, METEOR without WordNet, ' +
  'CIDEr-D with document frequencies over the measured references; modality/region right = the first modality/region the text names (src/metrics/report-facts.ts); ' +
  'CIs: percentile bootstrap resampling cases (all images of a case together), seed as recorded';

/**
 * The `report-generation` metrics of scored items.
 * @param textSamples resamples for the corpus metrics (default 100, as the model card; each one scores the whole corpus)
 */
export function reportMetrics(items: ReportCellItem[], b: BootstrapSettings & { textSamples?: number } = {}): ReportCell['metrics'] {
  const cases = items.map((it) => it.case);
  const seed = b.seed ?? 0;
  const textSamples = b.textSamples ?? 100;
  const fact = (key: 'modalityRight' | 'regionRight') => groupedBootstrapCI(cases, (idx) => mean(idx.map((i) => items[i][key])), { samples: b.samples ?? 1000, seed });
  return {
    kind: 'report-generation',
    n: items.length,
    cases: new Set(cases).size,
    text: groupedBootstrapCIs(cases, reportTextStat(items), { samples: textSamples, seed }),
    textBootstrap: textSamples,
    modalityRight: fact('modalityRight'),
    regionRight: fact('regionRight'),
    meanWords: mean(items.map((it) => words(it.text))),
    meanReferenceWords: mean(items.map((it) => words(it.reference))),
    conventions: REPORT_CONVENTIONS,
  };
}
