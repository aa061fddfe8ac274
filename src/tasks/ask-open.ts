/**
 * Open questions ("What is the abnormality?", "Where is the lesion?") answered by a generative
 * vision-language model: the question is the prompt, the generated text is the answer. Closed questions
 * (yes/no, "A or B", given choices) stay with the dual encoder's answer ranking (ask.ts).
 */
import { OptionError } from '../core/errors.js';
import type { GenerationOptions, GenerationResult, VisionLanguageGenerator } from '../models/capabilities.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import type { ViewOptions } from '../transforms/index.js';
import { questionStatements } from './ask.js';
import { generateForFile } from './generate.js';

/** An open question's answer. */
export interface OpenAnswer {
  notice: string;
  image: string;
  question: string;
  kind: 'open';
  answer: string;
  generator: { id: string; backend: string; model: string };
  /** The generation record (usage, finish reason, where the image went, elapsed time). */
  generation: Omit<GenerationResult, 'text'>;
}

/** True when the question is closed (yes/no, "A or B", or answerable from `choices`): the dual encoder answers it. */
export function isClosedQuestion(question: string, choices?: string[]): boolean {
  try {
    questionStatements(question, choices);
    return true;
  } catch (e) {
    if (e instanceof OptionError) return false;
    throw e;
  }
}

/** Tokens of an open answer when the caller names no limit. */
export const OPEN_ANSWER_MAX_TOKENS = 32;

/** Answer an open question about one file with a generator. */
export async function askOpen(
  generator: VisionLanguageGenerator,
  file: string,
  question: string,
  opts: GenerationOptions & { view?: ViewOptions } = {},
): Promise<OpenAnswer> {
  const q = question.trim();
  if (!q) throw new OptionError('E_BAD_OPTION', 'question: empty', { option: 'question' });
  const { view, ...generation } = opts;
  const r = await generateForFile(generator, file, q, { maxTokens: OPEN_ANSWER_MAX_TOKENS, ...generation, ...(view ? { view } : {}) });
  const { text, notice: _n, file: _f, prompt: _p, view: _v, ...record } = r;
  return {
    notice: RESEARCH_NOTICE,
    image: file,
    question,
    kind: 'open',
    answer: text.trim(),
    generator: { id: generator.info.id, backend: generator.info.backend, model: generator.info.model },
    generation: record,
  };
}
