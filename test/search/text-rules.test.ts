import { describe, expect, it } from 'vitest';
import { eitherOrOptions, questionStatements, yesNoStatements } from '../../src/tasks/ask.js';
import { selectSentences } from '../../src/tasks/draft-report.js';
import { contradiction, findingPolarity, splitSentences, wordJaccard } from '../../src/tasks/report-text.js';
import { filterToSql, matchesWhere, parseWhere } from '../../src/index-store/where.js';

describe('contradictions of the simple kind', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['No pleural effusion.', 'Small left pleural effusion.', 'effusion'],
    ['No pleural effusion or pneumothorax.', 'There is a right pneumothorax.', 'pneumothorax'],
    ['The lungs are clear without consolidation.', 'Consolidation in the right lower lobe.', 'consolidation'],
    ['Negative for fracture.', 'Fracture of the distal radius.', 'fracture'],
    ['Mass is absent.', 'A large mass in the liver.', 'mass'],
    ['No evidence of hemorrhage.', 'Acute hemorrhage in the left basal ganglia.', 'hemorrhage'],
    ['Pleural effusions are present bilaterally.', 'No effusion.', 'effusion'],
    // not contradictions
    ['No pleural effusion.', 'Pleural thickening is noted.', undefined],
    ['No mass.', 'No effusion.', undefined],
    ['No effusion.', 'No pleural effusion.', undefined],
    ['Enlarged heart.', 'Heart size is normal.', undefined],
  ];
  it.each(cases)('%s | %s → %s', (a, b, term) => {
    expect(contradiction(a, b)).toBe(term);
    expect(contradiction(b, a)).toBe(term);
  });

  it('negation scope: coordinated heads negated, words before the cue asserted', () => {
    expect(findingPolarity('Lungs clear, no pleural effusion, pneumothorax or rib fracture.')).toEqual({ negated: ['effusion', 'pneumothorax', 'fracture'], asserted: ['lung', 'clear'] });
  });
});

describe('sentences', () => {
  it('splits on sentence ends but not inside abbreviations and decimals', () => {
    expect(splitSentences('Mass, e.g. lymphoma, in the mediastinum. Size 3.5 cm.\n\nNo effusion!  Stable')).toEqual(['Mass, e.g. lymphoma, in the mediastinum.', 'Size 3.5 cm.', 'No effusion!']);
  });

  it('selection keeps the best, drops near-duplicates and contradictions, and says why', () => {
    const v = (x: number, y: number) => Float32Array.from([x, y]).map((c, _, a) => c / Math.hypot(a[0], a[1]));
    const src = { path: '/p', field: 'caption' };
    const cand = (text: string, score: number, vec: Float32Array) => ({ text, source: src, caseSimilarity: score, sentenceSimilarity: score, score, vector: vec });
    const { kept, dropped } = selectSentences(
      [
        cand('Small left pleural effusion.', 0.9, v(1, 0)),
        cand('No pleural effusion.', 0.8, v(0, 1)),
        cand('Small left pleural effusions.', 0.7, v(0.5, 1)), // word overlap 3/5 = 0.6 → near-duplicate
        cand('Heart size is normal.', 0.6, v(1, 1)),
        cand('Cardiac silhouette normal in size.', 0.5, v(1, 1.0001)), // same embedding direction → near-duplicate
        cand('Degenerative changes of the spine.', 0.4, v(-1, 1)),
      ],
      { maxSentences: 5, duplicateCosine: 0.95, duplicateJaccard: 0.6 },
    );
    expect(kept.map((k) => k.text)).toEqual(['Small left pleural effusion.', 'Heart size is normal.', 'Degenerative changes of the spine.']);
    expect(dropped.map((d) => [d.text, d.reason, d.keptInstead])).toEqual([
      ['No pleural effusion.', 'contradiction', 'Small left pleural effusion.'],
      ['Small left pleural effusions.', 'near-duplicate', 'Small left pleural effusion.'],
      ['Cardiac silhouette normal in size.', 'near-duplicate', 'Heart size is normal.'],
    ]);
    expect(wordJaccard('Small left pleural effusion.', 'Small left pleural effusions.')).toBeCloseTo(3 / 5, 10);
  });
});

describe('statements for closed questions', () => {
  const yn: Array<[string, string, string]> = [
    ['Is there a pleural effusion?', 'there is a pleural effusion', 'there is no pleural effusion'],
    ['Are there any calcifications?', 'there are calcifications', 'there are no calcifications'],
    ['Is the heart enlarged?', 'the heart is enlarged', 'the heart is not enlarged'],
    ['Is this a normal liver?', 'this is a normal liver', 'this is not a normal liver'],
    ['Does the image show a fracture?', 'the image shows a fracture', 'the image does not show a fracture'],
    ['Is cardiomegaly present?', 'cardiomegaly is present', 'cardiomegaly is not present'],
    ['Was this patient given IV contrast?', 'this patient was given IV contrast', 'this patient was not given IV contrast'],
    ['Has the midline of the mediastinum shifted?', 'the midline of the mediastinum has shifted', 'the midline of the mediastinum has not shifted'],
    ["Can the patient's encephalon be seen in this image?", "the patient's encephalon can be seen in this image", "the patient's encephalon can not be seen in this image"],
  ];
  it.each(yn)('%s', (q, yes, no) => {
    expect(yesNoStatements(q)).toEqual({ yes, no });
    expect(questionStatements(q)).toEqual({ kind: 'yes/no', candidates: [{ answer: 'yes', statements: [yes] }, { answer: 'no', statements: [no] }] });
  });

  it('either/or questions become one statement per option', () => {
    expect(eitherOrOptions('Is this an MRI or a CT?')?.options).toEqual(['MRI', 'CT']);
    expect(questionStatements('Is this an MRI or a CT?').candidates).toEqual([
      { answer: 'MRI', statements: ['this is an MRI'] },
      { answer: 'CT', statements: ['this is a CT'] },
    ]);
    expect(questionStatements('Are the opacities on the left, right, or both sides?').candidates.map((c) => c.answer)).toEqual(['left', 'right', 'both']);
  });

  it('other questions need --choices', () => {
    expect(() => questionStatements('What organ is shown?')).toThrow(/choices/);
    expect(questionStatements('What organ is shown?', ['liver', 'brain'])).toEqual({ kind: 'choices', candidates: [{ answer: 'liver', statements: [] }, { answer: 'brain', statements: [] }] });
  });
});

describe('--where filters', () => {
  it('parse, quote safely and match records the same way as SQL', () => {
    const f = parseWhere(['modality=CT', "case_id!=O'Brien", 'label~effus']);
    expect(f.map(filterToSql)).toEqual([
      "(modality IS NOT NULL AND lower(modality) = 'ct')",
      "(case_id IS NULL OR lower(case_id) <> 'o''brien')",
      "(labels IS NOT NULL AND lower(labels) LIKE '%effus%' ESCAPE '\\')",
    ]);
    expect(matchesWhere({ modality: 'ct', case_id: 'x', labels: ['Pleural effusion'] }, f)).toBe(true);
    expect(matchesWhere({ modality: 'MR', case_id: 'x', labels: ['Pleural effusion'] }, f)).toBe(false);
    expect(() => parseWhere(['modalty=CT'])).toThrow(/did you mean 'modality'/);
    expect(() => parseWhere(['modality'])).toThrow(/expected key=value/);
  });
});
