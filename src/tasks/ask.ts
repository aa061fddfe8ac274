/**
 * Closed-question visual question answering by answer ranking: the question and each candidate
 * answer become a statement ("there is a pleural effusion" / "there is no pleural effusion"), the
 * dual encoder scores each statement against the image, and the best-scoring answer wins.
 * Yes/no questions get their two statements from the question; "A or B" questions get one per
 * option; other questions need the candidate answers (`choices`).
 */
import { OptionError } from '../core/errors.js';
import type { DualEncoder } from '../models/capabilities.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import { meanNormalised } from '../core/vectors.js';
import type { ImageInput } from '../io/image-input.js';
import type { ViewOptions } from '../transforms/index.js';
import { embedOne } from './batch.js';
import { fillTemplate, type TemplateSet } from './templates.js';
import { LabelEmbeddingCache, rankLabels, scoreLabels, type LabelScore } from './zero-shot.js';

/** One candidate answer and the statement(s) that stand for it. */
export interface AnswerCandidate {
  answer: string;
  statements: string[];
}

/** How a question was turned into candidates. */
export type QuestionKind = 'yes/no' | 'either/or' | 'choices';

/** Candidates built from a question. */
export interface QuestionStatements {
  kind: QuestionKind;
  candidates: AnswerCandidate[];
}

const AUX = ['is', 'are', 'was', 'were', 'does', 'do', 'did', 'can', 'could', 'has', 'have', 'had', 'will', 'would', 'should', 'may', 'might'];
const DO_AUX = new Set(['does', 'do', 'did']);
const DETERMINERS = new Set(['the', 'this', 'these', 'that', 'those', 'a', 'an', 'his', 'her', 'its', 'their', 'both', 'all']);
const DEMONSTRATIVES = new Set(['this', 'that', 'it', 'these', 'those']);
const ARTICLES = new Set(['a', 'an', 'the', 'any', 'some']);
const MODAL_AUX = new Set(['can', 'could', 'has', 'have', 'had', 'will', 'would', 'should', 'may', 'might']);
/** Words that start a predicate after a subject ("is the heart | abnormally large"). */
const PREDICATE_START = new Set(
  ('normal abnormal abnormally enlarged present visible seen shown located larger smaller wider bigger more less well ' +
    'in on at of within above below under over near between into across beyond to from with without than ' +
    'there seen noted identified consistent compatible evident depicted involved affected displaced shifted ' +
    'hyperintense hypointense hyperdense hypodense isointense radiopaque radiolucent bright dark dilated thickened ' +
    'free fractured obstructed herniated homogeneous homogenous heterogeneous round oval circumscribed calcified ' +
    'pathologic pathological malignant benign symmetric symmetrical asymmetric large small').split(' '),
);

function clean(q: string): string {
  return q.trim().replace(/\s+/g, ' ').replace(/[?.!]+$/, '').trim();
}

/** Index of the word where the predicate starts, searching from `from` (at least one subject word). */
function predicateStart(ws: string[], from: number): number {
  let i = from;
  if (DETERMINERS.has(ws[i]?.toLowerCase())) i++;
  // possessive subjects ("the patient's heart"): keep consuming
  for (i = i + 1; i < ws.length; i++) {
    const w = ws[i].toLowerCase();
    if (PREDICATE_START.has(w) || /ly$/.test(w) || /ed$/.test(w)) return i;
  }
  return -1;
}

/**
 * The declarative form of a yes/no question and its negation:
 * "Is there a pleural effusion?" → "there is a pleural effusion" / "there is no pleural effusion";
 * "Is the heart enlarged?" → "the heart is enlarged" / "the heart is not enlarged";
 * "Does the image show a fracture?" → "the image shows a fracture" / "the image does not show a fracture".
 * Returns undefined when the question does not start with an auxiliary verb.
 */
