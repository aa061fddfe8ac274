/**
 * JSON Schemas of every result the library returns and the CLI prints with `--json` (TypeBox: each
 * schema is plain JSON Schema, draft 2020-12 compatible, and its TypeScript type follows from it).
 * The server validates and documents its answers with the same objects; tests check real CLI output
 * against them.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DenseMapResultSchema, DenseSegmentResultSchema } from './dense-schemas.js';

const Num = Type.Number();
const Str = Type.String();
const opt = <T extends TSchema>(t: T) => Type.Optional(t);

/** `{code, message}` of a failed input (and the library option at fault, when there is one). */
export const ErrorBody = Type.Object({ code: Type.String({ pattern: '^E_[A-Z0-9_]+$' }), message: Str, option: opt(Str), file: opt(Str) }, { $id: 'ErrorBody' });

/** An input that could not be processed. */
export const FileErrorSchema = Type.Object({ file: Str, error: ErrorBody }, { $id: 'FileError' });

/** One label with its score. */
export const LabelScoreSchema = Type.Object({ label: Str, score: Type.Number({ minimum: 0, maximum: 1 }) }, { $id: 'LabelScore' });

/** Labels of one image, best first (the pipeline's answer for one input). */
export const LabelsSchema = Type.Array(LabelScoreSchema, { $id: 'Labels' });

/** Zero-shot result for one input. */
export const ClassifyResultSchema = Type.Object({ file: Str, labels: Type.Array(LabelScoreSchema) }, { $id: 'ClassifyResult' });

/** `medvlm classify --json`: one entry per input. */
export const ClassifyOutputSchema = Type.Array(Type.Union([ClassifyResultSchema, FileErrorSchema]), { $id: 'ClassifyOutput' });

/** One embedding row (`medvlm embed` JSONL). */
export const EmbeddingRowSchema = Type.Union(
  [
    Type.Object({ kind: Type.Literal('image'), file: Str, embedding: Type.Array(Num, { minItems: 1 }), model: Str }),
    Type.Object({ kind: Type.Literal('text'), text: Str, embedding: Type.Array(Num, { minItems: 1 }), model: Str }),
  ],
  { $id: 'EmbeddingRow' },
);

const WindowSchema = Type.Object({ center: Num, width: Num, source: opt(Str) });

/** `medvlm inspect --json` for one file. */
export const InspectResultSchema = Type.Object(
  {
    file: Str,
    format: Type.Union(['dicom', 'nifti', 'png', 'jpeg', 'tiff', 'webp'].map((f) => Type.Literal(f))),
    shape: Type.Array(Type.Integer()),
    rows: Type.Integer(),
    columns: Type.Integer(),
    frames: Type.Integer(),
    timepoints: Type.Integer(),
    samplesPerPixel: Type.Integer(),
    photometric: Str,
    transferSyntax: opt(Str),
    transferSyntaxUID: opt(Str),
    spacing: Type.Array(Num),
    orientation: opt(Str),
    modality: opt(Str),
    values: Type.Object({ min: Num, max: Num, mean: Num }),
    windows: Type.Array(WindowSchema),
    invertForDisplay: Type.Boolean(),
    meta: Type.Record(Str, Type.Unknown()),
    phi: opt(Type.Record(Str, Str)),
  },
  { $id: 'InspectResult' },
);

const MetadataSchema = Type.Object({
  modality: opt(Str),
  body_part: opt(Str),
  plane: opt(Str),
  split: opt(Str),
  case_id: opt(Str),
  labels: opt(Type.Array(Str)),
});
const DicomIdsSchema = Type.Object({ studyUid: opt(Str), seriesUid: opt(Str), sopUid: opt(Str) });

/** One search hit. DICOM UIDs appear only when asked for (`showPhi`). */
export const IndexHitSchema = Type.Object({
  kind: Type.Union([Type.Literal('image'), Type.Literal('text')]),
  path: Str,
  field: opt(Str),
  text: opt(Str),
  similarity: Num,
  hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  metadata: MetadataSchema,
  texts: Type.Record(Str, Str),
  dicom: opt(DicomIdsSchema),
});

/** `medvlm search --json`. */
export const SearchOutputSchema = Type.Object(
  {
    notice: Str,
    index: Str,
    model: Str,
    query: Type.Object({ text: opt(Str), image: opt(Str) }),
    target: Type.Union([Type.Literal('image'), Type.Literal('text')]),
    exact: Type.Boolean(),
    hits: Type.Array(IndexHitSchema),
  },
  { $id: 'SearchOutput' },
);

const SourceSchema = Type.Object({ path: Str, caseId: opt(Str), field: Str });

/** `medvlm draft-report --json`. */
export const DraftOutputSchema = Type.Object(
  {
    model: Str,
    notice: Str,
    image: Str,
    text: Str,
    sentences: Type.Array(Type.Object({ text: Str, source: SourceSchema, caseSimilarity: Num, sentenceSimilarity: Num, score: Num })),
    dropped: Type.Array(Type.Object({ text: Str, source: SourceSchema, reason: Type.Union([Type.Literal('near-duplicate'), Type.Literal('contradiction')]), keptInstead: Str })),
    neighbours: Type.Array(Type.Object({ path: Str, caseId: opt(Str), similarity: Num })),
  },
  { $id: 'DraftOutput' },
);

