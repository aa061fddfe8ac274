/**
 * Regenerate test/geneval/fixtures/medvlm-tiny-gen-outputs.json (model outputs only: generated reports and
 * VQA answers, with the model files' hashes) from the cells of a full run, after medvlm-tiny-gen changes:
 *
 *   medvlm eval --tasks vqa,report-generation --generators medvlm-tiny-gen --threads 1 -o results
 *   npx tsx scripts/geneval-fixture.ts results
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportCell, VqaCell } from '../src/eval/generative/schema.js';

const dir = process.argv[2] ?? 'results';
const r = JSON.parse(readFileSync(join(dir, 'medvlm-tiny-gen/medpix2/report-generation.json'), 'utf8')) as ReportCell;
const v = JSON.parse(readFileSync(join(dir, 'medvlm-tiny-gen/vqa-rad/vqa.json'), 'utf8')) as VqaCell;
if (r.dataset.limit || v.dataset.limit) throw new Error('the cells were made with --limit; the fixture needs the full test splits');
const fixture = {
  what: "medvlm-tiny-gen's outputs in the full `medvlm eval --tasks vqa,report-generation` run (greedy, local backend): generated reports of the MedPix 2.0 test images and answers to the VQA-RAD test questions. Model outputs only: references, questions and truths are read from ../shared/data at test time.",
  command: 'medvlm eval --tasks vqa,report-generation --generators medvlm-tiny-gen --threads 1',
  fileHashes: r.model.fileHashes,
  reports: r.items.map((i) => ({ id: i.id, text: i.text })),
  vqa: v.items.map((i) => ({ qid: i.qid, prediction: i.prediction })),
};
writeFileSync('test/geneval/fixtures/medvlm-tiny-gen-outputs.json', `${JSON.stringify(fixture, null, 0)}\n`);
console.log(`test/geneval/fixtures/medvlm-tiny-gen-outputs.json: ${fixture.reports.length} reports, ${fixture.vqa.length} answers`);
