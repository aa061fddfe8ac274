/**
 * Two checkable clinical facts of a generated report: the imaging modality and the body region it
 * states. A report "states" the first modality (or region) it names, read left to right with the
 * word lists below (lower case, whole words); a fact is right when that first mention equals the
 * truth, wrong when it names another one, and counted wrong when it names none (so a report that
 * avoids the question does not score). Word lists are fixed here and documented in docs/metrics.md.
 */

/** Modalities a report can state. */
export type StatedModality = 'ct' | 'mri' | 'x-ray' | 'ultrasound';

/** Body regions (MedPix 2.0 `location_category`) a report can state. */
export type StatedRegion = 'Head' | 'Thorax' | 'Abdomen' | 'Spine and Muscles' | 'Reproductive and Urinary System';

const MODALITY_WORDS: [StatedModality, RegExp][] = [
  ['ct', /\b(ct|cta|computed tomography)\b/g],
  ['mri', /\b(mri|mr|mra|magnetic resonance|t1|t2|flair)\b/g],
  ['x-ray', /\b(x-?ray|radiograph\w*|plain film)\b/g],
  ['ultrasound', /\b(ultrasound|sonograph\w*|sonogram|us)\b/g],
];

const REGION_WORDS: [StatedRegion, RegExp][] = [
  ['Head', /\b(head|brain|cerebral|cerebellar|cranial|intracranial|skull|orbit\w*|sinus\w*|neck|temporal|frontal lobe|ventricle\w*)\b/g],
  ['Thorax', /\b(chest|thorax|thoracic|lungs?|pulmonary|mediastin\w*|heart|cardiac|pleural|breast)\b/g],
  ['Abdomen', /\b(abdomen|abdominal|liver|hepatic|pancrea\w*|spleen|splenic|bowel|colon|stomach|gallbladder|small intestine)\b/g],
  ['Spine and Muscles', /\b(spine|spinal|vertebra\w*|muscles?|musculoskeletal|knee|shoulder|femur|tibia|bone|joint|extremity)\b/g],
  ['Reproductive and Urinary System', /\b(pelvis|pelvic|bladder|uterus|uterine|ovar\w*|prostate|kidneys?|renal|urinary|scrot\w*|testi\w*)\b/g],
];

function firstMention<T extends string>(text: string, words: [T, RegExp][]): T | null {
  const lower = text.toLowerCase();
  let best: { label: T; at: number } | null = null;
  for (const [label, re] of words) {
    re.lastIndex = 0;
    const m = re.exec(lower);
    if (m && (best === null || m.index < best.at)) best = { label, at: m.index };
  }
  return best ? best.label : null;
}

/** The first modality a text names, or null. */
export function statedModality(text: string): StatedModality | null {
  return firstMention(text, MODALITY_WORDS);
}

/** The first body region a text names, or null. */
export function statedRegion(text: string): StatedRegion | null {
  return firstMention(text, REGION_WORDS);
}

/** 1 when the report's first stated modality is `truth`, else 0 ('mr' counts as 'mri'). */
export function modalityRight(text: string, truth: string): 0 | 1 {
  const t = truth.toLowerCase() === 'mr' ? 'mri' : truth.toLowerCase();
  return statedModality(text) === t ? 1 : 0;
}

/** 1 when the report's first stated body region is `truth` (a MedPix location_category), else 0. */
export function regionRight(text: string, truth: string): 0 | 1 {
  return statedRegion(text) === truth ? 1 : 0;
}
