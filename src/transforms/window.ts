/**
 * Display windowing: which window to use (from the file, a preset, explicit C/W, percentiles) and
 * applying it with DICOM's linear VOI function (PS3.3 C.11.2.1.2.1).
 */
import { OptionError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { MedicalImage, Window } from '../io/types.js';
import { WINDOW_PRESETS, isWindowPreset, type WindowPresetName } from './presets.js';

/** How to choose a display window. */
export type WindowSpec =
  | { kind: 'file' }
  | { kind: 'preset'; name: WindowPresetName }
  | { kind: 'explicit'; center: number; width: number }
  | { kind: 'percentile'; low: number; high: number }
  | { kind: 'auto' };

/** Percentiles used by `auto` when the file has no window and the data are not 8-bit. */
export const AUTO_PERCENTILES = { low: 0.5, high: 99.5 } as const;

/** Above this many samples, percentiles are estimated from an evenly strided subsample of this size. */
const PERCENTILE_SAMPLE_LIMIT = 4_000_000;

const NUMBER = '[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:e[-+]?\\d+)?';
const CW = new RegExp(`^(${NUMBER})\\s*,\\s*(${NUMBER})$`, 'i');
const PCT = new RegExp(`^p\\s*(${NUMBER})\\s*,\\s*p?\\s*(${NUMBER})$`, 'i');

function badWindow(text: string, why: string): OptionError {
  return new OptionError('E_BAD_OPTION', `window ${text}: ${why}`, { option: 'window' });
}

/**
 * Parse a `--window` value: `file`, `auto`, a preset name (see presets.ts), `C,W` (e.g.
 * `-600,1500`) or `pLOW,HIGH` percentiles (e.g. `p1,99`).
 *
 * @throws OptionError E_BAD_OPTION for anything else (with a "did you mean" suggestion), a width
 *   below 1, or percentiles outside 0 <= low < high <= 100
 */
export function parseWindowOption(s: string): WindowSpec {
  const text = s.trim();
  const lower = text.toLowerCase();
  if (lower === 'auto') return { kind: 'auto' };
  if (lower === 'file') return { kind: 'file' };
  if (isWindowPreset(lower)) return { kind: 'preset', name: lower };
  const pct = PCT.exec(text);
  if (pct) {
    const low = Number(pct[1]);
    const high = Number(pct[2]);
    if (!(low >= 0 && high <= 100 && low < high)) {
      throw badWindow(text, `percentiles must satisfy 0 <= low < high <= 100 (got ${low} and ${high})`);
    }
    return { kind: 'percentile', low, high };
  }
  const cw = CW.exec(text);
  if (cw) {
    const center = Number(cw[1]);
    const width = Number(cw[2]);
    if (!(width >= 1)) throw badWindow(text, `window width must be at least 1 (got ${width}); the form is CENTER,WIDTH`);
    return { kind: 'explicit', center, width };
  }
  const names = ['auto', 'file', ...Object.keys(WINDOW_PRESETS)];
  throw badWindow(
    text,
    `unknown window${didYouMean(lower, names)}; expected auto, file, a preset (${Object.keys(WINDOW_PRESETS).join(', ')}), ` +
      'CENTER,WIDTH (e.g. -600,1500) or pLOW,HIGH percentiles (e.g. p1,99)',
  );
}

/**
 * The window that maps `lo` to 0 and `hi` to 1 under the DICOM linear function:
 * width = hi - lo + 1, center = (lo + hi) / 2 + 0.5. When hi <= lo, a step at lo (width 1).
 */
export function windowFromRange(lo: number, hi: number, source: string): Window {
  if (!(hi > lo)) return { center: lo + 0.5, width: 1, source };
  return { center: (lo + hi) / 2 + 0.5, width: hi - lo + 1, source };
}

/**
 * True when the image holds plain 8-bit samples (0..255 without rescaling): raster with bitDepth 8,
 * DICOM with BitsStored 8, unsigned and identity rescale, NIfTI uint8/rgb24 without scaling.
 */
export function isEightBit(img: MedicalImage): boolean {
  const m = img.meta;
  switch (img.format) {
    case 'png':
    case 'jpeg':
    case 'tiff':
    case 'webp':
      return m.bitDepth === 8;
    case 'dicom':
      return (
        m.bitsStored === 8 &&
        m.pixelRepresentation !== 1 &&
        (m.rescaleSlope === undefined || m.rescaleSlope === 1) &&
        (m.rescaleIntercept === undefined || m.rescaleIntercept === 0)
      );
    case 'nifti': {
      if (m.datatype === 'rgb24') return true;
      if (m.datatype !== 'uint8') return false;
      const slope = m.sclSlope as number;
      const inter = m.sclInter as number;
      return slope === 0 || !Number.isFinite(slope) || (slope === 1 && inter === 0);
    }
    default:
      return false;
  }
}

/**
 * Percentiles of the finite values in `data` (numpy's default linear interpolation), `ps` in 0..100.
 * Large inputs are subsampled evenly (see PERCENTILE_SAMPLE_LIMIT).
 */
export function percentiles(data: ArrayLike<number>, ps: number[]): number[] {
  const step = Math.max(1, Math.ceil(data.length / PERCENTILE_SAMPLE_LIMIT));
  const vals = new Float64Array(Math.ceil(data.length / step));
  let n = 0;
  for (let i = 0; i < data.length; i += step) {
    const v = data[i];
    if (Number.isFinite(v)) vals[n++] = v;
  }
  if (n === 0) return ps.map(() => NaN);
  const sorted = vals.subarray(0, n).sort();
  return ps.map((p) => {
    const pos = (p / 100) * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  });
}

/**
 * Turn a window choice into a centre/width for this (2D) image.
 *
 * `auto`: the file's first window if it has one; else the identity 0..255 window for 8-bit data
 * (centre 128, width 256); else percentiles 0.5-99.5 over `img` (call it on the selected slice).
 *
 * @throws OptionError E_BAD_OPTION for `file` when the file stores no window
 */
export function resolveWindow(img: MedicalImage, spec: WindowSpec): Window {
  switch (spec.kind) {
    case 'explicit':
      return { center: spec.center, width: spec.width, source: 'explicit' };
    case 'preset': {
      const p = WINDOW_PRESETS[spec.name];
      return { center: p.center, width: p.width, source: `preset:${spec.name}` };
    }
    case 'file':
      if (img.windows.length > 0) return img.windows[0];
      throw new OptionError('E_BAD_OPTION', `${img.source}: window "file" asked for, but the file stores no window; use auto, a preset, CENTER,WIDTH or pLOW,HIGH`, {
        file: img.source,
        option: 'window',
      });
    case 'percentile': {
      const [lo, hi] = percentiles(img.data, [spec.low, spec.high]);
      return windowFromRange(lo, hi, `percentile ${spec.low}-${spec.high}`);
    }
    case 'auto': {
      if (img.windows.length > 0) return img.windows[0];
      if (isEightBit(img)) return windowFromRange(0, 255, 'identity 0-255');
      const [lo, hi] = percentiles(img.data, [AUTO_PERCENTILES.low, AUTO_PERCENTILES.high]);
      return windowFromRange(lo, hi, `percentile ${AUTO_PERCENTILES.low}-${AUTO_PERCENTILES.high}`);
    }
  }
}

/**
 * Apply a window to every sample of `img` with DICOM's linear function (PS3.3 C.11.2.1.2.1),
 * output range 0..1:
 *   x <= c - 0.5 - (w - 1) / 2  → 0
 *   x >  c - 0.5 + (w - 1) / 2  → 1
 *   else ((x - (c - 0.5)) / (w - 1) + 0.5)
 * A width of 1 or less is a step at c - 0.5. Non-finite samples give 0.
 */
export function applyWindow(img: MedicalImage, window: Window): Float32Array {
  return applyWindowToValues(img.data, window);
}

/** {@link applyWindow} on a bare array of samples. */
export function applyWindowToValues(values: ArrayLike<number>, window: Window): Float32Array {
  const c = window.center;
  const w = window.width;
  const out = new Float32Array(values.length);
  const step = !(w > 1);
  const low = step ? c - 0.5 : c - 0.5 - (w - 1) / 2;
  const high = step ? c - 0.5 : c - 0.5 + (w - 1) / 2;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x) || x <= low) out[i] = 0;
    else if (x > high) out[i] = 1;
    else out[i] = step ? 1 : (x - (c - 0.5)) / (w - 1) + 0.5;
  }
  return out;
}

/** MONOCHROME1 display: 1 - v for every value (applied after windowing). */
export function invert(values01: Float32Array): Float32Array {
  const out = new Float32Array(values01.length);
  for (let i = 0; i < values01.length; i++) out[i] = 1 - values01[i];
  return out;
}
