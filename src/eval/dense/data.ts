/**
 * The dense-task data sets (masks) and their recorded splits:
 * - `busi-seg`: BUSI lesion masks with the bundled model's split (models/medvlm-tiny/splits/busi.json);
 *   normal = the "normal" class (empty masks);
 * - `kvasir-seg`: Kvasir-SEG polyps, datasets/splits/kvasir-seg.json (seeded 800/80/120 by image);
 * - `lgg`: LGG brain MRI slices, datasets/splits/lgg.json (BY PATIENT 11/3/5); normal = no tumour pixels.
 * Files are read from the data root (`../shared/data` or MEDVLM_DATA); nothing of it is in the repo.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inputError } from '../../core/errors.js';
import { packageRoot } from '../../core/paths.js';
import { parseCsv } from '../datasets/csv.js';

/** One image with its ground-truth mask. */
export interface DenseItem {
  id: string;
  image: string;
  mask: string;
  /** True when the mask is empty (a normal image). */
  normal: boolean;
  /** Patient id (LGG), for patient-level reporting. */
  group?: string;
}

/** A dense data set with its splits. */
export interface DenseDataset {
  id: DenseDatasetId;
  title: string;
  /** What the images show (anomaly prompts) and the default segmentation target. */
  object: string;
  target: string;
  splitFile: string;
  splits: Record<'train' | 'val' | 'test', DenseItem[]>;
  licence: string;
}

/** Ids of the dense data sets. */
export type DenseDatasetId = 'busi-seg' | 'kvasir-seg' | 'lgg';
export const DENSE_DATASETS: readonly DenseDatasetId[] = ['busi-seg', 'kvasir-seg', 'lgg'];

const FOLDER: Record<DenseDatasetId, string> = { 'busi-seg': 'busi', 'kvasir-seg': 'kvasir_seg', lgg: 'lgg_mri' };

/** Whether the data set's folder is under `root`. */
export function densePresent(id: DenseDatasetId, root: string): boolean {
  return existsSync(join(root, FOLDER[id]));
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw inputError('E_DATASET_INVALID', path, `cannot read the split file: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

function rows(path: string): Array<Record<string, string>> {
  return parseCsv(readFileSync(path, 'utf8'));
}

/** Load a dense data set's items and splits (file lists only; images are read later). */
export function loadDenseDataset(id: DenseDatasetId, root: string): DenseDataset {
  const repo = packageRoot();
  const base = join(root, FOLDER[id]);
  if (id === 'busi-seg') {
    const splitFile = join(repo, 'models/medvlm-tiny/splits/busi.json');
    const split = readJson<Record<'train' | 'val' | 'test', string[]> & { labels: Record<string, string> }>(splitFile);
    const masks = new Map(rows(join(base, 'masks.csv')).map((r) => [r.image.replace(/^images\//, ''), r]));
    const item = (name: string): DenseItem => {
      const m = masks.get(name);
      if (!m) throw inputError('E_DATASET_INVALID', join(base, 'masks.csv'), `has no mask row for ${name}`);
      return { id: name, image: join(base, 'images', name), mask: join(base, m.mask), normal: split.labels[name] === 'normal' };
    };
    return {
      id, title: 'BUSI breast ultrasound, lesion masks', object: 'breast ultrasound image', target: 'lesion', splitFile, licence: 'BUSI (Al-Dhabyani et al. 2020), upstream licence unclear, research use',
      splits: { train: split.train.map(item), val: split.val.map(item), test: split.test.map(item) },
    };
  }
  if (id === 'kvasir-seg') {
    const splitFile = join(repo, 'datasets/splits/kvasir-seg.json');
    const split = readJson<Record<'train' | 'val' | 'test', string[]>>(splitFile);
    const item = (name: string): DenseItem => ({ id: name, image: join(base, 'images', name), mask: join(base, 'masks', name), normal: false });
    return {
      id, title: 'Kvasir-SEG colonoscopy polyps', object: 'colonoscopy image', target: 'polyp', splitFile, licence: 'Kvasir-SEG (Jha et al. 2020), research and education only',
      splits: { train: split.train.map(item), val: split.val.map(item), test: split.test.map(item) },
    };
  }
  const splitFile = join(repo, 'datasets/splits/lgg.json');
  const split = readJson<Record<'train' | 'val' | 'test', string[]>>(splitFile);
  const manifest = new Map(rows(join(base, 'manifest.csv')).map((r) => [r.image, r]));
  const item = (name: string): DenseItem => {
    const r = manifest.get(name);
    if (!r) throw inputError('E_DATASET_INVALID', join(base, 'manifest.csv'), `has no row for ${name}`);
    return { id: name, image: join(base, r.image), mask: join(base, r.mask), normal: Number(r.tumour_pixels) === 0, group: r.patient };
  };
  return {
    id, title: 'LGG brain MRI (FLAIR et al.), tumour masks, split by patient', object: 'brain MRI', target: 'tumour', splitFile, licence: 'TCGA-LGG via Buda et al. 2019, CC BY-NC-SA 4.0',
    splits: { train: split.train.map(item), val: split.val.map(item), test: split.test.map(item) },
  };
}
