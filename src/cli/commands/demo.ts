import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { OptionError } from '../../core/errors.js';
import { packageRoot } from '../../core/paths.js';
import { DEFAULT_MODEL, RESEARCH_NOTICE } from '../../models/defaults.js';
import { isFileError } from '../../tasks/encode-files.js';
import { classifyFiles } from '../../tasks/zero-shot.js';
import { loadEncoderFromCli, type ModelCliOptions } from '../model.js';
import { modelOptions } from '../options.js';
import { out } from '../output.js';

/** `samples/demo.json`: the bundled sample images, their truth, and the questions the demo asks. */
interface DemoSpec {
  questions: Array<{ name: string; truthKey: string; labels: string[]; templates: string }>;
  images: Array<{ file: string; truth: Record<string, string>; source: string }>;
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
    let spec: DemoSpec;
    try {
      spec = JSON.parse(readFileSync(join(samples, 'demo.json'), 'utf8')) as DemoSpec;
    } catch (e) {
      throw new OptionError('E_BAD_OPTION', `${join(samples, 'demo.json')}: cannot read the demo description (${(e as Error).message})`);
    }
    const encoder = await loadEncoderFromCli(o);
    const files = spec.images.map((i) => join(samples, i.file));
    out(`# ${RESEARCH_NOTICE}`);
    out(`# model ${encoder.info.id} (${encoder.info.dtype}); ${spec.images.length} sample images from samples/ (sources and licences: samples/README.md)`);
    try {
      for (const q of spec.questions) {
        const results = await classifyFiles(encoder, files, { labels: q.labels, templates: q.templates, batchSize: o.batchSize });
        out('');
        out(`## ${q.name}: ${q.labels.join(' | ')}`);
        let right = 0;
        results.forEach((r, i) => {
          const truth = spec.images[i].truth[q.truthKey];
          if (isFileError(r)) return out(`  ${spec.images[i].file.padEnd(44)} error: ${r.error.message}`);
          const top = r.labels[0];
          const ok = top.label === truth;
          right += ok ? 1 : 0;
          out(`  ${spec.images[i].file.padEnd(44)} truth ${truth.padEnd(10)} predicted ${top.label.padEnd(10)} ${top.score.toFixed(2)} ${ok ? '✓' : '✗'}`);
        });
        out(`  ${right}/${results.length} correct`);
      }
    } finally {
      await encoder.dispose();
    }
  });
}
