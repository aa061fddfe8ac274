/**
 * The one image type every reader produces and every transform consumes.
 *
 * Pixel values are in physical units where the format defines them: CT in Hounsfield units after the
 * DICOM modality LUT (rescale slope/intercept), NIfTI after scl_slope/scl_inter. Colour images are RGB
 * (YBR and PALETTE COLOR are converted by the reader). Display decisions (windowing, MONOCHROME1
 * inversion) are *not* applied by readers: they are explicit transforms.
 */

/** File formats medvlm reads. */
export type ImageFormat = 'dicom' | 'nifti' | 'png' | 'jpeg' | 'tiff' | 'webp';

/** A display window (centre/width), as in DICOM's VOI LUT. */
export interface Window {
  center: number;
  width: number;
  /** Where it came from, e.g. "WindowCenter/Width", "preset:lung", "percentile 0.5-99.5". */
  source?: string;
}

/**
 * A decoded image or volume.
 *
 * Layout of `data`: `[t][z][y][x][c]` with `c` fastest, i.e. index =
 * `(((t * depth + z) * height + y) * width + x) * channels + c`.
 * - 2D raster: depth = 1, timepoints = 1.
 * - DICOM: z = frame (multi-frame), y = row, x = column.
 * - NIfTI: x = i (dim[1]), y = j (dim[2]), z = k (dim[3]), t = dim[4].
 */
export interface MedicalImage {
  /** Path (or name) the image was read from; used in every error message. */
  source: string;
  format: ImageFormat;
  data: Float32Array;
  width: number;
  height: number;
  depth: number;
  timepoints: number;
  channels: 1 | 3;
  /** The format's natural shape: DICOM [frames, rows, columns(, samples)], NIfTI [i, j, k(, t)], raster [height, width(, channels)]. */
  shape: number[];
  /** Physical size of a voxel/pixel along x, y, z in mm (DICOM: column spacing, row spacing, slice). */
  spacing: [number, number, number];
  /** Position of the first voxel in patient/world coordinates (mm), when known. */
  origin?: [number, number, number];
  /** Row-major 3x3 direction cosines (columns = voxel axes x, y, z), when known. */
  direction?: number[];
  /** Anatomical axis codes of the voxel axes, e.g. "RAS" (NIfTI) or undefined. */
  orientation?: string;
  /** DICOM modality (CT, MR, CR, DX, US, ...) or undefined. */
  modality?: string;
  /** Photometric interpretation as stored in the file (before any conversion). */
  photometric: string;
  /** True when smaller values should display brighter (DICOM MONOCHROME1). */
  invertForDisplay: boolean;
  /** Windows stored in the file (DICOM VOI LUT), first one is the default. */
  windows: Window[];
  /** Format-specific facts safe to print (transfer syntax, bits, NIfTI version, ...). */
  meta: Record<string, unknown>;
  /** Patient identifiers (name, id, birth date, ...): never printed unless the user asks (--show-phi). */
  phi: Record<string, string>;
}

/** Index of a sample in `MedicalImage.data`. */
export function sampleIndex(img: MedicalImage, x: number, y: number, z = 0, t = 0, c = 0): number {
  return (((t * img.depth + z) * img.height + y) * img.width + x) * img.channels + c;
}

/** An RGB 8-bit image: the view a model's own preprocessing (resize, crop, normalise) starts from. */
export interface RGBImage {
  /** Interleaved RGB, length width*height*3. */
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}
