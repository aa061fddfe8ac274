/**
 * Retrieval-based draft reports: find the cases nearest an image, split their reports/captions into
 * sentences, rank the sentences by how well they match the image, drop near-duplicates and simple
 * contradictions ("no effusion" vs "small effusion"), and return a draft in which every sentence
 * carries its provenance (source case, field, similarities). A research draft, not a report.
 */
import { existsSync } from 'node:fs';
import { inputError } from '../core/errors.js';
import { readManifest, type ManifestRecord } from '../index-store/manifest.js';
import type { CaseIndex } from '../index-store/store.js';
import { matchesWhere, type WhereFilter } from '../index-store/where.js';
import type { DualEncoder } from '../models/capabilities.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import { sha256File } from '../runtime/hashing.js';
import type { ViewOptions } from '../transforms/index.js';
import { fileToView } from './encode-files.js';
import { dot } from './zero-shot.js';

/** Where a draft sentence came from. */
export interface SentenceSource {
  /** Image path of the source case. */
  path: string;
  caseId?: string;
  /** Which text of the case (caption, findings, ...). */
  field: string;
}

/** One sentence of a draft with its provenance and scores. */
export interface DraftSentence {
  text: string;
  source: SentenceSource;
  /** Cosine similarity between the query image and the source case (image→image or image→text). */
  caseSimilarity: number;
  /** Cosine similarity between the query image and this sentence. */
  sentenceSimilarity: number;
  /** The ranking score: (1 - caseWeight) * sentenceSimilarity + caseWeight * caseSimilarity. */
  score: number;
}

/** A sentence left out, and why. */
export interface DroppedSentence {
  text: string;
  source: SentenceSource;
  reason: 'near-duplicate' | 'contradiction';
  /** The kept sentence it duplicated or contradicted. */
  keptInstead: string;
}

/** A draft report. */
export interface DraftReport {
  notice: string;
  image: string;
  /** The draft as one paragraph. */
  text: string;
  sentences: DraftSentence[];
  dropped: DroppedSentence[];
  /** The cases the sentences were drawn from, nearest first. */
  neighbours: Array<{ path: string; caseId?: string; similarity: number }>;
}

/** Options of `draftReport`. */
export interface DraftReportOptions {
  /** Nearest cases to draw sentences from (default 5). */
  k?: number;
  /** Sentences in the draft (default 3). */
  maxSentences?: number;
  /** Weight of the case similarity in a sentence's score, 0..1 (default 0.5). */
  caseWeight?: number;
  /** Near-duplicate threshold on the cosine similarity of sentence embeddings (default 0.95). */
  duplicateCosine?: number;
  /** Near-duplicate threshold on word-set Jaccard overlap (default 0.6). */
  duplicateJaccard?: number;
  /** Text fields to draw sentences from (default: all the corpus stores). */
  fields?: string[];
  /** Only cases whose metadata passes these filters. */
  where?: WhereFilter[];
  view?: ViewOptions;
}

/** A corpus of cases with texts: a medvlm index or a JSONL manifest (texts only, retrieved image→text). */
export type DraftCorpus = { index: CaseIndex } | { records: ManifestRecord[] };

/** Read a JSONL corpus (`image` + caption/findings/... per line), as for `index add --text-from`. */
export function readTextCorpus(file: string, fields?: readonly string[]): ManifestRecord[] {
  return fields ? readManifest(file, fields) : readManifest(file);
}

// ---------------------------------------------------------------------------------------------
// Sentences, negation and contradictions

const ABBREVIATIONS = /\b(e\.g|i\.e|vs|dr|approx|cf|fig|no|mr|ms|st)\.$/i;

/** Split a report into sentences (on . ! ? and line breaks; common abbreviations kept intact). */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n+/)) {
    let current = '';
    const parts = para.split(/(?<=[.!?])\s+/);
    for (const part of parts) {
      current = current ? `${current} ${part}` : part;
      if (ABBREVIATIONS.test(current.trim()) || /\b\d+\.$/.test(current.trim())) continue;
      out.push(current);
      current = '';
    }
    if (current) out.push(current);
  }
  return out.map((s) => s.replace(/\s+/g, ' ').trim()).filter((s) => words(s).length >= 2);
}

const STOP = new Set(
  ('a an the of in on at to for with and or but is are was were be been being there this that these those it its as by from ' +
    'into onto over under than then which who whose has have had seen noted identified demonstrated shown present visible ' +
    'image images imaging evidence finding findings also may can could would should likely suggest suggests suggesting consistent ' +
    'left right bilateral small large mild mildly moderate moderately severe significant new old acute chronic well both within ' +
    'any some more less most least very again other each one two three').split(' '),
);

/** Negation cues: no, not, without, negative for, absent, free of, none, denies, resolved. */
const NEG_CUE = /\b(no|not|without|negative for|absent|absence of|free of|none|nor|resolved|ruled out|rules out)\b/i;

