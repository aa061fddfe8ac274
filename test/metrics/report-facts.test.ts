/** Stated modality / body region of a report: the first mention decides; none stated counts wrong. */
import { describe, expect, it } from 'vitest';
import { modalityRight, regionRight, statedModality, statedRegion } from '../../src/metrics/report-facts.js';

describe('report facts', () => {
  it('reads the first modality named', () => {
    expect(statedModality('axial ct image of the head. no mri was done')).toBe('ct');
    expect(statedModality('T2 weighted image shows a CT-like pattern')).toBe('mri');
    expect(statedModality('Frontal chest radiograph.')).toBe('x-ray');
    expect(statedModality('breast ultrasound image. benign lesion.')).toBe('ultrasound');
    expect(statedModality('a large mass')).toBeNull();
    expect(statedModality('actual scan')).toBeNull(); // "ct" inside a word is not a mention
  });

  it('reads the first body region named', () => {
    expect(statedRegion('mri image of the head. the chest is clear')).toBe('Head');
    expect(statedRegion('axial ct image of the pelvis.')).toBe('Reproductive and Urinary System');
    expect(statedRegion('Enlarged liver with a hepatic mass.')).toBe('Abdomen');
    expect(statedRegion('Lumbar spine degeneration.')).toBe('Spine and Muscles');
    expect(statedRegion('pulmonary nodule')).toBe('Thorax');
    expect(statedRegion('no region here')).toBeNull();
  });

  it('scores right / wrong / unstated', () => {
    expect(modalityRight('axial ct image of the head', 'CT')).toBe(1);
    expect(modalityRight('mri of the brain', 'MR')).toBe(1);
    expect(modalityRight('mri of the brain', 'ct')).toBe(0);
    expect(modalityRight('a mass', 'ct')).toBe(0);
    expect(regionRight('ct of the abdomen', 'Abdomen')).toBe(1);
    expect(regionRight('ct of the abdomen', 'Head')).toBe(0);
  });
});
