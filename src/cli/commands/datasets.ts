import { Command } from 'commander';
import { listDatasets, resolveDataRoot } from '../../eval/datasets/registry.js';
import { out } from '../output.js';

/** `medvlm datasets`: the known evaluation data sets and whether their files are present. */
export function datasetsCommand(): Command {
  return new Command('datasets')
    .description('list the evaluation data sets (datasets/*.json) and whether their files are present under the data root')
    .option('--data-root <dir>', 'folder holding the data sets (default: MEDVLM_DATA, else ../shared/data next to the package)')
    .option('--json', 'print a JSON array')
    .action((o: { dataRoot?: string; json?: boolean }) => {
      const root = resolveDataRoot(o.dataRoot);
      const list = listDatasets(root);
      if (o.json) return out(JSON.stringify({ dataRoot: root, datasets: list }, null, 2));
      out(`# data root: ${root}`);
      const rows = list.map((d) => [d.id, d.present ? 'yes' : 'no', d.tasks.join(','), d.format + (d.evaluationOnly ? ', evaluation only' : ''), d.title]);
      const head = ['DATASET', 'PRESENT', 'TASKS', 'FORMAT', 'TITLE'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      for (const r of [head, ...rows]) out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
      const missing = list.filter((d) => !d.present);
      if (missing.length) out(`# missing: ${missing.map((d) => `${d.id} (${d.path})`).join(', ')}; medvlm eval skips them`);
    });
}
