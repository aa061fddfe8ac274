/**
 * A small data root in the layout of ../shared/data (vqa_rad/qa.jsonl, medpix2/manifest.jsonl) built from
 * the repository's samples/ images, so the generative grid's mechanics are tested without the real data.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TINY_GEN = join(ROOT, 'models/medvlm-tiny-gen');
export const SHARED_DATA = join(ROOT, '../shared/data');

const IMAGES = ['vqarad-abdomen-ct-1.jpg', 'vqarad-abdomen-ct-2.jpg', 'vqarad-chest-xray-1.jpg', 'vqarad-chest-xray-2.jpg', 'vqarad-head-ct-1.jpg', 'vqarad-head-mr-1.jpg'];

/** Build the mini data root; returns its folder. */
export function miniDataRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'medvlm-geneval-'));
  for (const d of ['vqa_rad/images', 'medpix2/images']) mkdirSync(join(root, d), { recursive: true });
  for (const f of IMAGES) {
    copyFileSync(join(ROOT, 'samples', f), join(root, 'vqa_rad/images', f));
    copyFileSync(join(ROOT, 'samples', f), join(root, 'medpix2/images', f));
  }
  const qa = [
    { split: 'train', image: IMAGES[0], question: 'Is there free air?', answer: 'No', answer_type: 'CLOSED', question_type: 'PRES' },
    { split: 'train', image: IMAGES[1], question: 'Is this a CT?', answer: 'yes', answer_type: 'CLOSED', question_type: 'MODALITY' },
    { split: 'train', image: IMAGES[2], question: 'Is the heart enlarged?', answer: 'no', answer_type: 'CLOSED', question_type: 'SIZE' },
    { split: 'train', image: IMAGES[3], question: 'What organ is shown?', answer: 'lungs', answer_type: 'OPEN', question_type: 'ORGAN' },
    { split: 'test', image: IMAGES[4], question: 'Is this a CT scan?', answer: 'Yes', answer_type: 'CLOSED', question_type: 'MODALITY' },
    { split: 'test', image: IMAGES[5], question: 'Is this an MRI?', answer: 'yes', answer_type: 'CLOSED', question_type: 'MODALITY' },
    { split: 'test', image: IMAGES[2], question: 'Is there a pneumothorax?', answer: 'no', answer_type: 'CLOSED', question_type: 'PRES' },
    { split: 'test', image: IMAGES[0], question: 'What part of the body is shown?', answer: 'the abdomen', answer_type: 'OPEN', question_type: 'ORGAN' },
  ].map((q, i) => JSON.stringify({ qid: i + 1, ...q, image: `images/${q.image}`, image_organ: 'X', phrase_type: 'freeform' }));
  writeFileSync(join(root, 'vqa_rad/qa.jsonl'), qa.join('\n') + '\n');
  const mp = [
    { image: IMAGES[0], case_id: 'C1', split: 'train', type: 'CT', location_category: 'Abdomen', caption: 'Axial CT of the abdomen shows a liver mass.', findings: 'Large hepatic mass.' },
    { image: IMAGES[2], case_id: 'C2', split: 'train', type: 'CT', location_category: 'Thorax', caption: 'Chest film with clear lungs.', findings: 'No effusion.' },
    { image: IMAGES[5], case_id: 'C3', split: 'train', type: 'MR', location_category: 'Head', caption: 'MRI of the brain, T2 hyperintense lesion.', findings: 'Brain lesion in the frontal lobe.' },
    { image: IMAGES[1], case_id: 'C4', split: 'test', type: 'CT', location_category: 'Abdomen', caption: 'CT of the abdomen with a renal cyst.', findings: 'Simple cyst of the left kidney.' },
    { image: IMAGES[4], case_id: 'C5', split: 'test', type: 'CT', location_category: 'Head', caption: 'Head CT shows a hemorrhage.', findings: 'Acute hemorrhage.' },
    { image: IMAGES[3], case_id: 'C5', split: 'test', type: 'CT', location_category: 'Head', caption: 'Replace this - DESCRIPTION', findings: 'Acute hemorrhage.' },
  ].map((r) => JSON.stringify({ ...r, image: `images/${r.image}`, modality: r.type, plane: 'Axial' }));
  writeFileSync(join(root, 'medpix2/manifest.jsonl'), mp.join('\n') + '\n');
  return root;
}
