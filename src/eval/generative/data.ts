/**
 * The data of the generative evaluation tasks, read from the data root (`../shared/data` or MEDVLM_DATA;
 * nothing of it is in the repository):
 * - `vqa-rad` (task `vqa`): VQA-RAD `qa.jsonl`, the published **test** questions; the **train** split's
 *   answers are read only to define the majority-answer baseline (evaluation only: nothing is trained or
 *   tuned on VQA-RAD);
 * - `medpix2` (task `report-generation`): MedPix 2.0 `manifest.jsonl`, the official **test** split;
 *   reference = the image's caption + its case's findings (placeholder captions dropped), exactly as the
 *   model card's evaluation (training/gen/evaluate.py) and docs/search.md's draft-report table; the
 *   **train** split is the corpus of the nearest-report and draft-report baselines.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { inputError } from '../../core/errors.js';
import { readManifest, type ManifestRecord } from '../../index-store/manifest.js';
import { normalizeAnswer } from '../../metrics/index.js';

/** The generative evaluation tasks. */
export const GENERATIVE_TASKS = ['vqa', 'report-generation'] as const;
/** One generative evaluation task. */
export type GenerativeTask = (typeof GENERATIVE_TASKS)[number];

/** The data set each generative task is measured on. */
export const GENERATIVE_DATASET: Record<GenerativeTask, string> = { vqa: 'vqa-rad', 'report-generation': 'medpix2' };

const SOURCE: Record<GenerativeTask, string> = { vqa: 'vqa_rad/qa.jsonl', 'report-generation': 'medpix2/manifest.jsonl' };

/** The text fields a MedPix report is made of, in order (caption, then the case's findings). */
export const REPORT_FIELDS = ['caption', 'findings'] as const;

/** Where a task's data file is under `root`. */
export function generativeSource(task: GenerativeTask, root: string): string {
  return join(root, SOURCE[task]);
}

/** One VQA-RAD question. */
export interface VqaQuestion {
  qid: number;
  /** Image path relative to the VQA-RAD folder (e.g. `images/synpic54610.jpg`). */
  image: string;
  /** Absolute image path. */
  path: string;
  question: string;
  answer: string;
  answerType: 'CLOSED' | 'OPEN';
  /** VQA-RAD's question_type as published (e.g. `PRES`, `SIZE, PRES`). */
  questionType: string;
}

/** VQA-RAD as the `vqa` task reads it. */
export interface VqaData {
  file: string;
  test: VqaQuestion[];
  /** Most frequent normalised answer among the train split's closed / open questions, with counts. */
  majority: { closed: { answer: string; count: number; of: number }; open: { answer: string; count: number; of: number } };
}

function mostFrequent(answers: string[]): { answer: string; count: number; of: number } {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  const [answer, count] = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0] ?? ['', 0];
  return { answer, count, of: answers.length };
}

/**
 * Read VQA-RAD's test questions and the train split's majority answers.
 * @throws InputError E_FILE_NOT_FOUND when qa.jsonl is absent, E_DATASET_INVALID for a malformed row
 */
export function loadVqaRad(root: string): VqaData {
  const file = resolve(generativeSource('vqa', root));
  if (!existsSync(file)) throw inputError('E_FILE_NOT_FOUND', file, 'VQA-RAD qa.jsonl not found (set --data-root or MEDVLM_DATA)');
  const base = dirname(file);
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .map((l, i) => ({ l: l.trim(), i }))
    .filter((x) => x.l.length > 0)
    .map(({ l, i }) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch (e) {
        throw inputError('E_DATASET_INVALID', file, `line ${i + 1}: not JSON (${(e as Error).message})`, e);
      }
    });
  const test: VqaQuestion[] = [];
  const train: Record<'CLOSED' | 'OPEN', string[]> = { CLOSED: [], OPEN: [] };
  rows.forEach((r, i) => {
    const type = String(r.answer_type ?? '').toUpperCase() === 'CLOSED' ? 'CLOSED' : 'OPEN';
    if (typeof r.image !== 'string' || typeof r.question !== 'string' || r.answer === undefined) {
      throw inputError('E_DATASET_INVALID', file, `row ${i + 1}: needs "image", "question" and "answer"`);
    }
    if (r.split === 'train') train[type].push(normalizeAnswer(String(r.answer)));
    else if (r.split === 'test') {
      test.push({ qid: Number(r.qid), image: r.image, path: join(base, r.image), question: r.question, answer: String(r.answer), answerType: type, questionType: String(r.question_type ?? '') });
    }
  });
  if (test.length === 0) throw inputError('E_DATASET_INVALID', file, 'has no test-split questions');
  return { file, test, majority: { closed: mostFrequent(train.CLOSED), open: mostFrequent(train.OPEN) } };
}

/** One MedPix 2.0 image with its reference report and the facts a report should state. */
export interface ReportItem {
  /** Image path relative to the MedPix folder (the item id). */
  id: string;
  /** Absolute image path. */
  path: string;
  caseId: string;
  /** Caption + findings. */
  reference: string;
  /** Modality truth for `modalityRight` ('ct' or 'mri'; MedPix `type`). */
  modality: string;
  /** Body region truth for `regionRight` (MedPix `location_category`). */
  region: string;
  texts: Record<string, string>;
}

/** MedPix 2.0 as the `report-generation` task reads it. */
export interface MedpixData {
  file: string;
  test: ReportItem[];
  /** The baselines' corpus (train split, images with a report). */
  train: ReportItem[];
}

/** The report of a manifest record: its fields joined by a space (empty when none). */
export function reportText(texts: Record<string, string>): string {
  return REPORT_FIELDS.map((f) => texts[f]).filter(Boolean).join(' ');
}

function reportItem(r: ManifestRecord, base: string): ReportItem {
  const type = String(r.raw.type ?? '').toUpperCase();
  return {
    id: r.path.startsWith(base) ? r.path.slice(base.length + 1) : r.path,
    path: r.path,
    caseId: String(r.raw.case_id ?? r.path),
    reference: reportText(r.texts),
    modality: type === 'MR' ? 'mri' : type.toLowerCase(),
    region: String(r.raw.location_category ?? ''),
    texts: Object.fromEntries(REPORT_FIELDS.filter((f) => r.texts[f]).map((f) => [f, r.texts[f]])),
  };
}

/**
 * Read MedPix 2.0's test items and the train corpus (images whose caption + findings is empty are left out).
 * @throws InputError E_FILE_NOT_FOUND when manifest.jsonl is absent
 */
export function loadMedpixReports(root: string): MedpixData {
  const file = resolve(generativeSource('report-generation', root));
  if (!existsSync(file)) throw inputError('E_FILE_NOT_FOUND', file, 'MedPix 2.0 manifest.jsonl not found (set --data-root or MEDVLM_DATA)');
  const base = dirname(file);
  const records = readManifest(file, REPORT_FIELDS);
  const of = (split: string) => records.filter((r) => r.metadata.split === split).map((r) => reportItem(r, base)).filter((it) => it.reference.length > 0);
  const test = of('test');
  if (test.length === 0) throw inputError('E_DATASET_INVALID', file, 'has no test-split images with a caption or findings');
  return { file, test, train: of('train') };
}

/** sha256 over the item lines (id and truth), order kept: identifies exactly what a cell measured. */
export function itemsHash(lines: string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
