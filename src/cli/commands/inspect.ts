import { Command } from 'commander';
import { expandInputs } from '../../io/inputs.js';
import { toFileError, type FileError } from '../../tasks/batch.js';
import type { InspectResult } from '../../tasks/inspect.js';
import { pipeline } from '../../tasks/pipeline.js';
import { cliFileError, fileErrorLine } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { note, out } from '../output.js';

/** `medvlm inspect FILES...`: what a file holds, in physical units; PHI hidden unless --show-phi. */
export function inspectCommand(): Command {
  return new Command('inspect')
    .description('describe medical image files: format, shape, spacing, orientation, value range (physical units)')
    .argument('<inputs...>', 'files, folders or glob patterns')
    .option('--json', 'print JSON: one object for one file, an array for several')
    .option('--show-phi', 'also print patient identifiers (name, ID, birth date, UIDs)')
    .action(async (inputs: string[], o: { json?: boolean; showPhi?: boolean }) => {
      const { files, problems } = await expandInputs(inputs);
      const inspect = await pipeline('inspect');
      const results: Array<InspectResult | FileError> = [];
      for (const p of problems) results.push({ file: p.input, error: { code: p.code, message: p.message } });
      for (const file of files) {
        try {
          results.push(await inspect(file, { showPhi: Boolean(o.showPhi) }));
        } catch (e) {
          results.push(cliFileError(toFileError(file, e)));
        }
      }
      const failed = results.filter((r) => 'error' in r);
      if (o.json) {
        out(JSON.stringify(results.length === 1 && inputs.length === 1 && files.length === 1 ? results[0] : results, null, 2));
      } else {
        for (const r of results) {
          if ('error' in r) note(fileErrorLine(r));
          else out(formatInspect(r));
        }
      }
      if (failed.length) {
        if (!o.json && results.length > 1) note(`${failed.length} of ${results.length} files could not be read`);
        process.exitCode = EXIT.input;
      }
    });
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toPrecision(6).replace(/\.?0+$/, '');
}

/** Human-readable block for one file. */
export function formatInspect(r: InspectResult): string {
  const lines = [
    r.file,
    `  format        ${r.format}${r.transferSyntax ? ` (${r.transferSyntax}, ${r.transferSyntaxUID})` : ''}`,
    `  shape         [${r.shape.join(', ')}]  rows ${r.rows}, columns ${r.columns}, frames ${r.frames}${r.timepoints > 1 ? `, volumes ${r.timepoints}` : ''}`,
    `  pixels        ${r.samplesPerPixel} sample(s), ${r.photometric}${r.invertForDisplay ? ' (inverted for display)' : ''}`,
    `  spacing       ${r.spacing.map(fmt).join(' x ')} mm${r.orientation ? `, orientation ${r.orientation}` : ''}`,
    ...(r.modality ? [`  modality      ${r.modality}`] : []),
    `  values        min ${fmt(r.values.min)}, max ${fmt(r.values.max)}, mean ${fmt(r.values.mean)}`,
    ...(r.windows.length ? [`  windows       ${r.windows.map((w) => `C ${fmt(w.center)} / W ${fmt(w.width)}`).join('; ')}`] : []),
    ...(r.phi ? Object.entries(r.phi).map(([k, v]) => `  ${k.padEnd(13)} ${v}`) : []),
  ];
  return lines.join('\n');
}
