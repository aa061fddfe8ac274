/**
 * Adapters from files on disk to raw items: generic manifest (JSONL/CSV), MedPix 2.0 manifest,
 * folder per class, MedMNIST `.npz`, VQA-RAD `qa.jsonl`. They only read; class mapping and splits
 * are applied afterwards (`load.ts`) from the data set's description.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { inputError } from '../../core/errors.js';
import { readNpz } from './npy.js';
import { parseCsv } from './csv.js';
import type { DatasetSpec, ManifestSource, MedMnistSource, VqaRadSource } from './spec.js';
import type { ImageRef, QAPair } from './types.js';

/** An item as read from disk, before class names become indices and splits are assigned. */
export interface RawItem {
  id: string;
  images: ImageRef[];
  /** Class names (one for single-label data; several or none for multi-label). */
  classNames?: string[];
  /** Class indices given directly by the data (MedMNIST), instead of names. */
  classIndices?: number[];
  captions?: string[];
  qa?: QAPair[];
  /** The split the data itself assigns (manifest field, npz array, top-level folder). */
  split?: string;
}

/** What an adapter returns: the items and notes about rows left out. */
export interface RawDataset {
  items: RawItem[];
  notes: string[];
}

const IMAGE_EXT = /\.(png|jpe?g|tiff?|webp|dcm|dicom|nii|nii\.gz)$/i;

function fileMissing(path: string, id: string): Error {
  return inputError('E_FILE_NOT_FOUND', path, `data set ${id}: not found (point the dataRoot option or MEDVLM_DATA at the folder that holds it)`);
}

/** JSONL or CSV rows as plain objects. */
export function readManifestRows(path: string): Record<string, unknown>[] {
  const text = readFileSync(path, 'utf8');
  if (/\.csv$/i.test(path)) return parseCsv(text);
  return text.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('not a JSON object');
      return [v as Record<string, unknown>];
    } catch (e) {
      throw inputError('E_DATASET_INVALID', path, `line ${i + 1}: ${(e as Error).message}`);
    }
  });
}

/** A field as a list of strings: JSON arrays as they are, strings split on `|` (CSV), empty → []. */
function listField(v: unknown, splitBar: boolean): string[] {
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.map(String);
  const s = String(v);
  return splitBar ? s.split('|').map((x) => x.trim()).filter((x) => x.length > 0) : [s];
}

const MEDPIX_DEFAULTS: Partial<ManifestSource> = {
  image: 'image',
  caption: 'caption',
};

function readManifest(spec: DatasetSpec, src: ManifestSource, dataRoot: string): RawDataset {
  const s: ManifestSource = src.format === 'medpix' ? { ...MEDPIX_DEFAULTS, ...src } : src;
  const path = join(dataRoot, s.path);
  if (!existsSync(path)) throw fileMissing(path, spec.id);
  const base = dirname(path);
  const rows = readManifestRows(path);
  const imageField = s.image ?? 'image';
  const splitField = spec.split.kind === 'field' ? spec.split.field : undefined;
  const isCsv = /\.csv$/i.test(path);
  const notes: string[] = [];
  const dropped = new Map<string, number>();
  const items: RawItem[] = [];
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    const rule = (s.drop ?? []).find((d) => String(row[d.field] ?? '').startsWith(d.startsWith));
    if (rule) {
      const why = `${rule.field} starts with "${rule.startsWith}"`;
      dropped.set(why, (dropped.get(why) ?? 0) + 1);
      return;
    }
    const images = listField(row[imageField], isCsv);
    if (images.length === 0) throw inputError('E_DATASET_INVALID', path, `row ${i + 1}: no image in field "${imageField}"`);
    const id = s.id ? String(row[s.id]) : images.join('|');
    if (seen.has(id)) throw inputError('E_DATASET_INVALID', path, `row ${i + 1}: duplicate item id ${JSON.stringify(id)}`);
    seen.add(id);
    const item: RawItem = { id, images: images.map((p) => ({ kind: 'file', path: join(base, p) })) };
    if (s.label) item.classNames = listField(row[s.label], false).slice(0, 1);
    if (s.labels) item.classNames = listField(row[s.labels], true);
    if (s.caption) item.captions = listField(row[s.caption], false);
    if (s.question && s.answer) item.qa = [{ question: String(row[s.question] ?? ''), answer: String(row[s.answer] ?? '') }];
    if (splitField) item.split = String(row[splitField] ?? '');
    items.push(item);
  });
  for (const [why, n] of dropped) notes.push(`${n} rows left out: ${why}`);
  return { items, notes };
}

function walkImages(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walkImages(p));
    else if (IMAGE_EXT.test(e.name)) out.push(p);
  }
  return out;
}

