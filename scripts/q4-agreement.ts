/**
 * How close a generator's q4 files are to its fp32 ones on real held-out images: greedy drafts of
 * the first N MedPix 2.0 TEST images (manifest order, report prompt) with both dtypes, then identical
 * sequences, mean shared-prefix share of the token sequences, and CIDEr-D / ROUGE-L of each against
 * the captions. Run scripts/quantize-q4.py on the folder first.
 *
 *   npx tsx scripts/q4-agreement.ts [--model models/medvlm-tiny-gen] [--dtype q4|decoder_model_merged=q4] [--n 30] [--data ../shared/data/medpix2]
 *
 * Prints one JSON object (and nothing is written).
 */
import '../src/io/platform-node.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readManifest } from '../src/index-store/manifest.js';
import { textMetrics } from '../src/metrics/index.js';
import { loadGenerator, parseDtypeSpec } from '../src/models/generators.js';
import { generateForFile } from '../src/tasks/generate.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/medvlm-tiny-gen' },
    n: { type: 'string', default: '30' },
    data: { type: 'string', default: '../shared/data/medpix2' },
    threads: { type: 'string', default: '1' },
    dtype: { type: 'string', default: 'q4' },
  },
});
const manifest = join(args.data!, 'manifest.jsonl');
if (!existsSync(manifest)) {
  console.log(`skipped: ${manifest} not found (MedPix 2.0 is needed)`);
  process.exit(0);
}
const items = readManifest(manifest)
  .filter((r) => r.raw.split === 'test' && r.texts.caption)
  .slice(0, Number(args.n));

const outputs: Record<'fp32' | 'q4', { ids: number[][]; texts: string[] }> = { fp32: { ids: [], texts: [] }, q4: { ids: [], texts: [] } };
for (const dtype of ['fp32', 'q4'] as const) {
  const gen = await loadGenerator(args.model!, { dtype: dtype === 'q4' ? parseDtypeSpec(args.dtype!) : dtype, threads: Number(args.threads) });
  for (const item of items) {
    const r = await generateForFile(gen, item.path, '');
    outputs[dtype].ids.push(r.tokens ?? []);
    outputs[dtype].texts.push(r.text);
  }
  await gen.dispose();
}
const prefix = (a: number[], b: number[]): number => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i / Math.max(a.length, b.length, 1);
};
const refs = items.map((r) => [r.texts.caption]);
const score = (texts: string[]) => {
  const m = textMetrics(refs, texts);
  return { ciderD: m.ciderD, rougeL: m.rougeL };
};
console.log(
  JSON.stringify(
    {
      model: args.model,
      dtype: args.dtype,
      images: items.length,
      identicalSequences: outputs.fp32.ids.filter((ids, i) => JSON.stringify(ids) === JSON.stringify(outputs.q4.ids[i])).length,
      meanPrefixAgreement: outputs.fp32.ids.reduce((s, ids, i) => s + prefix(ids, outputs.q4.ids[i]), 0) / items.length,
      fp32: score(outputs.fp32.texts),
      q4: score(outputs.q4.texts),
    },
    null,
    2,
  ),
);
