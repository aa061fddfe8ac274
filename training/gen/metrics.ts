/**
 * Metrics of medvlm-tiny-gen generations (training/gen/evaluate.py's JSON) with medvlm's own src/metrics:
 * BLEU-1..4, ROUGE-L, METEOR, CIDEr-D (the same settings as docs/search.md's draft-report table: the
 * reference is the image's caption + findings, CIDEr-D document frequencies over the set's references),
 * stated modality / body region right (src/metrics/report-facts.ts), and VQA-RAD closed accuracy (exact
 * match after normalizeAnswer) plus the LLaVA-Med protocol. 95% CIs: percentile bootstrap, 1,000
 * resamples, MedPix resampled by case.
 *
 * npx tsx training/gen/metrics.ts training/out/gen/run1/eval-test.json [out.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { bootstrapCI, closedAccuracy, mulberry32, normalizeAnswer, quantileSorted, textMetrics, type CI } from '../../src/metrics/index.js';
import { modalityRight, regionRight } from '../../src/metrics/report-facts.js';
import { scoreLlavaMedVqa } from '../../src/metrics/vqa-llava-med.js';

interface ReportItem { image: string; case: string; reference: string; text: string; modality: string; region: string }
interface VqaItem { answer: string; answer_type: string; question_type: string; prediction: string }
const [inPath, outPath, mode] = process.argv.slice(2);
/** `fast`: no bootstrap of the corpus metrics (used for the dev-set decoding choice). */
const fast = mode === 'fast';
const doc = JSON.parse(readFileSync(inPath, 'utf8')) as { reports: ReportItem[]; vqa?: VqaItem[] };
const reports = doc.reports;

/** Case-level percentile bootstrap of a statistic over report items. */
function byCase(stat: (items: number[]) => number, samples = 1000): CI {
  const cases = [...new Set(reports.map((r) => r.case))];
  const members = cases.map((c) => reports.flatMap((r, i) => (r.case === c ? [i] : [])));
  const value = stat(reports.map((_, i) => i));
  const rng = mulberry32(0);
  const vals: number[] = [];
  for (let b = 0; b < samples; b++) {
    const idx: number[] = [];
    for (let k = 0; k < cases.length; k++) idx.push(...members[Math.floor(rng() * cases.length)]);
    vals.push(stat(idx));
  }
  vals.sort((a, b) => a - b);
  return { value, lo: quantileSorted(vals, 0.025), hi: quantileSorted(vals, 0.975) };
}

const text = (idx: number[]) => textMetrics(idx.map((i) => [reports[i].reference]), idx.map((i) => reports[i].text));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const full = text(reports.map((_, i) => i));
const result: Record<string, unknown> = {
  n: reports.length,
  cases: new Set(reports.map((r) => r.case)).size,
  text: full,
  rougeL: byCase((idx) => text(idx).rougeL, fast ? 0 : 100),
  ciderD: byCase((idx) => text(idx).ciderD, fast ? 0 : 100),
  modalityRight: byCase((idx) => mean(idx.map((i) => modalityRight(reports[i].text, reports[i].modality)))),
  regionRight: byCase((idx) => mean(idx.map((i) => regionRight(reports[i].text, reports[i].region)))),
  meanWords: mean(reports.map((r) => r.text.split(/\s+/).filter(Boolean).length)),
  meanReferenceWords: mean(reports.map((r) => r.reference.split(/\s+/).filter(Boolean).length)),
};
if (doc.vqa) {
  const closed = doc.vqa.filter((q) => q.answer_type === 'CLOSED');
  const hit = closed.map((q) => (normalizeAnswer(q.answer) === normalizeAnswer(q.prediction) ? 1 : 0));
  result.vqaClosed = {
    n: closed.length,
    accuracy: bootstrapCI(closed.length, (idx) => mean(idx.map((i) => hit[i]))),
    check: closedAccuracy(closed.map((q) => q.answer), closed.map((q) => q.prediction)),
    byType: Object.fromEntries(
      [...new Set(closed.map((q) => q.question_type))].map((t) => {
        const ix = closed.flatMap((q, i) => (q.question_type === t ? [i] : []));
        return [t, { n: ix.length, accuracy: mean(ix.map((i) => hit[i])) }];
      }),
    ),
    predictions: Object.fromEntries([...new Set(closed.map((q) => normalizeAnswer(q.prediction)))].map((p) => [p, closed.filter((q) => normalizeAnswer(q.prediction) === p).length])),
  };
  result.llavaMed = scoreLlavaMedVqa(doc.vqa.map((q) => ({ answerType: q.answer_type, truth: q.answer, predicted: q.prediction }))).summary;
}
const json = JSON.stringify(result, null, 1);
if (outPath) writeFileSync(outPath, `${json}\n`);
console.log(json);
