/**
 * Choosing the 2D image a model sees from a volume, a time series or a multi-frame file.
 *
 * Two ways, decided by the image:
 * - NIfTI (and any image with known axis codes when a `plane` is asked for): an anatomical plane.
 *   The plane's normal is the voxel axis closest to S/I (axial), A/P (coronal) or L/R (sagittal),
 *   from `img.orientation` (nibabel-style axis codes). The 2D result is shown in the radiological
 *   convention most viewers use: axial with anterior up and the patient's left on the image right;
 *   coronal with superior up and the patient's left on the image right; sagittal with superior up
 *   and anterior on the image left. Default plane: axial (for a single-slice NIfTI, the plane of that
 *   slice); default index: the middle slice, `floor(n / 2)`.
 * - Everything else (DICOM, raster): frame `frame ?? index`, default the middle frame
 *   `floor(frames / 2)`; pixels keep the file's own row/column order.
 * `volume` picks the timepoint of a 4D image (default 0).
 */
import { OptionError } from '../core/errors.js';
import type { MedicalImage } from '../io/types.js';

/** Anatomical plane names. */
export type Plane = 'axial' | 'coronal' | 'sagittal';

/** Which slice/frame/volume to take. */
export interface SliceOptions {
  /** Frame of a multi-frame image (DICOM); same as `index` for non-anatomical slicing. */
  frame?: number;
  /** Anatomical plane (NIfTI or any image with axis codes). */
  plane?: Plane;
  /** Slice index along the plane's normal (in voxel order), or frame index. */
  index?: number;
  /** Timepoint of a 4D image. */
  volume?: number;
}

/** What `selectSlice` records in `meta.slice` of its result. */
export interface SliceInfo {
  plane?: Plane;
  /** Index along the normal (anatomical) or frame index. */
  index: number;
  volume: number;
  /** Voxel axis (0 = x/i, 1 = y/j, 2 = z/k) along the normal, and the ones shown as columns/rows. */
  normalAxis: number;
  columnAxis: number;
  rowAxis: number;
  /** Whether the column/row voxel axis was reversed for display. */
  flipColumns: boolean;
  flipRows: boolean;
}

const PAIRS = ['RL', 'AP', 'SI'] as const;
/** Per plane: the world pair of the normal, and the wanted direction of display columns and rows. */
const PLANES: Record<Plane, { normal: string; column: string; row: string }> = {
  axial: { normal: 'SI', column: 'L', row: 'P' },
  coronal: { normal: 'AP', column: 'L', row: 'I' },
  sagittal: { normal: 'RL', column: 'P', row: 'I' },
};

/** Axis codes of the voxel axes, "RAS" when unknown or incomplete. */
function axisCodes(img: MedicalImage): string {
  const o = img.orientation?.toUpperCase();
  if (o && o.length === 3 && PAIRS.every((p) => [...o].filter((ch) => p.includes(ch)).length === 1)) return o;
  return 'RAS';
}

function pairOf(code: string): string {
  return PAIRS.find((p) => p.includes(code)) ?? '';
}

function opposite(code: string): string {
  const p = pairOf(code);
  return p[0] === code ? p[1] : p[0];
}

function checkIndex(img: MedicalImage, what: string, value: number, count: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= count) {
    throw new OptionError('E_BAD_OPTION', `${img.source}: ${what} ${value} is out of range (valid: 0..${count - 1}, ${count} in all)`, {
      file: img.source,
      option: what.endsWith('slice') ? 'slice' : what,
    });
  }
}

/**
 * Take one 2D image (depth 1, timepoints 1) out of `img`; see the module comment for the rules.
 *
 * @throws OptionError E_BAD_OPTION when an index/frame/volume is out of range (the message names
 *   the valid range) or a plane is asked of an image without orientation
 */
export function selectSlice(img: MedicalImage, opts: SliceOptions = {}): MedicalImage {
  const volume = opts.volume ?? 0;
  checkIndex(img, 'volume', volume, img.timepoints);
  const anatomical = opts.plane !== undefined || img.format === 'nifti';
  if (anatomical) {
    if (img.format !== 'nifti' && !img.orientation) {
      throw new OptionError('E_BAD_OPTION', `${img.source}: has no anatomical orientation, so a plane cannot be chosen; choose a frame instead`, {
        file: img.source,
        option: 'plane',
      });
    }
    return anatomicalSlice(img, opts, volume);
  }
  return frameSlice(img, opts, volume);
}

