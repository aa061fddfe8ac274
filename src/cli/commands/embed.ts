import { Command, Option } from 'commander';
import { expandInputs } from '../../io/inputs.js';
import { encodeNpyFloat32 } from '../../io/npy.js';
import { DEFAULT_MODEL } from '../../models/defaults.js';
import { OptionError } from '../../core/errors.js';
import { isFileError, type FileError } from '../../tasks/batch.js';
import { pipeline } from '../../tasks/pipeline.js';
import { textFeatureExtraction } from '../../tasks/pipeline-builders.js';
import type { ImageEmbeddingRow, TextEmbeddingRow } from '../../tasks/pipeline-builders.js';
import { cliFileError, fileErrorLine } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { pipelineOptions, type ModelCliOptions } from '../model.js';
import { modelOptions, toViewOptions, viewOptions, type ViewCliOptions } from '../options.js';
import { note, writeOutput } from '../output.js';
import { progressBar } from '../progress.js';
import { reportNoInputs } from '../inputs.js';

interface EmbedCliOptions extends ModelCliOptions, ViewCliOptions {
  text: string[];
  out?: string;
  force?: boolean;
}

/** `medvlm embed INPUTS... [--text T]`: L2-normalised embeddings as JSONL or .npy. */
export function embedCommand(): Command {
  const cmd = new Command('embed')
    .description('L2-normalised image and text embeddings (JSONL on stdout, or --out FILE.jsonl / FILE.npy)')
    .argument('[inputs...]', 'image files, folders or glob patterns')
    .addOption(new Option('--text <text>', 'a text to embed (repeatable)').argParser((v: string, prev: string[] = []) => [...prev, v]).default([]))
    .option('-o, --out <file>', 'write to FILE.jsonl or FILE.npy (with FILE.npy.json listing the rows)')
    .option('--force', 'replace --out if it exists');
  for (const o of [...modelOptions(DEFAULT_MODEL), ...viewOptions()]) cmd.addOption(o);
  return cmd.action(async (inputs: string[], o: EmbedCliOptions) => {
    if (inputs.length === 0 && o.text.length === 0) throw new OptionError('E_BAD_OPTION', 'embed: give image inputs and/or --text');
    if (o.out && !/\.(jsonl|npy)$/i.test(o.out)) throw new OptionError('E_BAD_OPTION', `--out ${o.out}: expected a name ending in .jsonl or .npy`);
    const view = toViewOptions(o);
    const { files, problems } = await expandInputs(inputs);
    if (files.length === 0 && o.text.length === 0) return reportNoInputs(problems);
    const embedImages = await pipeline('image-feature-extraction', o.model, { ...pipelineOptions(o), view });
    const { encoder } = embedImages;
    const bar = progressBar('embed', files.length);
    const rows: Array<ImageEmbeddingRow | TextEmbeddingRow> = [];
    const errors: FileError[] = [];
    try {
      for (const r of await embedImages(files, { batchSize: o.batchSize, onProgress: bar.onProgress })) {
        if (isFileError(r)) errors.push(cliFileError(r));
        else rows.push(r);
      }
      bar.stop();
      if (o.text.length) rows.push(...(await textFeatureExtraction(encoder)(o.text)));
    } finally {
      bar.stop();
      await embedImages.dispose();
    }
    const model = { id: encoder.info.id, dtype: encoder.info.dtype, dim: encoder.info.embedDim };
    if (o.out?.toLowerCase().endsWith('.npy')) {
      await writeOutput(o.out, encodeNpyFloat32(rows.map((r) => Float32Array.from(r.embedding)), encoder.info.embedDim), o.force);
      const index = { model, rows: rows.map((r) => (r.kind === 'image' ? { kind: r.kind, file: r.file } : { kind: r.kind, text: r.text })) };
      await writeOutput(`${o.out}.json`, JSON.stringify(index, null, 2) + '\n', o.force);
      note(`wrote ${rows.length} embeddings of dimension ${encoder.info.embedDim} to ${o.out} (+ ${o.out}.json)`);
    } else {
      const jsonl = rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
      if (o.out) {
        await writeOutput(o.out, jsonl, o.force);
        note(`wrote ${rows.length} embeddings to ${o.out}`);
      } else process.stdout.write(jsonl);
    }
    const failed = [...problems.map((p) => ({ file: p.input, error: { code: p.code, message: p.message } })), ...errors];
    for (const f of failed) note(fileErrorLine(f));
    if (failed.length) process.exitCode = EXIT.input;
  });
}
