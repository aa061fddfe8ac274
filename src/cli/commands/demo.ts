import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { OptionError } from '../../core/errors.js';
import { packageRoot } from '../../core/paths.js';
import { DEFAULT_MODEL, RESEARCH_NOTICE } from '../../models/defaults.js';
import { isFileError } from '../../tasks/batch.js';
import { pipeline } from '../../tasks/pipeline.js';
import { loadTemplates } from '../../tasks/templates-files.js';
import { pipelineOptions, type ModelCliOptions } from '../model.js';
import { modelOptions } from '../options.js';
import { out } from '../output.js';

/** `samples/demo.json`: the questions the demo asks; each label maps a truth value to its prompt. */
interface DemoSpec {
  questions: Array<{ name: string; truthKey: string; templates: string; labels: Record<string, string> }>;
}

/** `samples/labels.json`: the truth (and source) of each sample image. */
type SampleTruth = Record<string, Record<string, string | number>>;

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new OptionError('E_BAD_OPTION', `${file}: cannot read the demo description (${(e as Error).message})`, { file });
  }
}

/**
 * `medvlm demo`: zero-shot classification of the bundled sample images (redistributable, see
 * samples/README.md) with the bundled model, offline, printed next to the truth.
 */
export function demoCommand(): Command {
  const cmd = new Command('demo').description('classify the bundled sample images with the bundled model and show the truth next to each label (offline)');
  for (const o of modelOptions(DEFAULT_MODEL)) cmd.addOption(o);
  return cmd.action(async (o: ModelCliOptions) => {
    const samples = join(packageRoot(), 'samples');
    const spec = readJson<DemoSpec>(join(samples, 'demo.json'));
    const truth = readJson<SampleTruth>(join(samples, 'labels.json'));
    const classify = await pipeline('zero-shot-image-classification', o.model, pipelineOptions(o));
    const { encoder } = classify;
    out(`# ${RESEARCH_NOTICE}`);
    out(`# model ${encoder.info.id} (${encoder.info.dtype}); sample images in samples/ (sources and licences: samples/README.md)`);
    try {
      for (const q of spec.questions) {
        const names = Object.keys(truth).filter((f) => truth[f][q.truthKey] !== undefined);
        const byPrompt = new Map(Object.entries(q.labels).map(([value, prompt]) => [prompt, value]));
        const results = await classify(names.map((f) => join(samples, f)), [...byPrompt.keys()], { templates: loadTemplates(q.templates), batchSize: o.batchSize });
        out('');
        out(`## ${q.name}: ${Object.entries(q.labels).map(([v, p]) => `${v} = "${p}"`).join(', ')}`);
        let right = 0;
        results.forEach((r, i) => {
          const want = String(truth[names[i]][q.truthKey]);
          if (isFileError(r)) return out(`  ${names[i].padEnd(40)} error: ${r.error.message}`);
          const got = byPrompt.get(r.labels[0].label) ?? r.labels[0].label;
          right += got === want ? 1 : 0;
          out(`  ${names[i].padEnd(40)} truth ${want.padEnd(10)} predicted ${got.padEnd(10)} score ${r.labels[0].score.toFixed(2)}  ${got === want ? 'right' : 'WRONG'}`);
        });
        out(`  ${right}/${results.length} right`);
      }
    } finally {
      await classify.dispose();
    }
  });
}
