import { Command, Option } from 'commander';
import { OptionError } from '../../core/errors.js';
import { parseWhere } from '../../index-store/where.js';
import { pipeline } from '../../tasks/pipeline.js';
import { GENERATOR_DTYPE_HELP, pipelineOptions, type ModelCliOptions } from '../model.js';
import { intOption, toViewOptions, viewOptions, type ViewCliOptions } from '../options.js';
import { out } from '../output.js';
import { collect, indexModelOptions } from './index.js';
import { DEFAULT_GENERATOR } from '../../models/defaults.js';
import { generatedDraftCommand } from './draft-generated.js';

interface DraftCliOptions extends Partial<ModelCliOptions>, ViewCliOptions {
  corpus?: string;
  index?: string;
  generator?: string;
  maxTokens?: number;
  allowRemote?: boolean;
  apiKeyFile?: string;
  generatorDtype?: string;
  k: number;
  sentences: number;
  caseWeight: number;
  fields?: string;
  where: string[];
  json?: boolean;
  batchSize: number;
}

function weightOption(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new OptionError('E_BAD_OPTION', `--case-weight ${v}: expected a number from 0 to 1`);
  return n;
}

/**
 * `medvlm draft-report IMAGE [--corpus INDEX_OR_JSONL] [--generator MODEL]`: a research draft.
 * Corpus only: sentences retrieved from the most similar cases, each with its source. Generator (or
 * neither option: the bundled medvlm-tiny-gen): a generated draft. Both: the reports of the k most
 * similar cases are placed in the generator's prompt and listed as sources.
 */
export function draftReportCommand(): Command {
  const cmd = new Command('draft-report')
    .description(
      'research draft of a report: retrieved from the most similar cases (--corpus), generated (--generator; the default without --corpus), or generated with the similar cases as context (both)',
    )
    .argument('<image>', 'image file')
    .option('--corpus <index|file.jsonl>', 'an index folder (medvlm index add) or a JSONL of cases with caption/findings')
    .option('--index <dir>', 'same as --corpus with an index folder')
    .option('-g, --generator <id>', `generative model (local folder, bundled name, openai:URL#MODEL, anthropic:MODEL, gemini:MODEL; default without --corpus: ${DEFAULT_GENERATOR})`)
    .option('--max-tokens <n>', 'most new tokens of a generated draft (default 128)', intOption('--max-tokens', 1))
    .option('--allow-remote', 'allow sending the image (re-encoded PNG pixels only) and the retrieved reports to a generator on another host')
    .option('--api-key-file <file>', 'file holding the API key of a served generator')
    .option('--generator-dtype <dtype>', GENERATOR_DTYPE_HELP)
    .addOption(new Option('-k, --k <n>', 'similar cases to draw from').argParser(intOption('--k', 1)).default(5))
    .addOption(new Option('--sentences <n>', 'sentences in the draft').argParser(intOption('--sentences', 1)).default(3))
    .addOption(new Option('--case-weight <w>', "weight of the case's similarity vs the sentence's own (0..1)").argParser(weightOption).default(0.5))
    .option('--fields <list>', 'text fields to draw from, e.g. caption,findings (default: all)')
    .option('--where <key=value>', 'only cases whose metadata matches (repeatable)', collect, [])
    .option('--json', 'print JSON (sentences with provenance, dropped sentences, neighbours)');
  for (const o of [...indexModelOptions(), ...viewOptions()]) cmd.addOption(o);
  return cmd.action(async (image: string, o: DraftCliOptions) => {
    const where = parseWhere(o.where);
    const fields = o.fields?.split(',').map((s) => s.trim()).filter(Boolean);
    if (o.corpus && o.index) throw new OptionError('E_BAD_OPTION', '--corpus and --index name the same thing: give one', { option: 'index' });
    const corpus = o.corpus ?? o.index;
    if (o.generator !== undefined || !corpus) {
      const { fields: _fields, where: _where, ...rest } = o;
      await generatedDraftCommand(image, { ...rest, generator: o.generator ?? DEFAULT_GENERATOR, ...(corpus ? { corpus } : {}), where, ...(fields ? { fields } : {}) });
      return;
    }
    const draftFor = await pipeline('draft-report', o.model, { ...pipelineOptions(o), corpus, ...(fields ? { fields } : {}), view: toViewOptions(o) });
    const model = draftFor.encoder.info.id;
    try {
      const draft = await draftFor(image, { k: o.k, sentences: o.sentences, caseWeight: o.caseWeight, where, ...(fields ? { fields } : {}) });
      if (o.json) {
        out(JSON.stringify(draft, null, 2));
        return;
      }
      out(`# ${draft.notice}`);
      out(`# ${image}: draft from ${draft.neighbours.length} similar cases (model ${model})`);
      out('');
      out(draft.text || '(no sentence could be drawn from the corpus)');
      out('');
      out('Sources:');
      draft.sentences.forEach((s, i) => {
        out(`  [${i + 1}] ${s.source.caseId ? `case ${s.source.caseId}, ` : ''}${s.source.field} of ${s.source.path}`);
        out(`      case similarity ${s.caseSimilarity.toFixed(3)}, sentence similarity ${s.sentenceSimilarity.toFixed(3)}: "${s.text}"`);
      });
      if (draft.dropped.length) out(`Left out: ${draft.dropped.filter((d) => d.reason === 'near-duplicate').length} near-duplicates, ${draft.dropped.filter((d) => d.reason === 'contradiction').length} contradictions`);
    } finally {
      await draftFor.dispose();
    }
  });
}
