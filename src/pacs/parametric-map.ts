/**
 * A medvlm similarity (or probability) map as a DICOM Parametric Map (PS3.3 A.75): 32-bit float pixels
 * (FloatPixelData), one frame of the source's rows and columns, a Real World Value Mapping (identity, the
 * given unit code) for the frame, referencing the analysed source instance (and frame), in the source's
 * study and Frame of Reference, a new series. Written with dcmjs' data set writer; UIDs derive from
 * (source instance, frame, model, prompt, quantity), so the same analysis gives the same instance.
 */
import { RESEARCH_NOTICE } from '../models/defaults.js';
import { commonAttributes, ds, dimensions, perFrameGroup, sharedGroups, writePart10, type DerivedInstance, type SourceFrame } from './derived-image.js';
import { derivedUid, MEDVLM_SCHEME } from './sr.js';

/** Parametric Map Storage. */
export const PARAMETRIC_MAP_STORAGE = '1.2.840.10008.5.1.4.1.1.30';
/** Series number of medvlm parametric map series. */
export const PMAP_SERIES_NUMBER = 9904;

/** What the map's values are. */
export interface MapQuantity {
  /** LUT label (≤ 16 characters), e.g. "COSINE". */
  label: string;
  /** LUT explanation (≤ 64 characters), e.g. "text-image cosine similarity". */
  explanation: string;
  /** UCUM unit code; "1" (no units) for a similarity or a probability. */
  unit: { value: string; meaning: string };
  /** How the frame was derived (Derivation Code Sequence; CID 7203 is extensible, medvlm's scheme where DICOM has no code). */
  derivation: { value: string; meaning: string; scheme: string };
}

/** Cosine similarity between the prompt's text embedding and the image's patch embeddings. */
export const COSINE_SIMILARITY: MapQuantity = { label: 'COSINE', explanation: 'text-image cosine similarity (medvlm)', unit: { value: '1', meaning: 'no units' }, derivation: { value: 'MEDVLM40', meaning: 'Text-image similarity map', scheme: MEDVLM_SCHEME } };
/** A segmenter's per-pixel probability. */
export const PROBABILITY: MapQuantity = { label: 'PROBABILITY', explanation: 'segmentation probability (medvlm)', unit: { value: '1', meaning: 'no units' }, derivation: { value: '113076', meaning: 'Segmentation', scheme: 'DCM' } };

/** What goes into one parametric map. */
export interface ParametricMapInput {
  source: SourceFrame;
  /** Row-major float values of source rows × columns. */
  map: { width: number; height: number; data: ArrayLike<number> };
  /** The text prompt. */
  text: string;
  /** Model id. */
  model: string;
  quantity: MapQuantity;
  now?: Date;
}

/** The map's series and instance UIDs. */
export function parametricMapUids(i: Pick<ParametricMapInput, 'source' | 'text' | 'model' | 'quantity'>): { series: string; instance: string } {
  const key = ['medvlm-pmap-v1', i.source.sopInstanceUid, String(i.source.frameNumber), i.model, i.text, i.quantity.label];
  return { series: derivedUid('pmap-series', i.source.seriesUid, i.model, i.text, i.quantity.label), instance: derivedUid('pmap-instance', ...key) };
}

/**
 * Encode the parametric map.
 * @throws RangeError when the map is not the source's size (a programming error: maps come at input size)
 */
export function buildParametricMap(input: ParametricMapInput): DerivedInstance {
  const { source: src, map } = input;
  if (map.width !== src.columns || map.height !== src.rows) throw new RangeError(`parametric map: ${map.width}x${map.height} differs from the source's ${src.columns}x${src.rows}`);
  const now = input.now ?? new Date();
  const uids = parametricMapUids(input);
  const text = input.text.replace(/[\\\p{Cc}]/gu, ' ').trim();
  const values = Float32Array.from(map.data);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!Number.isFinite(lo)) lo = hi = 0;
  const q = input.quantity;
  const mapping = {
    LUTLabel: q.label.slice(0, 16),
    LUTExplanation: q.explanation.slice(0, 64),
    MeasurementUnitsCodeSequence: [{ CodeValue: q.unit.value, CodingSchemeDesignator: 'UCUM', CodeMeaning: q.unit.meaning }],
    RealWorldValueIntercept: 0,
    RealWorldValueSlope: 1,
    DoubleFloatRealWorldValueFirstValueMapped: lo,
    DoubleFloatRealWorldValueLastValueMapped: hi,
  };
  const dataset: Record<string, unknown> = {
    ...commonAttributes(src, { sopClassUid: PARAMETRIC_MAP_STORAGE, uids, modality: 'OT', seriesNumber: PMAP_SERIES_NUMBER, seriesDescription: `medvlm map: ${text} (research use)`, now }),
    ImageType: ['DERIVED', 'PRIMARY', 'VOLUME', 'NONE'],
    ContentQualification: 'RESEARCH',
    ContentLabel: 'MEDVLM_MAP',
    ContentDescription: `${input.model}: "${text}". ${RESEARCH_NOTICE}`.slice(0, 64),
    ContentCreatorName: '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: src.rows,
    Columns: src.columns,
    BitsAllocated: 32,
    PixelPresentation: 'MONOCHROME',
    AcquisitionContextSequence: [],
    BurnedInAnnotation: 'NO',
    RecognizableVisualFeatures: 'NO',
    LossyImageCompression: '00',
    PresentationLUTShape: 'IDENTITY',
    NumberOfFrames: 1,
    ...dimensions(derivedUid('pmap-dimensions', uids.instance), [{ index: '00209057', group: '00209111', label: 'In-Stack Position' }]),
    SharedFunctionalGroupsSequence: [sharedGroups(src, {
      FrameVOILUTSequence: [{ WindowCenter: ds((lo + hi) / 2), WindowWidth: ds(Math.max(hi - lo, 1e-6)), VOILUTFunction: 'LINEAR_EXACT' }],
      PixelValueTransformationSequence: [{ RescaleIntercept: '0', RescaleSlope: '1', RescaleType: 'US' }],
      ParametricMapFrameTypeSequence: [{ FrameType: ['DERIVED', 'PRIMARY', 'VOLUME', 'NONE'] }],
    })],
    PerFrameFunctionalGroupsSequence: [
      perFrameGroup(src, q.derivation, [1], { RealWorldValueMappingSequence: [mapping] }),
    ],
    FloatPixelData: [values.buffer],
  };
  return { bytes: writePart10(dataset, PARAMETRIC_MAP_STORAGE, uids.instance), sopInstanceUid: uids.instance, seriesInstanceUid: uids.series };
}
