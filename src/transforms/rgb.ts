/** Conversion of display values (0..1) to the 8-bit RGB images models take. */
import { MedvlmError } from '../core/errors.js';
import type { RGBImage } from '../io/types.js';

/**
 * Display values in [0, 1] to interleaved 8-bit RGB: `round(v * 255)` (Math.round, so halves go
 * up: 0.5 → 128), values clamped to [0, 1] first, NaN → 0. Grey (channels 1) is replicated to R, G, B.
 *
 * @throws MedvlmError E_INTERNAL when `values01.length` is not width * height * channels
 */
export function toRGB8(values01: ArrayLike<number>, width: number, height: number, channels: 1 | 3): RGBImage {
  const n = width * height;
  if (values01.length !== n * channels) {
    throw new MedvlmError(
      'E_INTERNAL',
      `toRGB8: ${values01.length} values do not make a ${width}x${height} image with ${channels} channel(s)`,
    );
  }
  const data = new Uint8ClampedArray(n * 3);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) {
      const v = values01[channels === 1 ? p : p * 3 + c];
      data[p * 3 + c] = v > 0 ? Math.round((v < 1 ? v : 1) * 255) : 0;
    }
  }
  return { data, width, height };
}
