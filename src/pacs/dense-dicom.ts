/**
 * Dense results of a DICOM input as DICOM objects: a mask as a Segmentation, a map as a Parametric Map,
 * both on the frame the model saw (a multi-frame input: the frame the view took, `--frame` or the middle
 * one; the derived object references that frame). Inputs that are not DICOM, or a DICOM view resliced
 * along an anatomical plane (not one stored frame), get E_NOT_DICOM naming the file.
 */
import { InputError } from '../core/errors.js';
import type { FloatMap } from '../io/dense-write.js';
import type { DenseInput } from '../tasks/dense-input.js';
import type { DerivedInstance, SourceFrame } from './derived-image.js';
import { readSourceFrame } from './derived-image.js';
import { buildParametricMap, type MapQuantity } from './parametric-map.js';
import { buildSegmentation } from './seg.js';

interface SliceMeta {
  index: number;
  normalAxis: number;
  flipColumns: boolean;
  flipRows: boolean;
  plane?: string;
}

/**
 * The stored source frame `input`'s view shows, read from the input's bytes.
 * @throws InputError E_NOT_DICOM when the input is not DICOM or its view is not one stored frame
 */
export function sourceFrameOf(input: DenseInput, bytes: Uint8Array, what: string): SourceFrame {
  if (input.image.format !== 'dicom') {
    throw new InputError('E_NOT_DICOM', `${input.file}: a ${what} can only be made of a DICOM input (this is ${input.image.format})`, { file: input.file });
  }
  const s = input.slice.meta.slice as SliceMeta | undefined;
  if (s && (s.plane !== undefined || s.normalAxis !== 2 || s.flipColumns || s.flipRows)) {
    throw new InputError('E_NOT_DICOM', `${input.file}: a ${what} is written for a stored frame; the view was resliced along the ${s.plane ?? 'chosen'} plane (drop --plane)`, { file: input.file });
  }
  const src = readSourceFrame(bytes, s?.index ?? 0, input.file);
  if (src.rows !== input.slice.height || src.columns !== input.slice.width) {
    throw new InputError('E_NOT_DICOM', `${input.file}: the decoded frame is ${input.slice.width}x${input.slice.height} but the file says ${src.columns}x${src.rows}`, { file: input.file });
  }
  return src;
}

/** The mask (0/1 over the input's view) as a DICOM Segmentation of the analysed frame. */
export function segmentationOf(input: DenseInput, bytes: Uint8Array, mask: FloatMap, o: { label: string; model: { id: string; fileHashes: Record<string, string> }; threshold: number; now?: Date }): DerivedInstance {
  return buildSegmentation({ source: sourceFrameOf(input, bytes, 'DICOM Segmentation'), mask, ...o });
}

/** The map (over the input's view) as a DICOM Parametric Map of the analysed frame. */
export function parametricMapOf(input: DenseInput, bytes: Uint8Array, map: FloatMap, o: { text: string; model: string; quantity: MapQuantity; now?: Date }): DerivedInstance {
  return buildParametricMap({ source: sourceFrameOf(input, bytes, 'DICOM Parametric Map'), map, ...o });
}
