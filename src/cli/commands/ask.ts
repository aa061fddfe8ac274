import { Command } from 'commander';
import { DEFAULT_GENERATOR, DEFAULT_MODEL } from '../../models/defaults.js';
import { loadGenerator } from '../../models/generators.js';
import { askOpen, isClosedQuestion } from '../../tasks/ask-open.js';
import { note } from '../output.js';
import { pipeline } from '../../tasks/pipeline.js';
import { DEFAULT_TEMPLATES } from '../../tasks/templates.js';
import { GENERATOR_DTYPE_HELP, generatorOptions, pipelineOptions, type ModelCliOptions } from '../model.js';
import { intOption, modelOptions, toViewOptions, viewOptions, type ViewCliOptions } from '../options.js';
import { out } from '../output.js';

interface AskCliOptions extends ModelCliOptions, ViewCliOptions {
  choices?: string;
  generator?: string;
  maxTokens?: number;
  allowRemote?: boolean;
  apiKeyFile?: string;
  generatorDtype?: string;
  templates: string;
  json?: boolean;
}

/**
 * `medvlm ask IMAGE "QUESTION" [--choices a,b,c] [--generator MODEL]`: closed questions by ranking answer
 * statements with the dual encoder; open questions by a generative model (default: the bundled medvlm-tiny-gen).
 */
export function askCommand(): Command {
  const cmd = new Command('ask')
    .description(
      'answer a question about an image: closed ones (yes/no, "A or B", or --choices) by ranking answer statements with the dual encoder, open ones with a generative model',
    )
    .argument('<image>', 'image file')
    .argument('<question>', 'e.g. "Is there a pleural effusion?"')
    .option('--choices <list>', 'candidate answers, comma-separated (for "which/what" questions)')
    .option('-t, --templates <name|file>', 'prompt templates for --choices answers', DEFAULT_TEMPLATES)
    .option('-g, --generator <id>', `generative model for open questions (local folder, bundled name, openai:URL#MODEL, anthropic:MODEL, gemini:MODEL; default ${DEFAULT_GENERATOR})`)
    .option('--max-tokens <n>', 'most new tokens of an open answer (default 32)', intOption('--max-tokens', 1))
    .option('--allow-remote', 'allow sending the image (re-encoded PNG pixels only) to a generator on another host')
    .option('--api-key-file <file>', 'file holding the API key of a served generator')
    .option('--generator-dtype <dtype>', GENERATOR_DTYPE_HELP)
    .option('--json', 'print JSON (answer, candidates with statements and scores)');
  for (const o of [...modelOptions(DEFAULT_MODEL), ...viewOptions()]) cmd.addOption(o);
  return cmd.action(async (image: string, question: string, o: AskCliOptions) => {
    const choices = o.choices?.split(',').map((c) => c.trim()).filter(Boolean);
    if (!isClosedQuestion(question, choices)) {
      await askOpenCommand(image, question, o);
      return;
    }
    const askImage = await pipeline('visual-question-answering', o.model, { ...pipelineOptions(o), templates: o.templates, view: toViewOptions(o) });
    try {
      const r = await askImage(image, question, choices?.length ? { choices } : {});
      if (o.json) {
        out(JSON.stringify(r, null, 2));
        return;
      }
      out(`# ${r.notice}`);
      out(`${r.question}  →  ${r.answer}`);
      for (const c of r.candidates) out(`  ${c.score.toFixed(3)}  ${c.label}${c.statements.length === 1 ? `  ("${c.statements[0]}")` : ''}`);
    } finally {
      await askImage.dispose();
    }
  });
}

async function askOpenCommand(image: string, question: string, o: AskCliOptions): Promise<void> {
  const generator = await loadGenerator(o.generator ?? DEFAULT_GENERATOR, generatorOptions(o, false));
  try {
    const r = await askOpen(generator, image, question, { view: toViewOptions(o), ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}) });
    if (o.json) {
      out(JSON.stringify(r, null, 2));
      return;
    }
    out(`# ${r.notice}`);
    out(`${r.question}  →  ${r.answer || '(no answer)'}`);
    note(`medvlm: open question answered by ${r.generator.model} (${r.generator.backend}), ${r.generation.image.kind === 'local' ? 'on this machine' : `image sent as PNG pixels to ${r.generation.image.host}`}`);
  } finally {
    await generator.dispose();
  }
}
