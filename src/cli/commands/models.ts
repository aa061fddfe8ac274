import { Command } from 'commander';
import { listModels } from '../../models/catalog.js';
import { out } from '../output.js';

/** `medvlm models`: known hub models and what is available locally. */
export function modelsCommand(): Command {
  return new Command('models')
    .description('list known models and those available locally (bundled, or in the download cache)')
    .option('--json', 'print a JSON array')
    .action(async (o: { json?: boolean }) => {
      const models = await listModels();
      if (o.json) return out(JSON.stringify(models, null, 2));
      const rows = models.map((m) => [
        m.id,
        m.family,
        m.kind,
        m.localDtypes.length ? m.localDtypes.join('+') : '-',
        m.loadable ? (m.medical ? 'yes, medical' : 'yes') : 'needs export',
        m.note,
      ]);
      const head = ['MODEL', 'FAMILY', 'SOURCE', 'LOCAL', 'LOADS', 'NOTE'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      for (const r of [head, ...rows]) out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
    });
}
