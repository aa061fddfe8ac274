import { decodeInput, type ImageInput } from '../io/image-input.js';
import type { MedicalImage, Window } from '../io/types.js';

/** What `medvlm inspect` reports about one file (plain JSON). */
export interface InspectResult {
  file: string;
  format: MedicalImage['format'];
  /** The format's natural order: DICOM [frames, rows, columns(, samples)], NIfTI [i, j, k(, t)], raster [height, width(, channels)]. */
  shape: number[];
  rows: number;
  columns: number;
  /** DICOM frames, NIfTI slices along k, 1 for raster. */
  frames: number;
  /** NIfTI volumes (4th dimension); 1 otherwise. */
  timepoints: number;
  samplesPerPixel: number;
  photometric: string;
  transferSyntax?: string;
  transferSyntaxUID?: string;
  spacing: number[];
  orientation?: string;
  modality?: string;
  /** Over every sample of every frame (every voxel for NIfTI), in physical units. */
  values: { min: number; max: number; mean: number };
  windows: Window[];
  invertForDisplay: boolean;
  meta: Record<string, unknown>;
  /** Only with `showPhi`. */
  phi?: Record<string, string>;
}

/** Min, max and mean of every sample (mean accumulated in float64). */
export function valueStats(data: Float32Array): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return data.length ? { min, max, mean: sum / data.length } : { min: NaN, max: NaN, mean: NaN };
}

/** Describe an image that is already read. Patient identifiers only with `showPhi`. */
export function describeImage(img: MedicalImage, opts: { showPhi?: boolean } = {}): InspectResult {
  const meta = img.meta;
  return {
    file: img.source,
    format: img.format,
    shape: img.shape,
    rows: img.height,
    columns: img.width,
    frames: img.depth,
    timepoints: img.timepoints,
    samplesPerPixel: img.channels,
    photometric: img.photometric,
    ...(typeof meta.transferSyntax === 'string' ? { transferSyntax: meta.transferSyntax } : {}),
    ...(typeof meta.transferSyntaxUID === 'string' ? { transferSyntaxUID: meta.transferSyntaxUID } : {}),
    spacing: img.spacing,
    ...(img.orientation ? { orientation: img.orientation } : {}),
    ...(img.modality ? { modality: img.modality } : {}),
    values: valueStats(img.data),
    windows: img.windows,
    invertForDisplay: img.invertForDisplay,
    meta,
    ...(opts.showPhi ? { phi: img.phi } : {}),
  };
}

/** Read and describe one image (path, URL, bytes or decoded image). */
export async function inspectImage(input: ImageInput, opts: { showPhi?: boolean } = {}): Promise<InspectResult> {
  return describeImage((await decodeInput(input)).image, opts);
}