function readFolder(spec: DatasetSpec, dataRoot: string): RawDataset {
  const root = join(dataRoot, spec.source.path);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw fileMissing(root, spec.id);
  const splitLevel = spec.split.kind === 'folders';
  const items: RawItem[] = [];
  const subdirs = (d: string) => readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const tops = splitLevel ? subdirs(root).map((s) => ({ split: s as string | undefined, dir: join(root, s) })) : [{ split: undefined, dir: root }];
  for (const { split, dir } of tops) {
    for (const cls of subdirs(dir)) {
      for (const file of walkImages(join(dir, cls))) {
        items.push({ id: relative(root, file).split('\\').join('/'), images: [{ kind: 'file', path: file }], classNames: [cls], ...(split ? { split } : {}) });
      }
    }
  }
  return { items, notes: [] };
}

function readMedMnist(spec: DatasetSpec, src: MedMnistSource, dataRoot: string): RawDataset {
  const path = join(dataRoot, src.path);
  if (!existsSync(path)) throw fileMissing(path, spec.id);
  const arrays = readNpz(new Uint8Array(readFileSync(path)), path);
  const splitNames = [...arrays.keys()].filter((k) => k.endsWith('_images')).map((k) => k.slice(0, -'_images'.length));
  const items: RawItem[] = [];
  for (const split of splitNames) {
    const images = arrays.get(`${split}_images`)!;
    const labels = arrays.get(`${split}_labels`);
    const where = `${path}:${split}_images.npy`;
    if (!(images.data instanceof Uint8Array)) throw inputError('E_DATASET_INVALID', where, `expected uint8 images, got dtype ${images.dtype}`);
    const [n, h, w, c = 1] = images.shape;
    if (images.shape.length < 3 || (c !== 1 && c !== 3)) throw inputError('E_DATASET_INVALID', where, `expected N x H x W or N x H x W x 3, got (${images.shape.join(', ')})`);
    if (!labels || labels.shape[0] !== n) throw inputError('E_DATASET_INVALID', path, `${split}_labels is missing or does not have ${n} rows`);
    const k = labels.shape[1] ?? 1;
    const size = h * w * c;
    for (let i = 0; i < n; i++) {
      const row = Array.from(labels.data.subarray(i * k, (i + 1) * k), Number);
      items.push({
        id: `${split}/${i}`,
        images: [{ kind: 'pixels', name: `${src.path}:${split}[${i}]`, width: w, height: h, channels: c as 1 | 3, data: images.data.subarray(i * size, (i + 1) * size) }],
        // N x 1 → the class index; N x K (multi-label) → the indices of the 1s
        classIndices: k === 1 ? row : row.flatMap((v, j) => (v ? [j] : [])),
        split,
      });
    }
  }
  return { items, notes: [] };
}

function readVqaRad(spec: DatasetSpec, src: VqaRadSource, dataRoot: string): RawDataset {
  const path = join(dataRoot, src.path);
  if (!existsSync(path)) throw fileMissing(path, spec.id);
  const base = dirname(path);
  const labelField = src.label ?? 'image_organ';
  const byImage = new Map<string, RawItem>();
  for (const row of readManifestRows(path)) {
    const image = String(row.image ?? '');
    if (!image) throw inputError('E_DATASET_INVALID', path, `qid ${String(row.qid)}: no "image"`);
    let item = byImage.get(image);
    if (!item) {
      item = { id: image, images: [{ kind: 'file', path: join(base, image) }], classNames: listField(row[labelField], false).slice(0, 1), qa: [] };
      byImage.set(image, item);
    }
    item.qa!.push({ question: String(row.question ?? ''), answer: String(row.answer ?? ''), answerType: String(row.answer_type ?? '') });
  }
  return { items: [...byImage.values()], notes: [`${byImage.size} unique images from the question-answer rows`] };
}

/**
 * Read a data set's items from `dataRoot` as its description says.
 * @throws InputError E_FILE_NOT_FOUND when the data set's files are absent, E_DATASET_INVALID for bad content.
 */
export function readSource(spec: DatasetSpec, dataRoot: string): RawDataset {
  const src = spec.source;
  switch (src.format) {
    case 'manifest':
    case 'medpix':
      return readManifest(spec, src, dataRoot);
    case 'folder':
      return readFolder(spec, dataRoot);
    case 'medmnist':
      return readMedMnist(spec, src, dataRoot);
    case 'vqarad':
      return readVqaRad(spec, src, dataRoot);
  }
}

/** The path whose presence says whether a data set is on this machine. */
export function sourcePath(spec: DatasetSpec, dataRoot: string): string {
  return join(dataRoot, spec.source.path);
}

/** File name of an item's first image (for split files that list names), or its id. */
export function itemFileName(item: RawItem): string {
  const img = item.images[0];
  if (img?.kind !== 'file') return item.id;
  const p = img.path.split(/[\\/]/);
  return p[p.length - 1] ?? item.id;
}
