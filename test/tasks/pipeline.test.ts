/**
 * The library's `pipeline()` against the CLI: the same scores from bytes, paths, URLs and decoded
 * images as `medvlm classify --json` prints; label embeddings cached per pipeline; every result the
 * CLI prints with --json validates against the exported JSON Schemas.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/io/read.js';
import { pipeline, type PipelineOf } from '../../src/tasks/pipeline.js';
import { RESULT_SCHEMAS, type ResultSchemaName } from '../../src/tasks/schemas.js';
import { medvlm, ROOT } from '../cli/helpers.js';

const CORPUS = join(ROOT, 'test/.corpus/dicom');
const dicoms = ['ct16s_j2k90.dcm', 'mf16s_rle.dcm', 'mono1_evrle.dcm'].map((f) => join(CORPUS, f)).filter((f) => existsSync(f));
if (dicoms.length === 0) console.warn(`pipeline tests on DICOM skipped: the DICOM corpus (${CORPUS}) was not built (needs dcmtk and gdcm)`);
const samples = ['vqarad-chest-xray-1.jpg', 'pneumoniamnist-test-0000-pneumonia.png'].map((f) => join(ROOT, 'samples', f));
const LABELS = ['chest', 'head', 'abdomen'];

const ajv = new Ajv({ allErrors: true, strict: false });
function valid(name: ResultSchemaName, value: unknown): void {
  const check = ajv.compile(RESULT_SCHEMAS[name]);
  expect(check(value), `${name}: ${ajv.errorsText(check.errors)}`).toBe(true);
}

let classify: PipelineOf['zero-shot-image-classification'];
let work: string;
beforeAll(async () => {
  classify = await pipeline('zero-shot-image-classification');
  work = mkdtempSync(join(tmpdir(), 'medvlm-pipeline-'));
});
afterAll(async () => {
  await classify.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe('zero-shot-image-classification pipeline', () => {
  it.each([...dicoms, ...samples])('%s: bytes, path, file URL and decoded image give exactly the scores of medvlm classify --json', async (file) => {
    const r = medvlm(['classify', file, '--labels', LABELS.join(','), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const cliJson = JSON.parse(r.stdout) as unknown;
    valid('ClassifyOutput', cliJson);
    const [cli] = cliJson as Array<{ file: string; labels: Array<{ label: string; score: number }> }>;
    const bytes = new Uint8Array(readFileSync(file));
    const fromBytes = await classify(bytes, LABELS);
    valid('Labels', fromBytes);
    // JSON numbers round-trip doubles exactly: the library and the CLI agree to the last bit
    expect(JSON.parse(JSON.stringify(fromBytes))).toEqual(cli.labels);
    expect(await classify(file, LABELS)).toEqual(fromBytes);
    expect(await classify(pathToFileURL(file), LABELS)).toEqual(fromBytes);
    expect(await classify(await decodeImage(bytes, file), LABELS)).toEqual(fromBytes);
    expect(fromBytes.map((l) => l.label).sort()).toEqual([...LABELS].sort());
    expect(fromBytes.reduce((s, l) => s + l.score, 0)).toBeCloseTo(1, 6);
  });

  it('caches label embeddings per pipeline: the same labels again encode no text, a superset only the new label', async () => {
    const fresh = await pipeline('zero-shot-image-classification');
    const calls: number[] = [];
    const encodeTexts = fresh.encoder.encodeTexts.bind(fresh.encoder);
    fresh.encoder.encodeTexts = async (texts: string[]) => {
      calls.push(texts.length);
      return encodeTexts(texts);
    };
    try {
      const first = await fresh(samples[0], LABELS);
      const templates = calls[0] / LABELS.length;
      expect(Number.isInteger(templates) && templates >= 1).toBe(true);
      expect(await fresh(samples[1], LABELS)).toHaveLength(3);
      expect(calls).toHaveLength(1);
      await fresh(samples[0], [...LABELS, 'pelvis']);
      expect(calls).toEqual([LABELS.length * templates, templates]);
      expect((await fresh(samples[0], LABELS)).map((l) => l.score)).toEqual(first.map((l) => l.score));
    } finally {
      await fresh.dispose();
    }
  });

  it('an array of inputs goes on past a bad one and keeps the order; a single bad input throws its typed error', async () => {
    const bad = join(work, 'bad.dcm');
    writeFileSync(bad, 'not a dicom file');
    const results = await classify([samples[0], bad, new Uint8Array(readFileSync(samples[1]))], LABELS, { top: 2 });
    expect(results).toHaveLength(3);
    expect(results[0]).toMatchObject({ file: samples[0] });
    expect((results[0] as { labels: unknown[] }).labels).toHaveLength(2);
    expect(results[1]).toMatchObject({ file: bad, error: { code: 'E_DICOM_INVALID' } });
    expect(results[2]).toMatchObject({ file: '#2' });
    valid('ClassifyOutput', results);
    await expect(classify(bad, LABELS)).rejects.toMatchObject({ code: 'E_DICOM_INVALID', file: bad });
    await expect(classify(join(work, 'missing.png'), LABELS)).rejects.toMatchObject({ code: 'E_FILE_NOT_FOUND' });
    await expect(classify(samples[0], ' , ')).rejects.toMatchObject({ code: 'E_LABELS_EMPTY', option: 'labels' });
  });
});

describe('the other pipelines return what the CLI prints, and it validates', () => {
  it('inspect', async () => {
    const file = dicoms[0] ?? samples[0];
    const r = medvlm(['inspect', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const cli = JSON.parse(r.stdout) as unknown;
    valid('InspectResult', cli);
    const inspect = await pipeline('inspect');
    expect(JSON.parse(JSON.stringify(await inspect(new Uint8Array(readFileSync(file)))))).toEqual({ ...(cli as object), file: 'bytes' });
  });

  it('image and text feature extraction', async () => {
    const r = medvlm(['embed', samples[0], '--text', 'a chest x-ray']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { embedding: number[] });
    rows.forEach((row) => valid('EmbeddingRow', row));
    const images = await pipeline('image-feature-extraction');
    const texts = await pipeline('text-feature-extraction');
    try {
      expect(await images(samples[0])).toEqual(rows[0]);
      expect(await texts('a chest x-ray')).toEqual(rows[1]);
      const norm = Math.hypot(...rows[0].embedding);
      expect(norm).toBeCloseTo(1, 5);
    } finally {
      await images.dispose();
      await texts.dispose();
    }
  });

  it('visual-question-answering (closed)', async () => {
    const r = medvlm(['ask', samples[0], 'Is this a chest x-ray?', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const cli = JSON.parse(r.stdout) as unknown;
    valid('AskOutput', cli);
    const ask = await pipeline('visual-question-answering');
    try {
      expect(await ask(samples[0], 'Is this a chest x-ray?')).toEqual(cli);
    } finally {
      await ask.dispose();
    }
  });

  it('similar-case-search and draft-report on an index of the samples', async () => {
    const manifest = join(work, 'cases.jsonl');
    const captions: Record<string, string> = {
      'vqarad-chest-xray-1.jpg': 'Frontal chest radiograph. No pleural effusion.',
      'vqarad-chest-xray-2.jpg': 'Chest x-ray with clear lungs. Heart size normal.',
      'vqarad-head-ct-1.jpg': 'Axial CT of the head. No acute hemorrhage.',
      'vqarad-abdomen-ct-1.jpg': 'Axial CT of the abdomen. The liver is normal.',
    };
    writeFileSync(manifest, Object.entries(captions).map(([image, caption], i) => JSON.stringify({ image: join(ROOT, 'samples', image), caption, case_id: `c${i}`, modality: 'XR' })).join('\n'));
    const ix = join(work, 'ix');
    const add = medvlm(['index', 'add', '--index', ix, '--text-from', manifest, '--json']);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ added: 4, errors: [] });

    const s = medvlm(['search', '--index', ix, '--text', 'chest radiograph', '-k', '3', '--json']);
    expect(s.code, s.stderr).toBe(0);
    const cliSearch = JSON.parse(s.stdout) as unknown;
    valid('SearchOutput', cliSearch);
    const search = await pipeline('similar-case-search', undefined, { index: ix });
    try {
      expect(await search({ text: 'chest radiograph' }, { k: 3 })).toEqual(cliSearch);
    } finally {
      await search.dispose();
    }

    const query = join(ROOT, 'samples', 'vqarad-chest-xray-2.jpg');
    const d = medvlm(['draft-report', query, '--corpus', ix, '-k', '2', '--json']);
    expect(d.code, d.stderr).toBe(0);
    const cliDraft = JSON.parse(d.stdout) as { neighbours: Array<{ path: string }> };
    valid('DraftOutput', cliDraft);
    // the query is in the index: matched by content hash, it is not its own neighbour
    expect(cliDraft.neighbours.map((n) => n.path)).not.toContain(query);
    const draft = await pipeline('draft-report', undefined, { corpus: ix });
    try {
      expect(await draft(new Uint8Array(readFileSync(query)), { k: 2 })).toEqual({ ...cliDraft, image: 'bytes' });
    } finally {
      await draft.dispose();
    }
  });

  it('unknown task and missing required options are typed option errors', async () => {
    await expect(pipeline('segment-anything' as never)).rejects.toMatchObject({ code: 'E_BAD_OPTION', option: 'task' });
    await expect(pipeline('similar-case-search')).rejects.toMatchObject({ code: 'E_BAD_OPTION', option: 'index' });
    await expect(pipeline('similar-case-search', undefined, { index: join(work, 'nope') })).rejects.toMatchObject({ code: 'E_INDEX_NOT_FOUND' });
  });
});
