/** Safety limits checked before any large allocation. */
export const LIMITS = {
  /** Largest number of pixels in one frame/slice (rows*columns). 16384² covers any real radiograph or slide tile. */
  maxPixelsPerFrame: 16384 * 16384,
  /** Largest total number of samples (pixels * frames * samplesPerPixel) decoded into memory. */
  maxTotalSamples: 2_000_000_000 / 4,
} as const;