/** Lower-case words (letters and digits). */
export function words(s: string): string[] {
  return s.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/** A crude singular: effusions → effusion, masses → mass. */
function stem(w: string): string {
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && /(ss|x|ch|sh)es$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) return w.slice(0, -1);
  return w;
}

/** Content words of a phrase (stop words, modifiers and numbers removed), stemmed. */
export function contentWords(s: string): string[] {
  return words(s).filter((w) => !STOP.has(w) && !/^\d+$/.test(w) && !NEG_CUE.test(w)).map(stem);
}

/** What a sentence says about findings: terms it asserts and terms it negates. */
export interface FindingPolarity {
  /** Head terms under a negation cue ("no pleural effusion or pneumothorax" → effusion, pneumothorax). */
  negated: string[];
  /** Content terms outside any negated phrase. */
  asserted: string[];
}

/**
 * Split a sentence into negated and asserted terms. A cue (no, without, negative for, absent, ...)
 * negates the phrase after it up to the end of the clause; "X is absent" negates X. Within a
 * negated phrase, coordinated items ("A or B", "A, B and C") each contribute their head (last)
 * content word.
 */
export function findingPolarity(sentence: string): FindingPolarity {
  const negated = new Set<string>();
  const asserted = new Set<string>();
  for (const clause of sentence.toLowerCase().split(/[;:]|,\s*(?:but|however|although)\b|\bbut\b|\bhowever\b/)) {
    const post = /^(.*?)\b(?:is|are|was|were)\s+(?:absent|not (?:seen|present|identified|visualized))\b(.*)$/.exec(clause);
    if (post) {
      for (const h of heads(post[1])) negated.add(h);
      for (const w of contentWords(post[2])) asserted.add(w);
      continue;
    }
    const m = /\b(no|not|without|negative for|absence of|free of|none of|ruled out|rules out)\b(.*)$/.exec(clause);
    if (!m) {
      for (const w of contentWords(clause)) asserted.add(w);
      continue;
    }
    const before = clause.slice(0, m.index);
    for (const w of contentWords(before)) asserted.add(w);
    for (const h of heads(m[2].replace(/^\s*(evidence|signs?|sign)\s+of\b/, ''))) negated.add(h);
  }
  for (const n of negated) asserted.delete(n);
  return { negated: [...negated], asserted: [...asserted] };
}

/** Heads (last content word) of the coordinated items of a phrase. */
function heads(phrase: string): string[] {
  const out: string[] = [];
  for (const item of phrase.split(/,|\bor\b|\band\b|\bnor\b/)) {
    const cw = contentWords(item);
    if (cw.length) out.push(cw[cw.length - 1]);
  }
  return out;
}

/**
 * The finding term on which two sentences contradict each other (one negates what the other
 * asserts), or undefined. Only this simple kind is detected: "no effusion" vs "small effusion".
 */
export function contradiction(a: string, b: string): string | undefined {
  const pa = findingPolarity(a);
  const pb = findingPolarity(b);
  const assertedB = new Set(pb.asserted);
  const assertedA = new Set(pa.asserted);
  return pa.negated.find((t) => assertedB.has(t)) ?? pb.negated.find((t) => assertedA.has(t));
}

/** Jaccard overlap of the two sentences' word sets. */
export function wordJaccard(a: string, b: string): number {
  const A = new Set(words(a));
  const B = new Set(words(b));
  let inter = 0;
  for (const w of A) if (B.has(w)) inter++;
  const union = A.size + B.size - inter;
  return union === 0 ? 1 : inter / union;
}

// ---------------------------------------------------------------------------------------------
// Drafting

/** A candidate sentence before selection. */
interface Candidate {
  text: string;
  source: SentenceSource;
  caseSimilarity: number;
  sentenceSimilarity: number;
  score: number;
  vector: Float32Array;
}

/**
 * Pick sentences best first, skipping near-duplicates of and contradictions with those already
 * kept. Exported for tests; `draftReport` calls it.
 */
export function selectSentences(
  candidates: Candidate[],
  opts: { maxSentences: number; duplicateCosine: number; duplicateJaccard: number },
): { kept: Candidate[]; dropped: DroppedSentence[] } {
  const kept: Candidate[] = [];
  const dropped: DroppedSentence[] = [];
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  for (const c of sorted) {
    if (kept.length >= opts.maxSentences) break;
    const dup = kept.find((k) => k.text.toLowerCase() === c.text.toLowerCase() || dot(k.vector, c.vector) >= opts.duplicateCosine || wordJaccard(k.text, c.text) >= opts.duplicateJaccard);
    if (dup) {
      dropped.push({ text: c.text, source: c.source, reason: 'near-duplicate', keptInstead: dup.text });
      continue;
    }
    const contra = kept.find((k) => contradiction(k.text, c.text) !== undefined);
    if (contra) {
      dropped.push({ text: c.text, source: c.source, reason: 'contradiction', keptInstead: contra.text });
      continue;
    }
    kept.push(c);
  }
  return { kept, dropped };
}

