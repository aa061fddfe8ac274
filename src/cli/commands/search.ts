import { Command, Option } from 'commander';
import { OptionError } from '../../core/errors.js';
import { parseWhere } from '../../index-store/where.js';
import { RESEARCH_NOTICE } from '../../models/defaults.js';
import { pipeline } from '../../tasks/pipeline.js';
import { pipelineOptions, type ModelCliOptions } from '../model.js';
import { intOption, toViewOptions, viewOptions, type ViewCliOptions } from '../options.js';
import { out } from '../output.js';
import { collect, describeMetadata, indexModelOptions } from './index.js';

interface SearchCliOptions extends Partial<ModelCliOptions>, ViewCliOptions {
  index: string;
  text?: string;
  image?: string;
  target: 'image' | 'text';
  k: number;
  where: string[];
  exact?: boolean;
  json?: boolean;
  showPhi?: boolean;
  batchSize: number;
}

/** `medvlm search --index DIR (--text T | --image FILE)`: nearest images, or nearest stored texts. */
export function searchCommand(): Command {
  const cmd = new Command('search')
    .description('similar-case search in an index: text→image, image→image, or image→text (--target text)')
    .requiredOption('--index <dir>', 'index folder (made with medvlm index add)')
    .option('--text <query>', 'search with a text, e.g. "axial CT of the abdomen with a liver lesion"')
    .option('--image <file>', 'search with an image file (DICOM, NIfTI, PNG, JPEG, ...)')
    .addOption(new Option('--target <what>', 'return images or the stored texts (captions, findings)').choices(['image', 'text']).default('image'))
    .addOption(new Option('-k, --k <n>', 'number of results').argParser(intOption('--k', 1)).default(10))
    .option('--where <key=value>', 'filter on metadata (repeatable): modality, body_part, plane, split, case_id, label, path; = != or ~ (contains)', collect, [])
    .option('--exact', 'exact (brute-force) search even when an approximate index exists')
    .option('--json', 'print JSON')
    .option('--show-phi', 'include DICOM study/series/SOP instance UIDs');
  for (const o of [...indexModelOptions(), ...viewOptions()]) cmd.addOption(o);
  return cmd.action(async (o: SearchCliOptions) => {
    if (Boolean(o.text) === Boolean(o.image)) throw new OptionError('E_BAD_OPTION', 'search: give exactly one of --text and --image');
    if (o.text !== undefined && o.target === 'text') throw new OptionError('E_BAD_OPTION', 'search: --target text searches stored texts with an image; use --image');
    const where = parseWhere(o.where);
    const query = o.text !== undefined ? { text: o.text } : { image: o.image as string };
    const search = await pipeline('similar-case-search', o.model, { ...pipelineOptions(o), index: o.index });
    try {
        const r = await search(query, { k: o.k, where, exact: Boolean(o.exact), target: o.target, view: toViewOptions(o), showPhi: Boolean(o.showPhi) });
        if (o.json) {
          out(JSON.stringify(r, null, 2));
          return;
        }
        out(`# ${RESEARCH_NOTICE}`);
        out(`# ${r.hits.length} ${r.target === 'text' ? 'texts' : 'images'} nearest to ${o.text !== undefined ? JSON.stringify(o.text) : o.image} (${r.exact ? 'exact' : 'approximate'} search, cosine similarity)`);
        r.hits.forEach((h, i) => {
          const meta = describeMetadata(h);
          const text = h.kind === 'text' ? `${h.field}: ${h.text}` : (h.texts.caption ?? Object.values(h.texts)[0] ?? '');
          out(`${String(i + 1).padStart(3)}  ${h.similarity.toFixed(4)}  ${h.path}${meta ? `  [${meta}]` : ''}${text ? `\n       ${truncate(text, 160)}` : ''}`);
          if (o.showPhi && Object.keys(h.dicom).length) out(`       DICOM study ${h.dicom.studyUid ?? '-'} series ${h.dicom.seriesUid ?? '-'} instance ${h.dicom.sopUid ?? '-'}`);
        });
    } finally {
      await search.dispose();
    }
  });
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}