/** `medvlm ask --json`. */
export const AskOutputSchema = Type.Object(
  {
    model: Str,
    notice: Str,
    image: Str,
    question: Str,
    kind: Type.Union([Type.Literal('yes/no'), Type.Literal('either/or'), Type.Literal('choices')]),
    answer: Str,
    candidates: Type.Array(Type.Object({ label: Str, score: Num, statements: Type.Array(Str) })),
  },
  { $id: 'AskOutput' },
);

/** Every result schema by name (the server's OpenAPI components use these names). */
const Int = Type.Integer({ minimum: 0 });
const ViewWindow = Type.Object({ center: Num, width: Num, source: Str }, { additionalProperties: false, description: 'the one window every slice was viewed with' });
const VolumeFields = {
  dims: opt(Type.Array(Int, { minItems: 3, maxItems: 3, description: '--all-slices: the input\'s voxel grid [nx, ny, nz]' })),
  slices: opt(Int),
  shownSlice: opt(Type.Integer({ minimum: 0, description: 'the slice the PNGs show' })),
  window: opt(ViewWindow),
};

/** `medvlm map --json`: the files written for one input (paths), with the map's range. */
export const MapFileResultSchema = Type.Object(
  {
    file: Str, text: Str, model: Str, method: Type.Union([Type.Literal('patch'), Type.Literal('windows'), Type.Literal('both')]),
    width: opt(Int), height: opt(Int), imageSimilarity: opt(Num),
    mapRange: Type.Array(Num, { minItems: 2, maxItems: 2, description: 'cosine similarity: smallest and largest value' }),
    out: Str, overlay: Str, ...VolumeFields, researchNotice: Str,
  },
  { $id: 'MapFileResult', additionalProperties: false },
);

/** One row of `medvlm segment --json`: the files written for one input (paths) and how the mask was made. */
export const SegmentFileResultSchema = Type.Object(
  {
    file: Str,
    route: Type.Union([Type.Literal('text-segmenter'), Type.Literal('map-to-promptable')]),
    model: Str, segmenter: opt(Str), text: Str, threshold: Num,
    mask: Type.String({ description: '0/255 grey PNG at the input size (the shown slice with --all-slices)' }),
    maskArray: opt(Type.String({ description: 'the mask as uint8 NPY or NIfTI (--format npy|nii|nii.gz, --all-slices)' })),
    probability: Str, overlay: Str, maskPixels: Int, dicomSeg: opt(Str), width: opt(Int), height: opt(Int),
    ...VolumeFields, skippedSlices: opt(Type.Array(Int)),
    mapMethod: opt(Str), prompt: opt(Type.Unknown({ description: 'map-to-promptable: the box and points derived from the map' })),
    used: opt(Type.Unknown({ description: 'map-to-promptable: the part of the prompt the segmenter took' })), score: opt(Num), notes: opt(Type.Array(Str)),
    researchNotice: Str,
  },
  { $id: 'SegmentFileResult', additionalProperties: false },
);

/** `medvlm segment --json`: one entry per input. */
export const SegmentOutputSchema = Type.Array(Type.Union([SegmentFileResultSchema, FileErrorSchema]), { $id: 'SegmentOutput' });

/** One row of `medvlm anomaly --json`: `{file, score}`, higher = more anomalous; with `--all-slices` also the slices' scores. */
export const AnomalyResultSchema = Type.Object(
  {
    file: Str,
    score: Type.Number({ description: 'higher = more anomalous; with --all-slices the highest slice score' }),
    slices: opt(Int),
    peakSlice: opt(Type.Integer({ minimum: 0, description: '--all-slices: the highest-scoring slice, which the PNGs show' })),
    sliceScores: opt(Type.Array(Num, { description: '--all-slices: the score of each slice along the plane\'s normal' })),
    window: opt(ViewWindow),
    map: opt(Type.String({ description: '--all-slices with --maps: the float32 anomaly map in the input\'s voxel grid and affine' })),
  },
  { $id: 'AnomalyResult', additionalProperties: false },
);

/** `medvlm anomaly --json`: one entry per input. */
export const AnomalyOutputSchema = Type.Array(Type.Union([AnomalyResultSchema, FileErrorSchema]), { $id: 'AnomalyOutput' });

export const RESULT_SCHEMAS = {
  ErrorBody,
  FileError: FileErrorSchema,
  LabelScore: LabelScoreSchema,
  Labels: LabelsSchema,
  ClassifyResult: ClassifyResultSchema,
  ClassifyOutput: ClassifyOutputSchema,
  EmbeddingRow: EmbeddingRowSchema,
  InspectResult: InspectResultSchema,
  SearchOutput: SearchOutputSchema,
  DraftOutput: DraftOutputSchema,
  AskOutput: AskOutputSchema,
  DenseMapResult: DenseMapResultSchema,
  DenseSegmentResult: DenseSegmentResultSchema,
  MapFileResult: MapFileResultSchema,
  SegmentFileResult: SegmentFileResultSchema,
  SegmentOutput: SegmentOutputSchema,
  AnomalyResult: AnomalyResultSchema,
  AnomalyOutput: AnomalyOutputSchema,
} as const;

/** A result schema's name. */
export type ResultSchemaName = keyof typeof RESULT_SCHEMAS;

/** The TypeScript type of a result schema. */
export type ResultOf<N extends ResultSchemaName> = Static<(typeof RESULT_SCHEMAS)[N]>;
