import { Command } from 'commander';
import { OptionError } from '../../core/errors.js';
import { compareGenerative, generativeComparisonMarkdown } from '../../eval/generative/compare.js';
import { loadGenerativeCells } from '../../eval/generative/tables.js';
import { comparisonMarkdown } from '../../eval/report/compare.js';
import { compareAllCells, itemComparisonMarkdown } from '../../eval/report/compare-items.js';
import { loadResults, writeReport } from '../../eval/report/index.js';
import { RESEARCH_NOTICE } from '../../models/defaults.js';
import { note, out } from '../output.js';

/** `medvlm report RESULTS_DIR [--out DIR]`: Markdown, CSV and self-contained HTML from `medvlm eval` results. */
export function reportCommand(): Command {
  return new Command('report')
    .description('aggregate `medvlm eval` results into report.md, results.csv and report.html (inline SVG charts)')
    .argument('<results>', 'results folder written by medvlm eval')
    .option('-o, --out <dir>', 'output folder (default: the results folder)')
    .option('--force', 'replace report files that medvlm did not write')
    .option('--compare <a,b>', 'also compare two models on the same items (paired bootstrap of the difference; DeLong for AUROC) and print the table')
    .option('--json', 'with --compare: print the comparisons as JSON')
    .action(async (resultsDir: string, o: { out?: string; force?: boolean; compare?: string; json?: boolean }) => {
      if (o.compare !== undefined) {
        const models = o.compare.split(',').map((m) => m.trim()).filter(Boolean);
        if (models.length !== 2) throw new OptionError('E_BAD_OPTION', `--compare ${o.compare}: expected two model ids separated by a comma`, { option: 'compare' });
        const [a, b] = models;
        const results = loadResults(resultsDir);
        const gen = compareGenerative(loadGenerativeCells(resultsDir), a, b);
        const hasCells = results.some((r) => r.result.model.id === a || r.result.model.id === b);
        const cs = hasCells || gen.length === 0 ? compareAllCells(results, a, b) : { zeroShot: [], fewShot: [], retrieval: [] };
        if (o.json) out(JSON.stringify({ ...cs, generative: gen }, null, 2));
        else {
          const parts = [`# ${a} (A) vs ${b} (B), paired on the same test items`];
          if (cs.zeroShot.length) parts.push(comparisonMarkdown(cs.zeroShot));
          const itemTables = itemComparisonMarkdown(cs);
          if (itemTables) parts.push(itemTables);
          if (gen.length) parts.push(generativeComparisonMarkdown(gen));
          out(`${parts.join('\n\n')}\n\n${RESEARCH_NOTICE}`);
        }
        return;
      }
      const { results, generative, files } = await writeReport(resultsDir, { ...(o.out ? { out: o.out } : {}), force: Boolean(o.force) });
      const cells = results.length + generative.length;
      if (cells === 0) note(`medvlm report: no result cells under ${resultsDir} (run medvlm eval --out ${resultsDir} first)`);
      for (const f of files) out(f);
      note(`medvlm report: ${cells} result cells. ${RESEARCH_NOTICE}`);
    });
}
