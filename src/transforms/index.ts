/** Pure display transforms: slice/frame selection, windowing, inversion, RGB conversion. */
export { selectSlice, type Plane, type SliceInfo, type SliceOptions } from './slice.js';
export { WINDOW_PRESETS, isWindowPreset, type WindowPresetName } from './presets.js';
export {
  AUTO_PERCENTILES,
  applyWindow,
  applyWindowToValues,
  invert,
  isEightBit,
  parseWindowOption,
  percentiles,
  resolveWindow,
  windowFromRange,
  type WindowSpec,
} from './window.js';
export { toRGB8 } from './rgb.js';
export { toModelView, toModelViewDetailed, type ModelViewDetails, type ViewOptions } from './view.js';
