import { Command } from 'commander';
import { DEFAULT_MODEL } from '../../models/defaults.js';
import { questionStatements } from '../../tasks/ask.js';
import { pipeline } from '../../tasks/pipeline.js';
import { DEFAULT_TEMPLATES } from '../../tasks/templates.js';
import { pipelineOptions, type ModelCliOptions } from '../model.js';
import { modelOptions, toViewOptions, viewOptions, type ViewCliOptions } from '../options.js';
import { out } from '../output.js';

interface AskCliOptions extends ModelCliOptions, ViewCliOptions {
  choices?: string;
  templates: string;
  json?: boolean;
}

/** `medvlm ask IMAGE "QUESTION" [--choices a,b,c]`: closed-question VQA by ranking answer statements. */
export function askCommand(): Command {
  const cmd = new Command('ask')
    .description('answer a closed question about an image (yes/no, "A or B", or --choices) by ranking answer statements with the dual encoder')
    .argument('<image>', 'image file')
    .argument('<question>', 'e.g. "Is there a pleural effusion?"')
    .option('--choices <list>', 'candidate answers, comma-separated (for "which/what" questions)')
    .option('-t, --templates <name|file>', 'prompt templates for --choices answers', DEFAULT_TEMPLATES)
    .option('--json', 'print JSON (answer, candidates with statements and scores)');
  for (const o of [...modelOptions(DEFAULT_MODEL), ...viewOptions()]) cmd.addOption(o);
  return cmd.action(async (image: string, question: string, o: AskCliOptions) => {
    const choices = o.choices?.split(',').map((c) => c.trim()).filter(Boolean);
    questionStatements(question, choices); // an unanswerable question is refused before the model loads
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
