/** Data set adapters on small fixtures, and the shipped descriptions on ../shared/data when present. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/eval/datasets/csv.js';
import { datasetSpecs, findDatasetSpec, listDatasets, loadDataset } from '../../src/eval/datasets/registry.js';
import { validateDatasetSpec, type DatasetSpec } from '../../src/eval/datasets/spec.js';
import { splitHash, stratifiedSplit } from '../../src/eval/datasets/split.js';
import type { EvalItem } from '../../src/eval/datasets/types.js';
import { freshDir, hasNumpy, python, SHARED_DATA, writeJson } from './helpers.js';

const spec = (s: Partial<DatasetSpec> & Pick<DatasetSpec, 'source' | 'split'>): DatasetSpec =>
  validateDatasetSpec({ id: 'fixture', title: 'fixture', tasks: ['zeroshot', 'fewshot'], classes: [{ name: 'a', sentence: 'an a' }, { name: 'b', sentence: 'a b' }], ...s }, 'fixture.json');

const count = (items: EvalItem[] | undefined, c: number) => (items ?? []).filter((i) => i.label === c).length;

describe('CSV parsing', () => {
  it('quotes, doubled quotes, commas and newlines inside quotes, CRLF, BOM', () => {
    const rows = parseCsv('\ufeffa,b\r\n"x, ""y""","line1\nline2"\r\n\r\nplain,\n');
    expect(rows).toEqual([
      { a: 'x, "y"', b: 'line1\nline2' },
      { a: 'plain', b: '' },
    ]);
  });
});

describe('adapters on fixtures', () => {
  let root: string;
  beforeAll(() => {
    root = freshDir('adapters');
    // CSV manifest: quoted caption, multi-image item, an unknown class, a placeholder caption
    mkdirSync(join(root, 'csv'), { recursive: true });
    writeFileSync(
      join(root, 'csv', 'm.csv'),
      ['image,label,caption,split', 'i1.png,a,"a, with comma",test', 'i2.png|i3.png,b,two views,test', 'i4.png,zzz,unknown class,test', 'i5.png,a,Replace this text,train', 'i6.png,b,ok,train'].join('\n'),
    );
    // JSONL manifest, multi-label
    writeFileSync(
      join(root, 'ml.jsonl'),
      [{ img: 'x/1.png', tags: ['a', 'b'] }, { img: 'x/2.png', tags: ['b'] }, { img: 'x/3.png', tags: [] }].map((r) => JSON.stringify(r)).join('\n'),
    );
    // folder per class, and folder per split/class
    for (const f of ['flat/a/1.png', 'flat/a/2.jpg', 'flat/b/3.png', 'flat/b/notes.txt', 'split/train/a/1.png', 'split/test/a/2.png', 'split/test/b/3.png']) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), 'x');
    }
    // VQA-RAD-style qa.jsonl: two questions on one image
    writeFileSync(
      join(root, 'qa.jsonl'),
      [
        { qid: 1, image: 'images/p.jpg', image_organ: 'a', question: 'q1', answer: 'yes', answer_type: 'CLOSED' },
        { qid: 2, image: 'images/p.jpg', image_organ: 'a', question: 'q2', answer: 'left', answer_type: 'OPEN' },
        { qid: 3, image: 'images/q.jpg', image_organ: 'b', question: 'q3', answer: 'no', answer_type: 'CLOSED' },
      ].map((r) => JSON.stringify(r)).join('\n'),
    );
  });

  it('CSV manifest: classes mapped, several images per item, unknown classes left out with a note, drop rules, field split', () => {
    const d = loadDataset(
      spec({
        source: { format: 'manifest', path: 'csv/m.csv', image: 'image', label: 'label', caption: 'caption', drop: [{ field: 'caption', startsWith: 'Replace this' }] },
        split: { kind: 'field', field: 'split', test: 'test', train: 'train' },
      }),
      root,
    );
    expect(d.splits.test.map((i) => [i.id, i.label, i.images.length, i.captions])).toEqual([
      ['i1.png', 0, 1, ['a, with comma']],
      ['i2.png|i3.png', 1, 2, ['two views']],
    ]);
    expect(d.splits.train!.map((i) => i.id)).toEqual(['i6.png']);
    expect(d.notes).toEqual(['1 rows left out: caption starts with "Replace this"', '1 items left out: class "zzz" is not in the description']);
    const first = d.splits.test[0].images[0];
    expect(first.kind === 'file' && first.path).toBe(join(root, 'csv', 'i1.png'));
  });

  it('JSONL manifest, multi-label: 0/1 vectors per class', () => {
    const d = loadDataset(spec({ multiLabel: true, source: { format: 'manifest', path: 'ml.jsonl', image: 'img', labels: 'tags' }, split: { kind: 'all' } }), root);
    expect(d.splits.test.map((i) => i.labels)).toEqual([[1, 1], [0, 1], [0, 0]]);
  });

  it('folder per class (non-image files ignored) and folder per split/class', () => {
    const flat = loadDataset(spec({ source: { format: 'folder', path: 'flat' }, split: { kind: 'all' } }), root);
    expect(flat.splits.test.map((i) => [i.id, i.label])).toEqual([['a/1.png', 0], ['a/2.jpg', 0], ['b/3.png', 1]]);
    const split = loadDataset(spec({ source: { format: 'folder', path: 'split' }, split: { kind: 'folders', test: 'test', train: 'train' } }), root);
    expect(split.splits.test.map((i) => i.id)).toEqual(['test/a/2.png', 'test/b/3.png']);
    expect(split.splits.train!.map((i) => i.id)).toEqual(['train/a/1.png']);
  });

  it('VQA-RAD format: one item per unique image with its question-answer pairs', () => {
    const d = loadDataset(spec({ source: { format: 'vqarad', path: 'qa.jsonl' }, split: { kind: 'all' }, tasks: ['zeroshot'] }), root);
    expect(d.splits.test.map((i) => [i.id, i.label, i.qa!.length])).toEqual([['images/p.jpg', 0, 2], ['images/q.jpg', 1, 1]]);
    expect(d.splits.test[0].qa![1]).toEqual({ question: 'q2', answer: 'left', answerType: 'OPEN' });
  });

  it('missing files: E_FILE_NOT_FOUND naming the path and the data set', () => {
    expect(() => loadDataset(spec({ source: { format: 'manifest', path: 'nope.csv' }, split: { kind: 'all' } }), root)).toThrow(
      expect.objectContaining({ code: 'E_FILE_NOT_FOUND', message: expect.stringMatching(/nope\.csv: data set fixture: not found/) }),
    );
  });

  it('split file: items assigned by file name; absent file → seeded stratified fallback, recorded', () => {
    writeJson(join(root, 'splits.json'), { train: ['1.png'], test: ['2.jpg', '3.png'] });
    const withFile = loadDataset(spec({ source: { format: 'folder', path: 'flat' }, split: { kind: 'file', file: join(root, 'splits.json'), fallback: { kind: 'stratified', seed: 0, train: 0.5, val: 0, test: 0.5 } } }), root);
    expect(withFile.splitSource).toBe(`file ${join(root, 'splits.json')}`);
    expect(withFile.splits.test.map((i) => i.id)).toEqual(['a/2.jpg', 'b/3.png']);
    const fallback = loadDataset(spec({ source: { format: 'folder', path: 'flat' }, split: { kind: 'file', file: join(root, 'absent.json'), fallback: { kind: 'stratified', seed: 0, train: 0.5, val: 0, test: 0.5 } } }), root);
    expect(fallback.splitSource).toBe('stratified 0.5/0/0.5 by class, seed 0 (mulberry32)');
    expect(fallback.notes[0]).toMatch(/absent\.json not found: used the seeded stratified fallback/);
  });

  it('bad descriptions are refused with E_DATASET_INVALID', () => {
    expect(() => validateDatasetSpec({ id: 'x', title: 't', source: { format: 'tiff', path: 'p' }, split: { kind: 'all' }, tasks: ['zeroshot'] }, 'bad.json')).toThrow(
      expect.objectContaining({ code: 'E_DATASET_INVALID', message: expect.stringContaining('bad.json: "source.format"') }),
    );
    expect(() => validateDatasetSpec({ id: 'x', title: 't', source: { format: 'folder', path: 'p' }, split: { kind: 'all' }, tasks: ['zeroshot'] }, 'bad.json')).toThrow(/"classes" are required/);
  });
});

describe('MedMNIST adapter on a numpy-written .npz', () => {
  it.skipIf(!hasNumpy())('images become 8-bit pixel refs, labels class indices, arrays the splits', () => {
    const root = freshDir('medmnist');
    python(`
import numpy as np
rng = np.random.default_rng(1)
np.savez_compressed('${root}/mini.npz',
  train_images=rng.integers(0, 256, (6, 4, 5), dtype=np.uint8), train_labels=np.array([[0],[1],[0],[1],[1],[1]], dtype=np.uint8),
  test_images=rng.integers(0, 256, (3, 4, 5), dtype=np.uint8), test_labels=np.array([[1],[0],[1]], dtype=np.uint8))
print(int(np.load('${root}/mini.npz')['test_images'][2, 3, 4]))
`);
    const d = loadDataset(spec({ source: { format: 'medmnist', path: 'mini.npz' }, split: { kind: 'arrays', test: 'test', train: 'train' } }), root);
    expect(d.splits.test.map((i) => [i.id, i.label])).toEqual([['test/0', 1], ['test/1', 0], ['test/2', 1]]);
    expect([count(d.splits.train, 0), count(d.splits.train, 1)]).toEqual([2, 4]);
    const img = d.splits.test[2].images[0];
    expect(img.kind).toBe('pixels');
    if (img.kind === 'pixels') {
      expect([img.width, img.height, img.channels, img.data.length]).toEqual([5, 4, 1, 20]);
      const last = Number(python(`import numpy as np; print(int(np.load('${root}/mini.npz')['test_images'][2, 3, 4]))`));
      expect(img.data[19]).toBe(last);
    }
  });
});

describe('splits', () => {
  it('stratified split: proportions per class, deterministic, depends on the seed', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `x${i}`);
    const group = (id: string) => (Number(id.slice(1)) < 30 ? 'a' : 'b');
    const s = { kind: 'stratified' as const, seed: 0, train: 0.7, val: 0.1, test: 0.2 };
    const a = stratifiedSplit(ids, group, s);
    const n = (role: string, g: string) => ids.filter((id) => group(id) === g && a.get(id) === role).length;
    expect([n('train', 'a'), n('val', 'a'), n('test', 'a')]).toEqual([21, 3, 6]);
    expect([n('train', 'b'), n('val', 'b'), n('test', 'b')]).toEqual([49, 7, 14]);
    expect([...stratifiedSplit([...ids].reverse(), group, s)].sort()).toEqual([...a].sort());
    expect([...stratifiedSplit(ids, group, { ...s, seed: 1 })]).not.toEqual([...a]);
  });

  it('split hash: sha256 of sorted "id<TAB>label" lines, independent of order', () => {
    const items: EvalItem[] = [{ id: 'b', images: [], label: 1 }, { id: 'a', images: [], label: 0 }];
    // printf 'a\t0\nb\t1' | sha256sum
    expect(splitHash(items)).toBe('bfba243785ad8284a62b4fc74245dacaabff22e806318b128841158a8fe67dbd');
    expect(splitHash([...items].reverse())).toBe('bfba243785ad8284a62b4fc74245dacaabff22e806318b128841158a8fe67dbd');
  });
});

describe('shipped descriptions', () => {
  it('six data sets, all valid, with label sentences', () => {
    const specs = datasetSpecs();
    expect(specs.map((s) => s.id)).toEqual(['busi', 'medpix-location', 'medpix-modality', 'medpix-retrieval', 'pneumoniamnist', 'vqarad-organ']);
    expect(findDatasetSpec('medpix-modality').classes!.map((c) => c.sentence)).toEqual(['a CT image', 'an MR image']);
    expect(() => findDatasetSpec('medpix-modalty')).toThrow(/did you mean 'medpix-modality'/);
  });

  it('absent data root: listed as not present', () => {
    expect(listDatasets('/nonexistent-data-root').every((d) => !d.present)).toBe(true);
  });
});

const hasShared = existsSync(join(SHARED_DATA, 'README.md'));
if (!hasShared) console.warn(`real-data adapter checks skipped: ${SHARED_DATA} is absent`);

describe.skipIf(!hasShared)('shipped descriptions on ../shared/data', () => {
  const load = (id: string) => loadDataset(findDatasetSpec(id), SHARED_DATA);
  it('medpix-modality: official test split, 99 CT / 100 MR; train 1,636; val (dev) 196', () => {
    const d = load('medpix-modality');
    expect([count(d.splits.test, 0), count(d.splits.test, 1)]).toEqual([99, 100]);
    expect([d.splits.train!.length, d.splits.val!.length]).toEqual([1636, 196]);
  });
  it('medpix-location: 5 classes on the test split', () => {
    const d = load('medpix-location');
    expect([0, 1, 2, 3, 4].map((c) => count(d.splits.test, c))).toEqual([76, 40, 41, 31, 11]);
  });
  it('medpix-retrieval: placeholder captions dropped (21 in all), 199 test items with captions', () => {
    const d = load('medpix-retrieval');
    expect(d.notes).toContain('21 rows left out: caption starts with "Replace this"');
    expect(d.splits.test.length).toBe(199);
    expect(d.splits.test.every((i) => i.captions?.length === 1 && !i.captions[0].startsWith('Replace this'))).toBe(true);
  });
  it('pneumoniamnist: official test 624 (234 normal / 390 pneumonia)', () => {
    const d = load('pneumoniamnist');
    expect([count(d.splits.test, 0), count(d.splits.test, 1)]).toEqual([234, 390]);
    expect(d.splits.train!.length).toBe(3882);
  });
  it('busi: 780 images split 70/10/20 (split file of the bundled model when present)', () => {
    const d = load('busi');
    const total = d.splits.test.length + (d.splits.train?.length ?? 0) + (d.splits.val?.length ?? 0);
    expect(total).toBe(780);
    expect(d.splits.test.length).toBe(156);
    expect([0, 1, 2].map((c) => count(d.splits.test, c))).toEqual([87, 42, 27]);
  });
  it('vqarad-organ: 314 unique images, evaluation only, no train split', () => {
    const d = load('vqarad-organ');
    expect([0, 1, 2].map((c) => count(d.splits.test, c))).toEqual([103, 107, 104]);
    expect(d.splits.train).toBeUndefined();
    expect(d.spec.evaluationOnly).toBe(true);
  });
});
