/**
 * Retrieval-based draft reports: find the cases nearest an image, split their reports/captions into
 * sentences, rank the sentences by how well they match the image, drop near-duplicates and simple
 * contradictions ("no effusion" vs "small effusion"), and return a draft in which every sentence
 * carries its provenance (source case, field, similarities). A research draft, not a report.
 */
import { OptionError } from '../core/errors.js';
import type { ManifestRecord } from '../index-store/manifest.js';
import type { CaseIndex } from '../index-store/store.js';
import { matchesWhere, type WhereFilter } from '../index-store/where.js';
import type { DualEncoder } from '../models/capabilities.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import { dot } from '../core/vectors.js';
import type { ImageInput } from '../io/image-input.js';
import type { ViewOptions } from '../transforms/index.js';
import { embedOne } from './batch.js';
import { contradiction, splitSentences, wordJaccard } from './report-text.js';

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

/** A case already embedded in memory (image embedding, normalised), with its texts. */
export interface EmbeddedCase {
  path: string;
  caseId?: string;
  texts: Record<string, string>;
  embedding: Float32Array;
}

/**
 * A corpus of cases with texts: a medvlm index, a JSONL manifest (texts only, retrieved image→text), or
 * cases embedded in memory (retrieved image→image by exact cosine, as an index's exact search; the evaluation uses it).
 */
export type DraftCorpus = { index: CaseIndex } | { records: ManifestRecord[] } | { embedded: EmbeddedCase[] };

/** The k cases of an in-memory corpus most similar to an image (exact cosine, ties by corpus order). */
export function nearestEmbedded(cases: EmbeddedCase[], image: Float32Array, k: number): Array<{ case: EmbeddedCase; similarity: number }> {
  return cases
    .map((c, i) => ({ case: c, similarity: dot(image, c.embedding), i }))
    .sort((a, b) => b.similarity - a.similarity || a.i - b.i)
    .slice(0, k)
    .map(({ case: c, similarity }) => ({ case: c, similarity }));
}

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

/** A retrieved similar case with its texts (the draft's neighbours, texts included). */
export interface SimilarCase {
  path: string;
  caseId?: string;
  similarity: number;
  texts: Record<string, string>;
}

async function neighbours(corpus: DraftCorpus, image: Float32Array, encoder: DualEncoder, selfHash: string | undefined, k: number, where: WhereFilter[]): Promise<SimilarCase[]> {
  if ('index' in corpus) {
    const hits = await corpus.index.search(image, { k: k + 1, kind: 'image', where });
    return hits
      .filter((h) => h.hash !== selfHash && Object.keys(h.texts).length > 0)
      .slice(0, k)
      .map((h) => ({ path: h.path, ...(h.metadata.case_id ? { caseId: h.metadata.case_id } : {}), similarity: h.similarity, texts: h.texts }));
  }
  if ('embedded' in corpus) {
    if (where.length > 0) throw new OptionError('E_BAD_OPTION', 'where: an in-memory corpus has no metadata to filter on; filter the cases before passing them', { option: 'where' });
    const withText = corpus.embedded.filter((c) => Object.keys(c.texts).length > 0);
    return nearestEmbedded(withText, image, k).map(({ case: c, similarity }) => ({ path: c.path, ...(c.caseId ? { caseId: c.caseId } : {}), similarity, texts: c.texts }));
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

/**
 * The k cases of a corpus most similar to an image, with their texts: the retrieval step of
 * `draftReport`, for drafts written by a generator (retrieval-augmented generation). The image itself,
 * when it is in the index, is not its own neighbour.
 */
export async function similarCases(
  encoder: DualEncoder,
  corpus: DraftCorpus,
  input: ImageInput,
  opts: { k?: number; where?: WhereFilter[]; view?: ViewOptions } = {},
): Promise<{ file: string; cases: SimilarCase[] }> {
  const { file, embedding, hash } = await embedOne(encoder, input, { ...(opts.view ? { view: opts.view } : {}), hash: true });
  return { file, cases: await neighbours(corpus, embedding, encoder, hash, Math.max(1, opts.k ?? 5), opts.where ?? []) };
}

/**
 * Draft a report for an image (path, URL, bytes or decoded image) from a corpus of similar cases. The
 * image itself, when it is in the index, is not its own neighbour (matched by content hash).
 */
export async function draftReport(encoder: DualEncoder, corpus: DraftCorpus, input: ImageInput, opts: DraftReportOptions = {}): Promise<DraftReport> {
  const { file, embedding, hash } = await embedOne(encoder, input, { ...opts, hash: true });
  return draftFromEmbedding(encoder, corpus, file, embedding, { ...opts, ...(hash ? { selfHash: hash } : {}) });
}
