import { Command } from 'commander';
import { writeReport } from '../../eval/report/index.js';
import { RESEARCH_NOTICE } from '../../models/defaults.js';
import { note, out } from '../output.js';

/** `medvlm report RESULTS_DIR [--out DIR]`: Markdown, CSV and self-contained HTML from `medvlm eval` results. */
export function reportCommand(): Command {
  return new Command('report')
    .description('aggregate `medvlm eval` results into report.md, results.csv and report.html (inline SVG charts)')
    .argument('<results>', 'results folder written by medvlm eval')
    .option('-o, --out <dir>', 'output folder (default: the results folder)')
    .option('--force', 'replace report files that medvlm did not write')
    .action(async (resultsDir: string, o: { out?: string; force?: boolean }) => {
      const { results, files } = await writeReport(resultsDir, { ...(o.out ? { out: o.out } : {}), force: Boolean(o.force) });
      if (results.length === 0) note(`medvlm report: no result cells under ${resultsDir} (run medvlm eval --out ${resultsDir} first)`);
      for (const f of files) out(f);
      note(`medvlm report: ${results.length} result cells. ${RESEARCH_NOTICE}`);
    });
}
