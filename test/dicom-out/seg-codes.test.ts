/**
 * The SEG's segmented property type follows the prompt: the morphology it names (SNOMED CT codes of DICOM's
 * segmentation context groups, plus Polyp), most specific first, else the generic Lesion.
 */
import { describe, expect, it } from 'vitest';
import { segmentTypeFor } from '../../src/pacs/seg.js';

describe('segmentTypeFor', () => {
  it.each([
    ['lesion', '52988006', 'Lesion'],
    ['breast lesion', '52988006', 'Lesion'],
    ['polyp', '41329004', 'Polyp'],
    ['colon polyps', '41329004', 'Polyp'],
    ['brain tumour', '108369006', 'Neoplasm'],
    ['low-grade glioma', '108369006', 'Neoplasm'],
    ['malignant mass', '108369006', 'Neoplasm'],
    ['mass', '4147007', 'Mass'],
    ['lung nodule', '27925004', 'Nodule'],
    ['renal cyst', '367643001', 'Cyst'],
    ['peritumoral oedema', '79654002', 'Edema'],
    ['intracranial haemorrhage', '50960005', 'Hemorrhage'],
    ['massive thing', '52988006', 'Lesion'], // whole words only
    ['polypoid', '52988006', 'Lesion'],
  ])('%s → %s %s', (prompt, code, meaning) => {
    expect(segmentTypeFor(prompt)).toEqual({ CodeValue: code, CodingSchemeDesignator: 'SCT', CodeMeaning: meaning });
  });
});
