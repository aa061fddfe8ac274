/**
 * Evaluate `draft-report` on MedPix 2.0: the corpus is an index of the TRAIN split (captions and
 * findings), the draft's two settings (sentences, case weight) are chosen on the DEV split, and the
 * TEST split is scored once with BLEU-1..4, ROUGE-L, METEOR and CIDEr-D against two baselines:
 * a random train report (seeded) and the report of the single nearest train image.
 *
 *   npx tsx scripts/eval-draft-report.ts [--model medvlm-tiny] [--k 5]
 *
 * Writes docs/search-draft-report.json and the table block in docs/search.md.
 */
import '../src/io/platform-node.js'; // Node's file reading and decoders, as the package's Node entries install them
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readManifest, type ManifestRecord } from '../src/index-store/manifest.js';
import { indexModelFrom } from '../src/index-store/meta.js';
import { CaseIndex } from '../src/index-store/store.js';
import { parseWhere } from '../src/index-store/where.js';
import { mulberry32, textMetrics, type TextMetrics } from '../src/metrics/index.js';
import { loadDualEncoder } from '../src/models/registry.js';
import { draftFromEmbedding } from '../src/tasks/draft-report.js';
import { encodeImageInputs, isFileError } from '../src/tasks/batch.js';
import { addToIndex } from '../src/tasks/search.js';
import { markdownTable, replaceDocBlock } from './docs-block.js';

const { values: args } = parseArgs({
  options: { model: { type: 'string', default: 'medvlm-tiny' }, k: { type: 'string', default: '5' }, data: { type: 'string', default: '../shared/data/medpix2' }, out: { type: 'string', default: 'docs' } },
});
const MANIFEST = join(args.data!, 'manifest.jsonl');
if (!existsSync(MANIFEST)) {
  console.log(`skipped: ${MANIFEST} not found (MedPix 2.0 is needed for this evaluation)`);
  process.exit(0);
}
const FIELDS = ['caption', 'findings'];
const K = Number(args.k);

/** The report of a case: caption then findings. */
function report(texts: Record<string, string>): string {
  return FIELDS.map((f) => texts[f]).filter(Boolean).join(' ');
}

const encoder = await loadDualEncoder(args.model!, { threads: 2 });
const records = readManifest(MANIFEST, FIELDS);
const indexDir = join('.cache', `medpix-train-index-${encoder.info.id.replace(/[^\w.-]+/g, '_')}`);
const index = await CaseIndex.open(indexDir, { create: true, model: indexModelFrom(encoder.info) });
const t0 = performance.now();
const added = await addToIndex(encoder, index, [], { manifest: records, where: parseWhere(['split=train']), batchSize: 32 });
console.log(`train index ${indexDir}: ${await index.count()} images (${added.added.length} added now, ${added.errors.length} errors) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

async function embedSplit(split: string): Promise<Array<{ rec: ManifestRecord; vec: Float32Array }>> {
  const recs = records.filter((r) => r.metadata.split === split && report(r.texts).length > 0);
  const enc = await encodeImageInputs(encoder, recs.map((r) => r.path), { batchSize: 32 });
  return enc.flatMap((e, i) => (isFileError(e) ? [] : [{ rec: recs[i], vec: e.embedding }]));
}

async function runDraft(items: Array<{ rec: ManifestRecord; vec: Float32Array }>, maxSentences: number, caseWeight: number): Promise<string[]> {
  const out: string[] = [];
  for (const it of items) out.push((await draftFromEmbedding(encoder, { index }, it.rec.path, it.vec, { k: K, maxSentences, caseWeight, fields: FIELDS })).text);
  return out;
}

// 1. choose the draft's settings on dev (CIDEr-D, then BLEU-4)
const dev = await embedSplit('dev');
const grid: Array<{ maxSentences: number; caseWeight: number; m: TextMetrics }> = [];
for (const maxSentences of [1, 2, 3, 4, 6]) {
  for (const caseWeight of [0, 0.5, 1]) {
    const m = textMetrics(dev.map((d) => [report(d.rec.texts)]), await runDraft(dev, maxSentences, caseWeight));
    grid.push({ maxSentences, caseWeight, m });
    console.log(`dev sentences=${maxSentences} caseWeight=${caseWeight}: CIDEr-D ${m.ciderD.toFixed(4)} BLEU-4 ${m.bleu4.toFixed(4)} ROUGE-L ${m.rougeL.toFixed(4)}`);
  }
}
const best = [...grid].sort((a, b) => b.m.ciderD - a.m.ciderD || b.m.bleu4 - a.m.bleu4)[0];

// 2. score test once
const test = await embedSplit('test');
const refs = test.map((t) => [report(t.rec.texts)]);
const train = (await index.entries()).filter((e) => report(e.texts).length > 0);
const rand = mulberry32(0);
const randomHyps = test.map(() => report(train[Math.floor(rand() * train.length)].texts));
const nearestHyps: string[] = [];
for (const t of test) nearestHyps.push(report((await index.search(t.vec, { k: 1, exact: true }))[0].texts));
const draftHyps = await runDraft(test, best.maxSentences, best.caseWeight);
const rows = [
  { method: 'random train report (seed 0)', m: textMetrics(refs, randomHyps) },
  { method: 'nearest train image: its report', m: textMetrics(refs, nearestHyps) },
  { method: `draft-report (k ${K}, ${best.maxSentences} sentences, case weight ${best.caseWeight}; chosen on dev)`, m: textMetrics(refs, draftHyps) },
];
const meanWords = (h: string[]) => h.reduce((s, x) => s + x.split(/\s+/).filter(Boolean).length, 0) / h.length;
const result = {
  dataset: 'MedPix 2.0', model: { id: encoder.info.id, fileHashes: encoder.info.fileHashes }, corpus: 'train split (caption + findings)', reference: 'caption + findings of the test image',
  nTest: test.length, nDev: dev.length, nTrain: train.length, k: K, chosen: { maxSentences: best.maxSentences, caseWeight: best.caseWeight },
  devGrid: grid.map((g) => ({ maxSentences: g.maxSentences, caseWeight: g.caseWeight, ...g.m })),
  test: rows.map((r) => ({ method: r.method, ...r.m })),
  meanWords: { reference: meanWords(refs.map((r) => r[0])), random: meanWords(randomHyps), nearest: meanWords(nearestHyps), draft: meanWords(draftHyps) },
};
mkdirSync(args.out!, { recursive: true });
writeFileSync(join(args.out!, 'search-draft-report.json'), JSON.stringify(result, null, 2) + '\n');
const table = markdownTable(
  ['method (MedPix 2.0 test, n=' + test.length + ')', 'BLEU-1', 'BLEU-2', 'BLEU-3', 'BLEU-4', 'ROUGE-L', 'METEOR', 'CIDEr-D', 'mean words'],
  rows.map((r, i) => [r.method, r.m.bleu1, r.m.bleu2, r.m.bleu3, r.m.bleu4, r.m.rougeL, r.m.meteor, r.m.ciderD, [result.meanWords.random, result.meanWords.nearest, result.meanWords.draft][i].toFixed(1)]),
);
const md = `Model \`${encoder.info.id}\` (${encoder.info.dtype}); corpus: ${train.length} train images (caption + findings); settings chosen on ${dev.length} dev images; reference: caption + findings of each test image (mean ${result.meanWords.reference.toFixed(1)} words). Generated by \`scripts/eval-draft-report.ts\`; JSON in \`docs/search-draft-report.json\`.\n\n${table}`;
replaceDocBlock(join(args.out!, 'search.md'), 'draft-report-eval', md);
console.log(md);
index.close();
await encoder.dispose();