export function yesNoStatements(question: string): { yes: string; no: string } | undefined {
  const ws = clean(question).split(' ');
  const aux = ws[0]?.toLowerCase();
  if (!aux || !AUX.includes(aux) || ws.length < 2) return undefined;
  const rest = ws.slice(1);
  const lower = rest.map((w) => w.toLowerCase());
  // "is there (any) X" / "are there X"
  if (lower[0] === 'there') {
    const what = rest.slice(lower[1] === 'any' ? 2 : 1).join(' ');
    const be = aux === 'are' || aux === 'were' ? (aux === 'are' ? 'are' : 'were') : aux === 'was' ? 'was' : 'is';
    if (AUX.includes(aux) && !['is', 'are', 'was', 'were'].includes(aux)) return { yes: `there ${aux} be ${what}`, no: `there ${aux} not be ${what}` };
    return { yes: `there ${be} ${what}`, no: `there ${be} no ${what.replace(/^(a|an|the|some)\s+/i, '')}` };
  }
  if (DO_AUX.has(aux)) {
    // does SUBJ VERB ...: the subject ends before the first verb-like word after it
    let v = 1;
    if (DETERMINERS.has(lower[0])) v = 2;
    while (v < lower.length && /'s$/.test(lower[v - 1])) v++;
    const subject = rest.slice(0, v).join(' ');
    const verb = rest[v] ?? '';
    const tail = rest.slice(v + 1).join(' ');
    const conj = aux === 'did' ? pastTense(verb) : aux === 'does' ? thirdPerson(verb) : verb;
    return { yes: `${subject} ${conj} ${tail}`.trim(), no: `${subject} ${aux} not ${verb} ${tail}`.trim() };
  }
  let cut: number;
  if (DEMONSTRATIVES.has(lower[0]) && (ARTICLES.has(lower[1] ?? '') || PREDICATE_START.has(lower[1] ?? '') || /^__opt__/.test(lower[1] ?? ''))) {
    cut = 1; // "is this a normal liver" → "this | is a normal liver"
  } else {
    const split = MODAL_AUX.has(aux) ? verbStart(lower, 1) : predicateStart(rest, 0);
    cut = split > 0 ? split : Math.min(rest.length, DETERMINERS.has(lower[0]) ? 2 : 1);
  }
  const subject = rest.slice(0, cut).join(' ');
  const predicate = rest.slice(cut).join(' ');
  if (!predicate) return { yes: `${subject}`, no: `no ${subject}` };
  return { yes: `${subject} ${aux} ${predicate}`, no: `${subject} ${aux} not ${predicate}` };
}

/** For "can/has/will SUBJ VERB": the first verb-like word after the subject. */
function verbStart(lower: string[], from: number): number {
  for (let i = from; i < lower.length; i++) if (/^(be|been|being)$/.test(lower[i]) || /(ed|en)$/.test(lower[i])) return i;
  return -1;
}

function thirdPerson(verb: string): string {
  if (/(s|x|ch|sh)$/.test(verb)) return `${verb}es`;
  if (/[^aeiou]y$/.test(verb)) return `${verb.slice(0, -1)}ies`;
  return `${verb}s`;
}

function pastTense(verb: string): string {
  if (/e$/.test(verb)) return `${verb}d`;
  return `${verb}ed`;
}

/**
 * Options named in an "A or B" question ("Is this an MRI or a CT?", "left, right, or both sides?").
 * Returns the options (articles dropped), the phrases as written, and the question with `{}` where
 * they stood, or undefined.
 */
export function eitherOrOptions(question: string): { options: string[]; phrases: string[]; template: string } | undefined {
  const q = clean(question);
  const m = /((?:\b[\w'-]+(?: [\w'-]+)?,\s*)*\b[\w'-]+(?: [\w'-]+)?),?\s+or\s+((?:an?\s+|the\s+)?[\w'-]+)/i.exec(q);
  if (!m) return undefined;
  const left = m[1].split(/,\s*/).map((s) => s.trim()).filter(Boolean);
  // keep only the last word(s) of the first option that belong to the alternative ("an MRI" of "Is this an MRI")
  const first = left[0].split(' ');
  const firstOpt = first.length > 1 && AUX.includes(first[0].toLowerCase()) ? first.slice(1).join(' ') : left[0];
  const phrases = [firstOpt, ...left.slice(1), m[2].trim()];
  const opts = phrases.map((o) => o.replace(/^(an?|the)\s+/i, ''));
  if (opts.length < 2 || opts.some((o) => o.length === 0)) return undefined;
  const start = m.index + (m[0].indexOf(firstOpt) >= 0 ? m[0].indexOf(firstOpt) : 0);
  const template = `${q.slice(0, start)}{}${q.slice(m.index + m[0].length)}`;
  return { options: opts, phrases, template };
}

/**
 * Turn a question (and optional candidate answers) into statements per answer.
 * @throws OptionError E_BAD_OPTION when the question is neither yes/no nor either/or and no choices are given.
 */
export function questionStatements(question: string, choices?: string[]): QuestionStatements {
  if (choices?.length) {
    const yn = choices.map((c) => c.toLowerCase()).sort().join(',') === 'no,yes' ? yesNoStatements(question) : undefined;
    if (yn) return { kind: 'yes/no', candidates: [{ answer: 'yes', statements: [yn.yes] }, { answer: 'no', statements: [yn.no] }] };
    return { kind: 'choices', candidates: choices.map((c) => ({ answer: c, statements: [] })) };
  }
  const eo = eitherOrOptions(question);
  if (eo) {
    const decl = yesNoStatements(eo.template.replace('{}', '__OPT__'));
    return {
      kind: 'either/or',
      candidates: eo.options.map((o, i) => ({ answer: o, statements: [decl ? decl.yes.replace('__OPT__', eo.phrases[i]) : eo.template.replace('{}', eo.phrases[i])] })),
    };
  }
  const yn = yesNoStatements(question);
  if (yn) return { kind: 'yes/no', candidates: [{ answer: 'yes', statements: [yn.yes] }, { answer: 'no', statements: [yn.no] }] };
  throw new OptionError('E_BAD_OPTION', `"${question}": not a yes/no or "A or B" question; give the candidate answers as choices (e.g. a,b,c)`, { option: 'choices' });
}

/** An answer with the scores of every candidate. */
export interface AskResult {
  notice: string;
  image: string;
  question: string;
  kind: QuestionKind;
  answer: string;
  /** Candidates with their statements and scores (softmax over candidates for CLIP models), best first. */
  candidates: Array<LabelScore & { statements: string[] }>;
}

/** Options of `ask`. */
export interface AskOptions {
  choices?: string[];
  /** Prompt templates for `choices` answers (required with `choices`; in Node `resolveTemplates()` gives the default set). */
  templates?: TemplateSet;
  /** Reuse label embeddings of `choices` answers across calls (a pipeline keeps one). */
  labelCache?: LabelEmbeddingCache;
  view?: ViewOptions;
}

function choiceTemplates(opts: AskOptions): TemplateSet {
  if (!opts.templates) throw new OptionError('E_BAD_OPTION', 'templates: answering from choices needs a prompt template set', { option: 'templates' });
  return opts.templates;
}

/** Text embedding per candidate: its statements, or template-ensembled answer labels for plain choices. */
export async function candidateEmbeddings(encoder: DualEncoder, q: QuestionStatements, opts: AskOptions = {}): Promise<Float32Array[]> {
  if (q.kind === 'choices') {
    return (opts.labelCache ?? new LabelEmbeddingCache(encoder)).get(q.candidates.map((c) => c.answer), choiceTemplates(opts));
  }
  const flat = q.candidates.flatMap((c) => c.statements);
  const embs = await encoder.encodeTexts(flat);
  let at = 0;
  return q.candidates.map((c) => meanNormalised(embs.slice(at, (at += c.statements.length))));
}

/** Answer a closed question about an already-embedded image. */
export async function askEmbedding(encoder: DualEncoder, image: Float32Array, imagePath: string, question: string, opts: AskOptions = {}): Promise<AskResult> {
  const q = questionStatements(question, opts.choices);
  const embs = await candidateEmbeddings(encoder, q, opts);
  const scores = scoreLabels(encoder, image, embs);
  const ranked = rankLabels(q.candidates.map((c) => c.answer), scores);
  const statements = new Map(q.candidates.map((c) => [c.answer, q.kind === 'choices' ? choiceTemplates(opts).templates.map((t) => fillTemplate(t, c.answer)) : c.statements]));
  return {
    notice: RESEARCH_NOTICE,
    image: imagePath,
    question,
    kind: q.kind,
    answer: ranked[0].label,
    candidates: ranked.map((r) => ({ ...r, statements: statements.get(r.label) ?? [] })),
  };
}

/** Answer a closed question about an image (path, URL, bytes or decoded image). */
export async function ask(encoder: DualEncoder, input: ImageInput, question: string, opts: AskOptions = {}): Promise<AskResult> {
  questionStatements(question, opts.choices); // refuse unanswerable questions before reading the image
  const { file, embedding } = await embedOne(encoder, input, opts);
  return askEmbedding(encoder, embedding, file, question, opts);
}
