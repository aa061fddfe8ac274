/**
 * Generated draft reports: a generative vision-language model writes the draft, optionally with the
 * reports of the most similar cases (retrieved by the existing draft-report retrieval) placed in its
 * prompt — retrieval-augmented generation — and those cases listed as the draft's sources. Only the
 * view's pixels and the retrieved report texts reach the generator (never file names or headers).
 * A research draft, not a report.
 */
import { OptionError } from '../core/errors.js';
import type { GenerationOptions, GenerationResult, VisionLanguageGenerator } from '../models/capabilities.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import type { ViewOptions } from '../transforms/index.js';
import { generateForFile } from './generate.js';

/** One retrieved case given to the generator as context. */
export interface DraftSourceCase {
  /** Image path of the case in the corpus. */
  path: string;
  caseId?: string;
  /** Cosine similarity between the query image and the case. */
  similarity: number;
  /** The case's report text as placed in the prompt (after truncation). */
  text: string;
}

/** A generated draft with its provenance. */
export interface GeneratedDraft {
  notice: string;
  image: string;
  /** The generated draft. */
  text: string;
  /** Which generator wrote it and how. */
  generator: { id: string; backend: string; model: string };
  /** The full prompt sent with the image. */
  prompt: string;
  /** The retrieved cases placed in the prompt, nearest first (empty without an index). */
  sources: DraftSourceCase[];
  /** The generation record (usage, finish reason, where the image went, elapsed time). */
  generation: Omit<GenerationResult, 'text'>;
}

/** Options of `generatedDraft`. */
export interface GeneratedDraftOptions extends GenerationOptions {
  /** Retrieved cases to place in the prompt (nearest first). */
  sources?: Array<Omit<DraftSourceCase, 'text'> & { texts: Record<string, string> }>;
  /** Text fields of a source case to use, in order (default: every field the corpus has). */
  fields?: string[];
  /** Most characters of one source case's text in the prompt (default 600). */
  maxSourceChars?: number;
  /** Instruction without sources (default: '' — the empty prompt is the report prompt of medvlm-tiny-gen). */
  instruction?: string;
  view?: ViewOptions;
}

/** The instruction used when retrieved reports are in the prompt. */
export const RAG_INSTRUCTION = 'Write a short radiology report (modality, body region, findings) for this image.';

function truncate(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (max <= 0) return '';
  if (t.length <= max) return t;
  const cut = t.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}

/** Source cases with their prompt text (fields joined, truncated). */
export function sourceCases(sources: NonNullable<GeneratedDraftOptions['sources']>, fields: string[] | undefined, maxChars: number): DraftSourceCase[] {
  return sources
    .map((s) => {
      const keys = fields ?? Object.keys(s.texts);
      const text = truncate(keys.map((k) => s.texts[k]).filter((t): t is string => Boolean(t)).join(' '), maxChars);
      return { path: s.path, ...(s.caseId ? { caseId: s.caseId } : {}), similarity: s.similarity, text };
    })
    .filter((s) => s.text.length > 0);
}

/**
 * The prompt: without sources, the instruction alone; with sources, the numbered reports of the similar
 * cases (labelled as other patients' reports, to be used only where the image agrees) and the instruction.
 */
export function ragPrompt(sources: DraftSourceCase[], instruction: string = RAG_INSTRUCTION): string {
  if (sources.length === 0) return instruction;
  const lines = sources.map((s, i) => `[${i + 1}] ${s.text}`);
  return [
    'Reports of similar cases (other patients; use only what this image supports):',
    ...lines,
    '',
    instruction || RAG_INSTRUCTION,
  ].join('\n');
}

/** Characters per prompt token assumed when fitting source texts into a small context window. */
const CHARS_PER_TOKEN = 4;

/**
 * Characters of one source case's text in the prompt: 600, or less for a model with a small fixed
 * context (`info.contextTokens`), so that instruction, sources and `maxTokens` new tokens fit.
 */
export function sourceCharBudget(generator: VisionLanguageGenerator, sources: number, maxTokens = 128): number {
  const window = generator.info.contextTokens;
  if (window === undefined || sources === 0) return 600;
  const instructionTokens = Math.ceil((RAG_INSTRUCTION.length + 80) / CHARS_PER_TOKEN);
  const free = window - maxTokens - instructionTokens - 4 * sources;
  return Math.max(0, Math.min(600, Math.floor((free * CHARS_PER_TOKEN) / sources)));
}

/** Write a draft for one file with a generator, with retrieved cases as context when given. */
export async function generatedDraft(generator: VisionLanguageGenerator, file: string, opts: GeneratedDraftOptions = {}): Promise<GeneratedDraft> {
  const { sources: raw = [], fields, maxSourceChars, instruction, view, ...generation } = opts;
  const sources = sourceCases(raw, fields, maxSourceChars ?? sourceCharBudget(generator, raw.length, generation.maxTokens));
  if (raw.length > 0 && sources.length === 0) {
    const anyText = raw.some((r) => (fields ?? Object.keys(r.texts)).some((k) => Boolean(r.texts[k]?.trim())));
    if (!anyText) throw new OptionError('E_BAD_OPTION', `none of the ${raw.length} retrieved cases has text in the requested fields`, { option: 'fields' });
    throw new OptionError(
      'E_BAD_OPTION',
      `${generator.info.id}: ${generator.info.contextTokens ?? '?'} positions in all leave no room for the retrieved reports next to the instruction and ${generation.maxTokens ?? 128} new tokens; lower maxTokens (CLI: --max-tokens) or use a generator with a longer context`,
      { option: 'maxTokens' },
    );
  }
  const prompt = sources.length > 0 ? ragPrompt(sources, instruction ?? RAG_INSTRUCTION) : (instruction ?? '');
  const result = await generateForFile(generator, file, prompt, { ...generation, ...(view ? { view } : {}) });
  const { text, notice: _notice, file: _file, prompt: _prompt, view: _view, ...record } = result;
  return {
    notice: `Research draft, ${sources.length > 0 ? `generated with ${sources.length} similar cases as context` : 'generated'}. ${RESEARCH_NOTICE}`,
    image: file,
    text: text.trim(),
    generator: { id: generator.info.id, backend: generator.info.backend, model: generator.info.model },
    prompt,
    sources,
    generation: record,
  };
}