function frameSlice(img: MedicalImage, opts: SliceOptions, volume: number): MedicalImage {
  const index = opts.frame ?? opts.index ?? Math.floor(img.depth / 2);
  checkIndex(img, 'frame', index, img.depth);
  if (img.depth === 1 && img.timepoints === 1) return img;
  const size = img.width * img.height * img.channels;
  const start = (volume * img.depth + index) * size;
  const info: SliceInfo = {
    index,
    volume,
    normalAxis: 2,
    columnAxis: 0,
    rowAxis: 1,
    flipColumns: false,
    flipRows: false,
  };
  return {
    ...img,
    data: img.data.slice(start, start + size),
    depth: 1,
    timepoints: 1,
    shape: img.channels === 1 ? [img.height, img.width] : [img.height, img.width, 3],
    origin: index === 0 ? img.origin : undefined,
    meta: { ...img.meta, slice: info },
  };
}

function anatomicalSlice(img: MedicalImage, opts: SliceOptions, volume: number): MedicalImage {
  const codes = axisCodes(img);
  const dims = [img.width, img.height, img.depth];
  const plane: Plane =
    opts.plane ??
    (img.depth === 1
      ? ((Object.keys(PLANES) as Plane[]).find((p) => PLANES[p].normal === pairOf(codes[2])) ?? 'axial')
      : 'axial');
  const want = PLANES[plane];
  const normalAxis = [0, 1, 2].find((a) => want.normal.includes(codes[a])) ?? 2;
  const inPlane = [0, 1, 2].filter((a) => a !== normalAxis);
  const columnAxis = inPlane.find((a) => pairOf(codes[a]) === pairOf(want.column)) ?? inPlane[0];
  const rowAxis = inPlane.find((a) => a !== columnAxis) ?? inPlane[1];
  const flipColumns = codes[columnAxis] !== want.column;
  const flipRows = codes[rowAxis] !== want.row;

  const count = dims[normalAxis];
  const index = opts.index ?? opts.frame ?? Math.floor(count / 2);
  checkIndex(img, `${plane} slice`, index, count);

  const ch = img.channels;
  const stride = [ch, img.width * ch, img.width * img.height * ch];
  const W = dims[columnAxis];
  const H = dims[rowAxis];
  const out = new Float32Array(W * H * ch);
  const base = volume * img.width * img.height * img.depth * ch + index * stride[normalAxis];
  const sc = stride[columnAxis];
  const sr = stride[rowAxis];
  for (let r = 0; r < H; r++) {
    const rowBase = base + (flipRows ? H - 1 - r : r) * sr;
    for (let c = 0; c < W; c++) {
      const src = rowBase + (flipColumns ? W - 1 - c : c) * sc;
      const dst = (r * W + c) * ch;
      for (let k = 0; k < ch; k++) out[dst + k] = img.data[src + k];
    }
  }

  const info: SliceInfo = { plane, index, volume, normalAxis, columnAxis, rowAxis, flipColumns, flipRows };
  const displayCodes =
    (flipColumns ? opposite(codes[columnAxis]) : codes[columnAxis]) +
    (flipRows ? opposite(codes[rowAxis]) : codes[rowAxis]) +
    codes[normalAxis];
  return {
    ...img,
    data: out,
    width: W,
    height: H,
    depth: 1,
    timepoints: 1,
    shape: ch === 1 ? [H, W] : [H, W, 3],
    spacing: [img.spacing[columnAxis], img.spacing[rowAxis], img.spacing[normalAxis]],
    ...sliceGeometry(img, info, dims),
    orientation: displayCodes,
    meta: { ...img.meta, slice: info },
  };
}

/** World origin of display pixel (0, 0) and the display axes' direction cosines. */
function sliceGeometry(
  img: MedicalImage,
  s: SliceInfo,
  dims: number[],
): { origin?: [number, number, number]; direction?: number[] } {
  if (!img.origin || !img.direction || img.direction.length !== 9) return { origin: undefined, direction: undefined };
  const d = img.direction;
  const col = (a: number): number[] => [d[a], d[3 + a], d[6 + a]];
  const first = [0, 0, 0];
  first[s.normalAxis] = s.index;
  first[s.columnAxis] = s.flipColumns ? dims[s.columnAxis] - 1 : 0;
  first[s.rowAxis] = s.flipRows ? dims[s.rowAxis] - 1 : 0;
  const origin = [0, 1, 2].map(
    (w) => img.origin![w] + [0, 1, 2].reduce((acc, a) => acc + first[a] * img.spacing[a] * col(a)[w], 0),
  ) as [number, number, number];
  const x = col(s.columnAxis).map((v) => (s.flipColumns ? -v : v));
  const y = col(s.rowAxis).map((v) => (s.flipRows ? -v : v));
  const z = col(s.normalAxis);
  return { origin, direction: [x[0], y[0], z[0], x[1], y[1], z[1], x[2], y[2], z[2]] };
}
