/** The one path from a decoded image to the 2D RGB image a model's own preprocessing receives. */
import type { MedicalImage } from '../io/types.js';
import type { RGBImage } from '../io/types.js';
import { toRGB8 } from './rgb.js';
import { selectSlice, type SliceOptions } from './slice.js';
import { applyWindow, invert, resolveWindow, type WindowSpec } from './window.js';

/** How an image becomes the model's view: which slice/frame, which window. */
export interface ViewOptions extends SliceOptions {
  /** Display window (default `auto`: the file's window, identity for 8-bit data, else percentiles 0.5-99.5). */
  window?: WindowSpec;
}

/** A model view plus the decisions made on the way (for reports and `inspect`). */
export interface ModelViewDetails {
  rgb: RGBImage;
  slice: MedicalImage;
  window: NonNullable<MedicalImage['windows'][number]>;
  inverted: boolean;
}

/**
 * selectSlice → resolveWindow → applyWindow → invert (MONOCHROME1 only) → toRGB8, with the
 * decisions returned alongside the image.
 */
export function toModelViewDetailed(img: MedicalImage, opts: ViewOptions = {}): ModelViewDetails {
  const slice = selectSlice(img, opts);
  const window = resolveWindow(slice, opts.window ?? { kind: 'auto' });
  let values = applyWindow(slice, window);
  if (slice.invertForDisplay) values = invert(values);
  return { rgb: toRGB8(values, slice.width, slice.height, slice.channels), slice, window, inverted: slice.invertForDisplay };
}

/**
 * The 2D 8-bit RGB view of `img` every model receives before its own resize/normalise:
 * selectSlice → window → invert (MONOCHROME1) → RGB8. For 8-bit colour images the default window
 * (`auto`) is the identity, so their pixels pass through unchanged.
 */
export function toModelView(img: MedicalImage, opts: ViewOptions = {}): RGBImage {
  return toModelViewDetailed(img, opts).rgb;
}