interface Neighbour {
  path: string;
  caseId?: string;
  similarity: number;
  texts: Record<string, string>;
}

async function neighbours(corpus: DraftCorpus, image: Float32Array, encoder: DualEncoder, selfHash: string | undefined, k: number, where: WhereFilter[]): Promise<Neighbour[]> {
  if ('index' in corpus) {
    const hits = await corpus.index.search(image, { k: k + 1, kind: 'image', where });
    return hits
      .filter((h) => h.hash !== selfHash && Object.keys(h.texts).length > 0)
      .slice(0, k)
      .map((h) => ({ path: h.path, ...(h.metadata.case_id ? { caseId: h.metadata.case_id } : {}), similarity: h.similarity, texts: h.texts }));
  }
  // A JSONL corpus has no image embeddings: rank its cases by image→text similarity of their texts.
  const records = corpus.records.filter((r) => Object.keys(r.texts).length > 0 && matchesWhere({ ...r.metadata, path: r.path }, where));
  const items = records.flatMap((r, i) => Object.values(r.texts).map((t) => ({ i, t })));
  const vecs = await encoder.encodeTexts(items.map((x) => x.t));
  const best = new Array<number>(records.length).fill(-Infinity);
  items.forEach((x, j) => (best[x.i] = Math.max(best[x.i], dot(image, vecs[j]))));
  return records
    .map((r, i) => ({ path: r.path, ...(r.metadata.case_id ? { caseId: r.metadata.case_id } : {}), similarity: best[i], texts: r.texts }))
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k);
}

/** Draft a report for an already-embedded image (used by `draftReport` and the evaluation). */
export async function draftFromEmbedding(
  encoder: DualEncoder,
  corpus: DraftCorpus,
  imagePath: string,
  image: Float32Array,
  opts: DraftReportOptions & { selfHash?: string } = {},
): Promise<DraftReport> {
  const k = Math.max(1, opts.k ?? 5);
  const caseWeight = Math.min(1, Math.max(0, opts.caseWeight ?? 0.5));
  const near = await neighbours(corpus, image, encoder, opts.selfHash, k, opts.where ?? []);
  const raw: Array<Omit<Candidate, 'sentenceSimilarity' | 'score' | 'vector'>> = [];
  const seen = new Set<string>();
  for (const n of near) {
    for (const [field, text] of Object.entries(n.texts)) {
      if (opts.fields && !opts.fields.includes(field)) continue;
      for (const s of splitSentences(text)) {
        const key = s.toLowerCase();
        if (seen.has(key)) continue; // the same sentence from a farther case adds nothing
        seen.add(key);
        raw.push({ text: s, source: { path: n.path, ...(n.caseId ? { caseId: n.caseId } : {}), field }, caseSimilarity: n.similarity });
      }
    }
  }
  const vecs = raw.length ? await encoder.encodeTexts(raw.map((r) => r.text)) : [];
  const candidates: Candidate[] = raw.map((r, i) => {
    const sentenceSimilarity = dot(image, vecs[i]);
    return { ...r, sentenceSimilarity, score: (1 - caseWeight) * sentenceSimilarity + caseWeight * r.caseSimilarity, vector: vecs[i] };
  });
  const { kept, dropped } = selectSentences(candidates, {
    maxSentences: Math.max(1, opts.maxSentences ?? 3),
    duplicateCosine: opts.duplicateCosine ?? 0.95,
    duplicateJaccard: opts.duplicateJaccard ?? 0.6,
  });
  const sentences: DraftSentence[] = kept.map(({ text, source, caseSimilarity, sentenceSimilarity, score }) => ({ text, source, caseSimilarity, sentenceSimilarity, score }));
  return {
    notice: `Research draft, retrieved from similar cases. ${RESEARCH_NOTICE}`,
    image: imagePath,
    text: sentences.map((s) => (/[.!?]$/.test(s.text) ? s.text : `${s.text}.`)).join(' '),
    sentences,
    dropped,
    neighbours: near.map(({ path, caseId, similarity }) => ({ path, ...(caseId ? { caseId } : {}), similarity })),
  };
}

/** Draft a report for an image file from a corpus of similar cases. */
export async function draftReport(encoder: DualEncoder, corpus: DraftCorpus, imageFile: string, opts: DraftReportOptions = {}): Promise<DraftReport> {
  const { rgb } = await fileToView(imageFile, opts.view);
  const [vec] = await encoder.encodeImages([rgb]);
  const selfHash = await sha256File(imageFile).catch(() => undefined);
  return draftFromEmbedding(encoder, corpus, imageFile, vec, { ...opts, ...(selfHash ? { selfHash } : {}) });
}

/** True when a corpus argument names a JSONL file (anything else is taken as an index folder). */
export function isJsonlCorpus(path: string): boolean {
  if (!/\.jsonl$/i.test(path)) return false;
  if (!existsSync(path)) throw inputError('E_FILE_NOT_FOUND', path, 'no such corpus file');
  return true;
}
