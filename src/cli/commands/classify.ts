import { Command, Option } from 'commander';
import { expandInputs } from '../../io/inputs.js';
import { DEFAULT_MODEL, RESEARCH_NOTICE } from '../../models/defaults.js';
import { isFileError, type FileError } from '../../tasks/batch.js';
import { pipeline } from '../../tasks/pipeline.js';
import { DEFAULT_TEMPLATES } from '../../tasks/templates.js';
import { loadTemplates } from '../../tasks/templates-files.js';
import { parseLabels, type ClassifyResult } from '../../tasks/zero-shot.js';
import { cliFileError, fileErrorLine } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { pipelineOptions, type ModelCliOptions } from '../model.js';
import { intOption, modelOptions, toViewOptions, viewOptions, type ViewCliOptions } from '../options.js';
import { note, out } from '../output.js';
import { progressBar } from '../progress.js';
import { reportNoInputs } from '../inputs.js';

interface ClassifyCliOptions extends ModelCliOptions, ViewCliOptions {
  labels: string;
  templates: string;
  json?: boolean;
  top?: number;
}

/** `medvlm classify INPUTS... --labels a,b,c`: zero-shot labels with prompt ensembles. */
export function classifyCommand(): Command {
  const cmd = new Command('classify')
    .description('zero-shot classification: score each image against text labels')
    .argument('<inputs...>', 'files, folders (recursive) or glob patterns')
    .requiredOption('-l, --labels <labels>', 'comma-separated labels, e.g. "CT,MRI,X-ray"')
    .option('-t, --templates <name|file>', 'prompt template set: built-in name or JSON file', DEFAULT_TEMPLATES)
    .addOption(new Option('--top <n>', 'print only the n best labels').argParser(intOption('--top', 1)))
    .option('--json', 'print a JSON array of {file, labels:[{label, score}]} or {file, error:{code, message}}');
  for (const o of [...modelOptions(DEFAULT_MODEL), ...viewOptions()]) cmd.addOption(o);
  return cmd.action(async (inputs: string[], o: ClassifyCliOptions) => {
    const labels = parseLabels(o.labels);
    const templates = loadTemplates(o.templates);
    const view = toViewOptions(o);
    const { files, problems } = await expandInputs(inputs);
    if (files.length === 0) return reportNoInputs(problems);
    const classify = await pipeline('zero-shot-image-classification', o.model, { ...pipelineOptions(o), templates, view });
    const { encoder } = classify;
    const bar = progressBar('classify', files.length);
    let results: Array<ClassifyResult | FileError>;
    try {
      results = await classify(files, labels, { batchSize: o.batchSize, onProgress: bar.onProgress, ...(o.top ? { top: o.top } : {}) });
    } finally {
      bar.stop();
      await classify.dispose();
    }
    const all: Array<ClassifyResult | FileError> = [
      ...problems.map((p) => ({ file: p.input, error: { code: p.code, message: p.message } })),
      ...results.map((r) => (isFileError(r) ? cliFileError(r) : r)),
    ];
    const failed = all.filter(isFileError);
    if (o.json) {
      out(JSON.stringify(all, null, 2));
      note(`medvlm: ${RESEARCH_NOTICE}`);
    } else {
      out(`# ${RESEARCH_NOTICE}`);
      out(`# model ${encoder.info.id} (${encoder.info.dtype}), scoring ${encoder.scoring}, templates ${templates.name} (${templates.templates.length})`);
      for (const r of all) {
        if (isFileError(r)) continue;
        out(`${r.file}\t${r.labels.map((l) => `${l.label} ${l.score.toFixed(3)}`).join('\t')}`);
      }
      for (const r of failed) note(fileErrorLine(r));
    }
    if (failed.length) {
      note(failed.length === all.length ? `none of the ${all.length} inputs could be read` : `${failed.length} of ${all.length} inputs failed; the others were classified`);
      process.exitCode = EXIT.input;
    }
  });
}
