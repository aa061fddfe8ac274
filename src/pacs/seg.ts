/**
 * A medvlm mask as a DICOM Segmentation (PS3.3 A.51): BINARY, one segment labelled with the text prompt,
 * algorithm type AUTOMATIC (the model's name), one frame of the source's rows and columns, referencing the
 * analysed source instance (and frame), in the source's study and Frame of Reference, a new series.
 * Written with dcmjs' data set writer. UIDs derive from (source instance, frame, model, prompt, threshold):
 * the same analysis gives the same instance.
 */
import { packageVersion } from '../core/paths.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import { commonAttributes, dimensions, perFrameGroup, sharedGroups, writePart10, type DerivedInstance, type SourceFrame } from './derived-image.js';
import { derivedUid } from './sr.js';

/** Segmentation Storage. */
export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';
/** Series number of medvlm segmentation series. */
export const SEG_SERIES_NUMBER = 9903;

/** Segmented property category: SNOMED CT "Morphologically Altered Structure" (CID 7150). */
export const SEGMENT_CATEGORY = { CodeValue: '49755003', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Morphologically Altered Structure' };
/** The generic segmented property type, for a prompt that names none of {@link SEGMENT_TYPES}. */
export const SEGMENT_TYPE = { CodeValue: '52988006', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Lesion' };

type Code = typeof SEGMENT_TYPE;
const sct = (CodeValue: string, CodeMeaning: string): Code => ({ CodeValue, CodingSchemeDesignator: 'SCT', CodeMeaning });

/**
 * Property types (SNOMED CT morphologies of the "Morphologically Altered Structure" category) for words a
 * prompt may hold, most specific first. The codes are those of DICOM's segmentation context groups as dcmqi
 * lists them, plus Polyp (41329004), a SNOMED CT morphology the groups do not list.
 */
export const SEGMENT_TYPES: ReadonlyArray<{ words: RegExp; code: Code }> = [
  { words: /\bpolyps?\b/i, code: sct('41329004', 'Polyp') },
  { words: /\b(tumou?rs?|neoplasms?|cancers?|carcinomas?|gliomas?|malignan\w*)\b/i, code: sct('108369006', 'Neoplasm') },
  { words: /\bnodules?\b/i, code: sct('27925004', 'Nodule') },
  { words: /\bcysts?\b/i, code: sct('367643001', 'Cyst') },
  { words: /\b(o?edema)\b/i, code: sct('79654002', 'Edema') },
  { words: /\b(ha?emorrhages?|bleed\w*)\b/i, code: sct('50960005', 'Hemorrhage') },
  { words: /\babscess(es)?\b/i, code: sct('44132006', 'Abscess') },
  { words: /\bnecrosis\b/i, code: sct('6574001', 'Necrosis') },
  { words: /\bmass(es)?\b/i, code: sct('4147007', 'Mass') },
];

/** The segmented property type for a text prompt: the first of {@link SEGMENT_TYPES} it names, else Lesion. */
export function segmentTypeFor(prompt: string): Code {
  return SEGMENT_TYPES.find((t) => t.words.test(prompt))?.code ?? SEGMENT_TYPE;
}

/** What goes into one segmentation. */
export interface SegmentationInput {
  source: SourceFrame;
  /** Row-major 0/1 mask of source rows × columns (any non-zero value counts as inside). */
  mask: { width: number; height: number; data: ArrayLike<number> };
  /** The text prompt: the segment's label. */
  label: string;
  /** The model: id (the segment's algorithm name) and the sha256 of its files (its version). */
  model: { id: string; fileHashes: Record<string, string> };
  threshold: number;
  now?: Date;
}

/** Pack a 0/1 mask one bit per pixel, first pixel in the lowest bit (PS3.5 8.1.1), padded to an even length. */
export function packBits(data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 8) + (Math.ceil(data.length / 8) % 2));
  for (let i = 0; i < data.length; i++) if (data[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/** The Algorithm Version of a model: medvlm's version and a digest of the model's file hashes (≤ 64 characters). */
export function modelVersion(model: { id: string; fileHashes: Record<string, string> }): string {
  const files = Object.entries(model.fileHashes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
  return `medvlm ${packageVersion()} weights ${derivedUid(...files).slice(5, 21)}`.slice(0, 64);
}

/** The segmentation's series and instance UIDs. */
export function segmentationUids(i: Pick<SegmentationInput, 'source' | 'label' | 'model' | 'threshold'>): { series: string; instance: string } {
  const key = ['medvlm-seg-v1', i.source.sopInstanceUid, String(i.source.frameNumber), modelVersion(i.model), i.label, String(i.threshold)];
  return { series: derivedUid('series', i.source.seriesUid, i.model.id, i.label), instance: derivedUid('instance', ...key) };
}

/**
 * Encode the segmentation.
 * @throws RangeError when the mask is not the source's size (a programming error: masks come at input size)
 */
export function buildSegmentation(input: SegmentationInput): DerivedInstance {
  const { source: src, mask } = input;
  if (mask.width !== src.columns || mask.height !== src.rows) throw new RangeError(`segmentation: mask ${mask.width}x${mask.height} differs from the source's ${src.columns}x${src.rows}`);
  const now = input.now ?? new Date();
  const uids = segmentationUids(input);
  const label = input.label.replace(/[\\\p{Cc}]/gu, ' ').trim().slice(0, 64) || 'segment';
  const dimUid = derivedUid('dimensions', uids.instance);
  const dataset: Record<string, unknown> = {
    ...commonAttributes(src, { sopClassUid: SEGMENTATION_STORAGE, uids, modality: 'SEG', seriesNumber: SEG_SERIES_NUMBER, seriesDescription: `medvlm segmentation: ${label} (research use)`, now }),
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentLabel: 'MEDVLM_SEG',
    ContentDescription: `${input.model.id}: "${label}". ${RESEARCH_NOTICE}`.slice(0, 64),
    ContentCreatorName: '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: src.rows,
    Columns: src.columns,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    SegmentSequence: [
      {
        SegmentNumber: 1,
        SegmentLabel: label,
        SegmentDescription: `text prompt "${label}", threshold ${input.threshold}`.slice(0, 64),
        SegmentAlgorithmType: 'AUTOMATIC',
        SegmentAlgorithmName: input.model.id.slice(0, 64),
        SegmentationAlgorithmIdentificationSequence: [
          {
            AlgorithmFamilyCodeSequence: [{ CodeValue: '123110', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Artificial Intelligence' }],
            AlgorithmName: input.model.id.slice(0, 64),
            AlgorithmVersion: modelVersion(input.model),
          },
        ],
        SegmentedPropertyCategoryCodeSequence: [SEGMENT_CATEGORY],
        SegmentedPropertyTypeCodeSequence: [segmentTypeFor(input.label)],
      },
    ],
    NumberOfFrames: 1,
    ...dimensions(dimUid, [
      { index: '0062000B', group: '0062000A', label: 'Segment Number' },
      { index: '00209057', group: '00209111', label: 'In-Stack Position' },
    ]),
    SharedFunctionalGroupsSequence: [sharedGroups(src)],
    PerFrameFunctionalGroupsSequence: [
      perFrameGroup(src, { value: '113076', meaning: 'Segmentation' }, [1, 1], { SegmentIdentificationSequence: [{ ReferencedSegmentNumber: 1 }] }),
    ],
    PixelData: [packBits(mask.data).buffer],
    _vrMap: { PixelData: 'OB' },
  };
  return { bytes: writePart10(dataset, SEGMENTATION_STORAGE, uids.instance), sopInstanceUid: uids.instance, seriesInstanceUid: uids.series };
}
